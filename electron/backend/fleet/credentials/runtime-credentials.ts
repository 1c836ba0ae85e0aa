import { createHash } from 'node:crypto';
import type { SetAccessStateRequest } from '../../../../agents-runtime/src/wire';
import type { Operator } from '../../../contract';
import { generateTokenSigningKey, signAccessToken, type TokenSigningKey } from '../../pki/access-tokens';
import type { SecretVault } from '../../secrets/secret-vault';
import type { InstallHostRow, InstallRow, InstallsRepo } from '../../store/installs-repo';
import { vaultLockedError } from '../install-runtime-access';
import type { LinkTarget } from '../link/link-types';
import type { OidcVerification } from '../../oidc/oidc-settings';
import { credentialNotReadyError, installMissingError, operatorGoneError } from './credential-errors';
import type { RuntimeCredentialsRepo } from './runtime-credentials-repo';

/**
 * What the control center tells an install's runtimes about who may call them, and the
 * tokens it signs for the calls it makes on an operator's behalf (issue 14 item 2).
 *
 * Calls for an operator travel on the link's one shared channel (the control center's own
 * certificate) with that operator's access token as `authorization: Bearer`, with either
 * authentication method. One channel per host however many operators act (a channel per
 * operator would multiply TLS handshakes and the link's liveness and reconnect logic), and
 * the runtime learns the operator on every call, for its role check and audit. The methods
 * differ in what a runtime accepts from elsewhere: with `mtls` also an operator's own
 * client certificate (naming them, revoked by serial when they are removed); with `jwt`
 * nothing without a token but the control center's own certificate.
 */
export const AUTHENTICATION_METHODS = ['mtls', 'jwt', 'oauth2'] as const;
export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];

export interface RuntimeCredentials {
  /** The state to push to the runtime of `target`; makes the install's first token key when there is none and the vault is open. */
  stateFor(target: LinkTarget): SetAccessStateRequest | null;
  /**
   * A one-call token for `operator` on `target`'s runtime. Fails closed: an operator's call
   * never goes as the control center. Refused with OPERATOR_NOT_FOUND (removed or disabled),
   * SECRETS_LOCKED (the key is sealed) or OPERATOR_CREDENTIAL_NOT_READY (the runtime was not
   * pushed the operator and the current key in time). Calls with no operator (the one
   * anonymous admin before operators exist) ask for no token.
   */
  tokenFor(target: LinkTarget, operatorName: string): Promise<string>;
  /** The runtime of `target` holds `version` of its state (its push was answered). */
  pushed(target: LinkTarget, state: SetAccessStateRequest): void;
  /**
   * A new token key for the install; the old one is retired at once and no longer pushed, so
   * runtimes refuse its tokens from the next push (asked for now). No grace period: every
   * token is signed for one call just before it, and a call for an operator waits until its
   * runtime holds the current key (tokenFor).
   */
  rotateKey(installName: string): { keyId: string; retired: number };
  /** Tells `listener` that the state may have changed (operators, keys): links push again. Returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Called by whatever changed operators or keys. */
  changed(): void;
}

export interface RuntimeCredentialsDeps {
  repo: RuntimeCredentialsRepo;
  vault: SecretVault;
  installs: Pick<InstallsRepo, 'findByName' | 'host'>;
  operators: { list(): Operator[] };
  now(): number;
  /** access_control: abac's policy as the runtime of `hostId` judges calls by (access/policy-gate.ts pushedPolicy); '' for rbac. */
  abacPolicy?: (hostId: number) => string;
  /** authentication_method: oauth2: the provider's settings and keys for this host's runtime (oidc/), null before its keys are read. */
  oidc?: (host: InstallHostRow) => OidcVerification | null;
  /**
   * Pushes `target`'s state now and calls `pushed` when answered: a one-shot command's
   * backend, which keeps no links, pushes before it acts for an operator. Absent: the links push.
   */
  pushNow?: (target: LinkTarget) => Promise<void>;
  /** How long a token waits for the links' push; default PUSH_WAIT_MS. */
  pushWaitMs?: number;
}

/**
 * How long a revoked certificate's serial is still pushed after its end (notAfter): a runtime's
 * TLS checks the end by its host's clock, which may run behind the control center's.
 */
export const REVOKED_SERIAL_CLOCK_MARGIN_MS = 24 * 3600_000;

/** How long a token for an operator its runtime does not know yet waits for the push that tells it. */
export const PUSH_WAIT_MS = 15_000;

export function tokenKeyPurpose(installName: string): string {
  return `install-token-key:${installName}`;
}

/** The host's `system_integration.security.authentication_method` as last applied; mtls when unset. */
export function authenticationMethodOf(host: Pick<InstallHostRow, 'config'>): AuthenticationMethod {
  const config = JSON.parse(host.config) as { system_integration?: { security?: { authentication_method?: unknown } } };
  const method = config.system_integration?.security?.authentication_method;
  return method === 'jwt' || method === 'oauth2' ? method : 'mtls';
}

export function createRuntimeCredentials(deps: RuntimeCredentialsDeps): RuntimeCredentials {
  const listeners = new Set<() => void>();
  /** Private keys unsealed once, by key id: signing a token per call must not open the vault each time. */
  const unsealed = new Map<string, Pick<TokenSigningKey, 'keyId' | 'privateKeyPem'>>();
  /** Per host: the key id its runtime was last pushed (answered). */
  const pushedKeys = new Map<number, string>();
  /** Per host: the operators (lower-cased names) its runtime was last pushed, and who waits for the next push. */
  const pushedOperators = new Map<number, Set<string>>();
  const pushWaiters = new Map<number, Set<() => void>>();

  /**
   * A call for an operator goes only once `target`'s runtime holds the key its token is
   * signed with and lists the operator (an operator added a moment ago, or a key rotated,
   * would be refused until the link's next check). So a runtime not ready is pushed now:
   * directly where this process keeps no links (`pushNow`), else by asking the links and
   * waiting for their push, at most `pushWaitMs`. Never ready: refused
   * (OPERATOR_CREDENTIAL_NOT_READY), never sent as the control center.
   */
  async function runtimeReady(target: LinkTarget, name: string, keyId: string): Promise<boolean> {
    const ready = (): boolean =>
      pushedKeys.get(target.hostId) === keyId && pushedOperators.get(target.hostId)?.has(name.toLowerCase()) === true;
    if (ready()) return true;
    if (deps.pushNow) {
      await deps.pushNow(target);
      return ready();
    }
    const hostId = target.hostId;
    await new Promise<void>((resolve) => {
      const waiters = pushWaiters.get(hostId) ?? new Set<() => void>();
      pushWaiters.set(hostId, waiters);
      const done = (): void => {
        if (ready()) finish();
      };
      const timer = setTimeout(finish, deps.pushWaitMs ?? PUSH_WAIT_MS);
      function finish(): void {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
      changed();
    });
    return ready();
  }

  function currentKey(install: InstallRow, create: boolean) {
    const held = deps.repo.currentKey(install.id);
    if (held !== null || !create || !deps.vault.unlocked) return held;
    const key = generateTokenSigningKey();
    const secretId = deps.vault.store(tokenKeyPurpose(install.name), key.privateKeyPem, deps.now());
    unsealed.set(key.keyId, key);
    return deps.repo.addKey({ installId: install.id, keyId: key.keyId, publicKeyPem: key.publicKeyPem, secretId, createdAt: deps.now() });
  }

  const changed = (): void => {
    for (const listener of [...listeners]) listener();
  };

  return {
    stateFor(target) {
      const install = deps.installs.findByName(target.installName);
      const host = install && deps.installs.host(install.id, target.hostId);
      if (!install || !host) return null;
      const key = currentKey(install, true);
      const operators = deps.operators.list();
      const content = {
        install: install.name,
        authenticationMethod: authenticationMethodOf(host),
        revokedCertificateSerials: deps.repo.revokedSerials(install.id, deps.now() - REVOKED_SERIAL_CLOCK_MARGIN_MS),
        revokedSubjects: operators.filter((operator) => operator.disabled).map((operator) => operator.name),
        tokenKeys: key === null ? [] : [{ keyId: key.keyId, publicKeyPem: key.publicKeyPem }],
        operators: operators
          .filter((operator) => !operator.disabled)
          .map((operator) => ({ name: operator.name, role: operator.role, attributesJson: JSON.stringify(operator.attributes) })),
        // A policy file changed is a changed state: its hash gives a new version, pushed at the link's next check.
        abacPolicyYaml: deps.abacPolicy?.(target.hostId) ?? '',
        // A key rotated at the provider is a changed state: a new version, pushed at once.
        ...(authenticationMethodOf(host) === 'oauth2' ? { oidc: deps.oidc?.(host) ?? null } : {}),
      };
      const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
      return { version: String(deps.repo.versionFor(install.id, target.hostId, hash, deps.now())), ...content };
    },
    async tokenFor(target, operatorName) {
      const install = deps.installs.findByName(target.installName);
      const operator = deps.operators.list().find((o) => o.name.toLowerCase() === operatorName.toLowerCase() && !o.disabled);
      if (!install) throw credentialNotReadyError(target, operatorName, `the install ${target.installName} is gone`);
      if (!operator) throw operatorGoneError(operatorName);
      if (!deps.vault.unlocked) throw vaultLockedError(`Acting as ${operator.name} on ${target.hostName}`, 'Then try again.');
      const key = currentKey(install, true)!;
      if (!(await runtimeReady(target, operator.name, key.keyId)))
        throw credentialNotReadyError(
          target,
          operator.name,
          'its runtime has not yet answered the push naming this operator and the current token key',
        );
      let signing = unsealed.get(key.keyId);
      if (signing === undefined) {
        signing = { keyId: key.keyId, privateKeyPem: deps.vault.reveal(key.secretId, tokenKeyPurpose(install.name)) };
        unsealed.set(key.keyId, signing);
      }
      return signAccessToken(signing, {
        install: install.name,
        subject: operator.name,
        role: operator.role,
        attributes: operator.attributes,
        issuedAtS: Math.floor(deps.now() / 1000),
      });
    },
    pushed(target, state) {
      const keyId = state.tokenKeys?.[0]?.keyId;
      if (keyId === undefined) pushedKeys.delete(target.hostId);
      else pushedKeys.set(target.hostId, keyId);
      pushedOperators.set(target.hostId, new Set((state.operators ?? []).map((operator) => (operator.name ?? '').toLowerCase())));
      for (const waiter of [...(pushWaiters.get(target.hostId) ?? [])]) waiter();
    },
    rotateKey(installName) {
      const install = deps.installs.findByName(installName);
      if (!install) throw installMissingError(installName);
      if (!deps.vault.unlocked) throw vaultLockedError(`Rotating the token key of ${install.name}`, 'Then try again.');
      const retired = deps.repo.retireKeys(install.id, deps.now());
      for (const secretId of retired) deps.vault.remove(secretId);
      unsealed.clear();
      const key = currentKey(install, true)!;
      changed();
      return { keyId: key.keyId, retired: retired.length };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changed,
  };
}

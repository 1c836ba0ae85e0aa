import { createHash } from 'node:crypto';
import type { SetAccessStateRequest } from '../../../../agents-runtime/src/wire';
import type { Operator } from '../../../contract';
import { generateTokenSigningKey, signAccessToken, type TokenSigningKey } from '../../pki/access-tokens';
import type { SecretVault } from '../../secrets/secret-vault';
import type { InstallHostRow, InstallRow, InstallsRepo } from '../../store/installs-repo';
import type { LinkTarget } from '../link/link-types';
import type { OidcVerification } from '../../oidc/oidc-settings';
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
   * A one-call token for `operator` on `target`'s runtime, or null when calls there go
   * without one: no such operator (the one anonymous admin before operators exist), or
   * that runtime has not yet been pushed the key the token would be signed with.
   */
  tokenFor(target: LinkTarget, operatorName: string): Promise<string | null>;
  /** The runtime of `target` holds `version` of its state (its push was answered). */
  pushed(target: LinkTarget, state: SetAccessStateRequest): void;
  /** A new token key for the install; the old one is no longer pushed, so runtimes refuse its tokens after the next push. */
  rotateKey(installName: string): void;
  /** An operator was removed or disabled: their certificates are revoked. */
  revokeOperator(operatorName: string): void;
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
}

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
   * Until `hostId`'s runtime has been pushed a state listing `name`, it refuses that operator's
   * token as not of this install (CREDENTIAL_REVOKED): an operator added a moment ago would be
   * refused until the link's next check. So a token for an operator the runtime does not know
   * yet asks the links to push now and waits for that push, at most PUSH_WAIT_MS (then the call
   * goes on and the runtime's refusal says why).
   */
  async function runtimeKnows(hostId: number, name: string): Promise<void> {
    const key = name.toLowerCase();
    if (pushedOperators.get(hostId)?.has(key)) return;
    await new Promise<void>((resolve) => {
      const waiters = pushWaiters.get(hostId) ?? new Set<() => void>();
      pushWaiters.set(hostId, waiters);
      const done = (): void => {
        if (!pushedOperators.get(hostId)?.has(key)) return;
        finish();
      };
      const timer = setTimeout(finish, PUSH_WAIT_MS);
      function finish(): void {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
      changed();
    });
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
        revokedCertificateSerials: deps.repo.revokedSerials(install.id, deps.now()),
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
      if (!install || !operator) return null;
      if (currentKey(install, false) !== null && pushedKeys.has(target.hostId)) await runtimeKnows(target.hostId, operator.name);
      const key = currentKey(install, false);
      if (key === null || pushedKeys.get(target.hostId) !== key.keyId || !deps.vault.unlocked) return null;
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
      if (!install) return;
      deps.vault.requireUnlocked();
      for (const secretId of deps.repo.retireKeys(install.id, deps.now())) deps.vault.remove(secretId);
      unsealed.clear();
      currentKey(install, true);
      changed();
    },
    revokeOperator(operatorName) {
      deps.repo.revokeCertificatesOf(operatorName, deps.now());
      changed();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changed,
  };
}

/**
 * Who may call this runtime besides what TLS already checked: the access state the control
 * center pushes over its link (SetAccessState). It names revoked certificates and operators,
 * the keys access tokens are signed with, the operators' current roles and attributes, and
 * the ABAC policy. It is kept in one file in the state directory (written whole, then
 * renamed over the old one), so a restarted runtime refuses what it refused before.
 */
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SetAccessStateRequest__Output } from '../generated/sutazai/runtime/v1/SetAccessStateRequest';
import { RuntimeError } from '../runtime-error';
import { isRole, type Role } from '../wire/roles';
import { checkOidcSettings, oidcFromWire, type OidcSettings } from './oidc-token';
import { normalizeSerial } from '../wire/certificate-serial';

export const ACCESS_STATE_FILE = 'access-state.json';

export const AUTHENTICATION_METHODS = ['mtls', 'jwt', 'oauth2'] as const;
export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];

export interface TokenKey {
  keyId: string;
  publicKeyPem: string;
}

export interface OperatorAccess {
  name: string;
  role: Role;
  /** The control center's OperatorAttributes, as it sent them (a JSON object). */
  attributes: Record<string, unknown>;
}

/** Plain data: what the file holds and the wire carries. */
export interface AccessState {
  version: number;
  install: string;
  authenticationMethod: AuthenticationMethod;
  revokedCertificateSerials: string[];
  revokedSubjects: string[];
  tokenKeys: TokenKey[];
  operators: OperatorAccess[];
  abacPolicyYaml: string;
  /** oauth2: the site's provider and its keys (oidc-token.ts); absent or null otherwise. */
  oidc?: OidcSettings | null;
}

/** Before any push: no revocations, no token keys (so no token is accepted), certificates judged by their role alone. */
export const INITIAL_ACCESS_STATE: AccessState = {
  version: 0,
  install: '',
  authenticationMethod: 'mtls',
  revokedCertificateSerials: [],
  revokedSubjects: [],
  tokenKeys: [],
  operators: [],
  abacPolicyYaml: '',
};

/** The state with lookups ready: what each call is judged against. */
export interface AccessView {
  readonly state: AccessState;
  isSerialRevoked(serialHex: string): boolean;
  isSubjectRevoked(name: string): boolean;
  operator(name: string): OperatorAccess | undefined;
  tokenKey(keyId: string): KeyObject | undefined;
}

/** Re-exported: the runtime's callers name it here. */
export { normalizeSerial };

function invalid(message: string): RuntimeError {
  return new RuntimeError(
    'CONFIG_INVALID',
    `the access state is invalid: ${message}`,
    'this is a defect of the control center that pushed it: report it with this message',
  );
}

function checkState(state: AccessState): AccessState {
  if (!Number.isSafeInteger(state.version) || state.version < 1) throw invalid(`version ${state.version} is not a positive integer`);
  if (!(AUTHENTICATION_METHODS as readonly string[]).includes(state.authenticationMethod))
    throw invalid(`authentication method "${state.authenticationMethod}" is not one of ${AUTHENTICATION_METHODS.join(', ')}`);
  if (state.authenticationMethod === 'jwt' && state.install === '') throw invalid('jwt needs the install name, the audience of its tokens');
  // Without the provider's settings (its keys not read yet) no provider token is accepted: closed, and revocations still apply.
  if (state.authenticationMethod === 'oauth2' && state.install === '')
    throw invalid('oauth2 needs the install name, the audience of its own tokens');
  if (state.oidc) checkOidcSettings(state.oidc);
  for (const key of state.tokenKeys) {
    if (key.keyId === '') throw invalid('a token key has no key id');
    let publicKey: KeyObject;
    try {
      publicKey = process.getBuiltinModule('node:crypto').createPublicKey(key.publicKeyPem);
    } catch {
      throw invalid(`token key ${key.keyId} is not a public key in PEM`);
    }
    if (publicKey.asymmetricKeyType !== 'ed25519') throw invalid(`token key ${key.keyId} is ${publicKey.asymmetricKeyType}, not Ed25519`);
  }
  for (const operator of state.operators) {
    if (operator.name === '') throw invalid('an operator has no name');
    if (!isRole(operator.role)) throw invalid(`operator ${operator.name} has the unknown role "${operator.role}"`);
  }
  return {
    ...state,
    revokedCertificateSerials: state.revokedCertificateSerials.map(normalizeSerial),
  };
}

export function accessStateFromWire(request: SetAccessStateRequest__Output): AccessState {
  const version = Number(request.version);
  return checkState({
    version,
    install: request.install,
    authenticationMethod: request.authenticationMethod as AuthenticationMethod,
    revokedCertificateSerials: request.revokedCertificateSerials,
    revokedSubjects: request.revokedSubjects,
    tokenKeys: request.tokenKeys.map((key) => ({ keyId: key.keyId, publicKeyPem: key.publicKeyPem })),
    operators: request.operators.map((operator) => {
      let attributes: unknown = {};
      if (operator.attributesJson !== '') {
        try {
          attributes = JSON.parse(operator.attributesJson);
        } catch {
          throw invalid(`the attributes of operator ${operator.name} are not JSON`);
        }
      }
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
        throw invalid(`the attributes of operator ${operator.name} are not a JSON object`);
      return { name: operator.name, role: operator.role as Role, attributes: attributes as Record<string, unknown> };
    }),
    abacPolicyYaml: request.abacPolicyYaml,
    oidc: oidcFromWire(request.oidc),
  });
}

export function accessView(state: AccessState): AccessView {
  const serials = new Set(state.revokedCertificateSerials.map(normalizeSerial));
  // Operator names compare without case, as the control center's do.
  const subjects = new Set(state.revokedSubjects.map((name) => name.toLowerCase()));
  const operators = new Map(state.operators.map((operator) => [operator.name.toLowerCase(), operator]));
  const keys = new Map(
    state.tokenKeys.map((key) => [key.keyId, process.getBuiltinModule('node:crypto').createPublicKey(key.publicKeyPem)]),
  );
  return {
    state,
    isSerialRevoked: (serialHex) => serials.has(normalizeSerial(serialHex)),
    isSubjectRevoked: (name) => subjects.has(name.toLowerCase()),
    operator: (name) => operators.get(name.toLowerCase()),
    tokenKey: (keyId) => keys.get(keyId),
  };
}

export interface AccessStateStore {
  current(): AccessView;
  /**
   * Why the state held is not the control center's word (the file kept is gone or unreadable
   * though a state was pushed before), or null. While set, the runtime refuses every call
   * but the control center's own (ACCESS_STATE_LOST) until the next push: the initial state
   * would judge operators' certificates by their role alone, revoked or not.
   */
  lost(): string | null;
  /**
   * Applies `state` and keeps it (in the file, when there is one) before answering: the
   * same version again is accepted unchanged, an older one refused.
   */
  replace(state: AccessState): AccessView;
}

/**
 * Beside the state file, written once with the first push: that a state was pushed here,
 * so a state file deleted later (by hand, a clean-up, a restore of the state directory
 * without it) is told from a runtime never pushed.
 */
export const ACCESS_STATE_PUSHED_MARK = 'access-state.pushed';

/** `file`: where the state is kept; null keeps it in memory only (tests, a runtime without a state directory). */
export function createAccessStateStore(file: string | null, onUnreadable?: (detail: string) => void): AccessStateStore {
  const mark = file === null ? null : path.join(path.dirname(file), ACCESS_STATE_PUSHED_MARK);
  const loaded = file === null ? { state: INITIAL_ACCESS_STATE, lost: null } : load(file, mark as string, onUnreadable);
  let view = accessView(loaded.state);
  let lost: string | null = loaded.lost;
  if (mark !== null && loaded.state.version > 0) markPushed(mark);
  return {
    current: () => view,
    lost: () => lost,
    replace(state) {
      const held = view.state.version;
      if (state.version < held) {
        throw new RuntimeError(
          'ACCESS_STATE_STALE',
          `the access state pushed has version ${state.version}, older than the ${held} this runtime holds`,
          'the control center pushes its newest state again on its next link: nothing to do unless this repeats (two control centers for one install?)',
        );
      }
      if (state.version === held && lost === null) return view;
      const next = accessView(checkState(state));
      if (file !== null) save(file, state);
      if (mark !== null) markPushed(mark);
      view = next;
      lost = null;
      return view;
    },
  };
}

function markPushed(mark: string): void {
  try {
    fs.writeFileSync(mark, 'the control center has pushed an access state to this runtime\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new RuntimeError(
      'STATE_FILE_INVALID',
      `${mark} cannot be written: ${(error as Error).message}`,
      'make the state directory writable by the user sutazai-runtime runs as, and free space on its disk',
      { cause: error },
    );
  }
}

function load(file: string, mark: string, onUnreadable?: (detail: string) => void): { state: AccessState; lost: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // Never pushed: the initial state. Pushed before and the file gone: fail closed until the next push.
      if (!fs.existsSync(mark)) return { state: INITIAL_ACCESS_STATE, lost: null };
      const detail = `${file} is gone, and the control center pushed a state to this runtime before`;
      onUnreadable?.(detail);
      return { state: INITIAL_ACCESS_STATE, lost: detail };
    }
    const detail = `${file} cannot be read: ${(error as Error).message}`;
    onUnreadable?.(detail);
    return { state: INITIAL_ACCESS_STATE, lost: detail };
  }
  try {
    return { state: checkState(JSON.parse(text) as AccessState), lost: null };
  } catch (error) {
    // Starting without it (the supervisor keeps the processes running) and refusing every
    // call but the control center's own until its next push (its link pushes on connect).
    const detail = `${file} is not a valid access state: ${(error as Error).message}`;
    onUnreadable?.(detail);
    return { state: INITIAL_ACCESS_STATE, lost: detail };
  }
}
function save(file: string, state: AccessState): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new RuntimeError(
      'STATE_FILE_INVALID',
      `the access state cannot be written to ${file}: ${(error as Error).message}`,
      'make the state directory writable by the user sutazai-runtime runs as, and free space on its disk',
      { cause: error },
    );
  }
}

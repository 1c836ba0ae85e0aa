import { ApiError, type ErrorCode, type PinnedKey } from '../../../contract';
import type { HostKeyIdentity } from './host-key-fingerprint';
import { describeEndpoint, type SshEndpoint } from './ssh-endpoint';

/**
 * Every way an SSH connection can fail, as an ApiError whose message names the host and
 * address:port and whose remedy says what to do. Messages never carry a secret: they are
 * built from the endpoint, the user name, the method and what the server presented.
 */

/** How far a connection attempt got; a timeout means something different in each. */
export type ConnectPhase =
  /** Looking the address up in DNS (only for a name, not an IP address). */
  | 'resolving'
  /** TCP connect to the address. */
  | 'connecting'
  /** Asking the jump host to open a TCP channel to the target. */
  | 'forwarding'
  /** Connected, waiting for the server's SSH identification line. */
  | 'banner'
  /** Key exchange, host key check included. */
  | 'key-exchange'
  /** The host key was accepted; user authentication is running. */
  | 'authenticating';

export type CredentialMethod = 'key' | 'agent' | 'password';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA', 'EAI_ADDRFAMILY']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function seconds(ms: number): string {
  const value = ms / 1000;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}

/** `3 May 2026`: the day the operator trusted a key, in their own time zone. */
export function formatTrustDate(epochMs: number): string {
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(epochMs));
}

/** Where an operator reads a host key's fingerprint on the machine itself. */
function hostKeyFileHint(keyType: string): string {
  const file = keyType === 'ssh-ed25519' ? 'ed25519' : keyType.startsWith('ecdsa-') ? 'ecdsa' : keyType === 'ssh-rsa' ? 'rsa' : null;
  return file === null ? '`ssh-keygen -lf` on its host key' : `\`ssh-keygen -lf /etc/ssh/ssh_host_${file}_key.pub\``;
}

/**
 * A refused host key, with what the host presented kept as data so the caller can record
 * the refusal (the key log) without parsing the message.
 */
export class HostKeyRefusedError extends ApiError {
  readonly presented: HostKeyIdentity | null;
  readonly pinned: PinnedKey | null;

  constructor(
    code: 'HOST_KEY_UNKNOWN' | 'HOST_KEY_MISMATCH',
    message: string,
    remedy: string,
    presented: HostKeyIdentity | null,
    pinned: PinnedKey | null,
    cliRemedy?: string,
  ) {
    super(code, message, remedy, cliRemedy === undefined ? undefined : { cliRemedy });
    this.presented = presented;
    this.pinned = pinned;
  }
}

export function hostKeyUnknownError(endpoint: SshEndpoint, presented: HostKeyIdentity): HostKeyRefusedError {
  return new HostKeyRefusedError(
    'HOST_KEY_UNKNOWN',
    `${sentence(describeEndpoint(endpoint))} presents the host key ${presented.keyType} ${presented.fingerprint}, which you have not trusted yet; no credential was sent.`,
    `Compare ${presented.fingerprint} with the fingerprint the machine shows on its console (${hostKeyFileHint(presented.keyType)}); if they match, trust it on the host page (Check host key).`,
    { keyType: presented.keyType, fingerprint: presented.fingerprint },
    null,
    `Compare ${presented.fingerprint} with the fingerprint the machine shows on its console (${hostKeyFileHint(presented.keyType)}); if they match, trust it with \`sutazai hosts trust ${endpoint.name} --trust ${presented.fingerprint}\`.`,
  );
}

/** `presented` is null when the host no longer offers a key of the pinned type at all. */
export function hostKeyMismatchError(endpoint: SshEndpoint, pinned: PinnedKey, presented: HostKeyIdentity | null): HostKeyRefusedError {
  const now =
    presented === null
      ? `it no longer offers a key of type ${pinned.keyType}`
      : `it now presents ${presented.keyType} ${presented.fingerprint}`;
  const trustCommand =
    presented === null
      ? `\`sutazai hosts trust ${endpoint.name}\` after scanning the new key`
      : `\`sutazai hosts trust ${endpoint.name} --trust ${presented.fingerprint}\``;
  const why = `If the machine was reinstalled or its keys regenerated, confirm the new fingerprint on its console (${hostKeyFileHint(presented?.keyType ?? pinned.keyType)}); otherwise someone may be intercepting the connection. Re-trusting is a deliberate action:`;
  return new HostKeyRefusedError(
    'HOST_KEY_MISMATCH',
    `The host key of ${describeEndpoint(endpoint)} changed since you trusted it on ${formatTrustDate(pinned.trustedAt)} (${pinned.keyType} ${pinned.fingerprint}); ${now}. Nothing was sent to it.`,
    `${why} on the host page, Check host key → Re-trust new key.`,
    presented === null ? null : { keyType: presented.keyType, fingerprint: presented.fingerprint },
    { keyType: pinned.keyType, fingerprint: pinned.fingerprint, trustedAt: pinned.trustedAt },
    `${why} ${trustCommand}.`,
  );
}

export function hostKeyUnreadableError(endpoint: SshEndpoint, cause: unknown): ApiError {
  return new ApiError(
    'SSH_FAILED',
    `${sentence(describeEndpoint(endpoint))} presented a host key this app cannot read; nothing was sent.`,
    'The server sent a malformed key: check its sshd and HostKey files, and send the app log with your report.',
    { cause },
  );
}

export const KEY_FILE_REMEDY =
  'Point the host at an existing private key file in OpenSSH, PEM or PuTTY format that your user can read (for example ~/.ssh/id_ed25519, not the .pub file), or choose another login method.';

/** `remedy`: the general one unless the refusal knows a better one (a key too costly to decrypt, a PKCS#8 key). */
export function keyFileUnreadableError(endpoint: SshEndpoint, keyPath: string, cause: unknown, remedy = KEY_FILE_REMEDY): ApiError {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'cannot be read by this app (permission denied)'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === undefined
            ? `is not a private key this app can read (${(cause as Error).message})`
            : `cannot be read (${code})`;
  return new ApiError(
    'KEY_FILE_UNREADABLE',
    `The private key ${keyPath} for ${describeEndpoint(endpoint)} ${why}; nothing was sent.`,
    remedy,
    { cause },
  );
}

export function keyPassphraseError(endpoint: SshEndpoint, keyPath: string, passphraseGiven: boolean): ApiError {
  return new ApiError(
    'KEY_PASSPHRASE_WRONG',
    passphraseGiven
      ? `The passphrase does not decrypt the private key ${keyPath} for ${describeEndpoint(endpoint)}; nothing was sent.`
      : `The private key ${keyPath} for ${describeEndpoint(endpoint)} is encrypted and no passphrase was given; nothing was sent.`,
    'Enter the passphrase of this key in the host settings (Edit on the host page) (check it with `ssh-keygen -y -f <key>`), or load the key into ssh-agent and log in with the agent.',
  );
}

export const KEY_TEXT_REMEDY =
  'Paste the whole private key, from its -----BEGIN line to its -----END line (OpenSSH format, BEGIN OPENSSH PRIVATE KEY, or PEM, BEGIN RSA, EC or DSA PRIVATE KEY; for example the file ~/.ssh/id_ed25519 on your computer, not the .pub file), or choose that file with "Read from a file".';

/**
 * A private key sent as text that is no private key (garbage, a public key, too big, too
 * costly to decrypt); never quotes the text. `remedy`: the general one unless the refusal knows a better one.
 */
export function keyTextInvalidError(endpoint: SshEndpoint, why: string, remedy = KEY_TEXT_REMEDY): ApiError {
  return new ApiError(
    'KEY_TEXT_INVALID',
    `The private key given for ${describeEndpoint(endpoint)} ${why}; nothing was stored or sent.`,
    remedy,
  );
}

/**
 * A passphrase given with a key that has none. Refused when a host is added or changed (it would
 * be sealed and kept for nothing, and usually means the wrong key was chosen); a login ignores
 * one stored by an older version.
 */
export function keyPassphraseUnneededError(endpoint: SshEndpoint, keyPath: string | null): ApiError {
  const key = keyPath === null ? 'The private key given' : `The private key ${keyPath}`;
  return new ApiError(
    'KEY_PASSPHRASE_WRONG',
    `${key} for ${describeEndpoint(endpoint)} is not encrypted, but a passphrase was given with it; nothing was stored or sent.`,
    'Leave the passphrase empty: this key has none. If you meant an encrypted key, give that key instead.',
  );
}

export function keyTextPassphraseError(endpoint: SshEndpoint, passphraseGiven: boolean): ApiError {
  return new ApiError(
    'KEY_PASSPHRASE_WRONG',
    passphraseGiven
      ? `The passphrase does not decrypt the private key given for ${describeEndpoint(endpoint)}; nothing was stored or sent.`
      : `The private key given for ${describeEndpoint(endpoint)} is encrypted and no passphrase was given; nothing was stored or sent.`,
    'Enter the passphrase of this key beside it (check it on your computer with `ssh-keygen -y -f <key>`).',
  );
}

/**
 * An encrypted key the key worker (key-decrypt-pool.ts) did not decrypt: out of time, the worker
 * gone, or too many keys waiting. `keyPath`: null for a key sent as text or kept in the vault.
 */
export function keyDecryptUnavailableError(
  endpoint: SshEndpoint,
  keyPath: string | null,
  failure: { reason: 'timeout'; limitMs: number } | { reason: 'crashed' | 'bad-answer' | 'busy' | 'stopping' },
): ApiError {
  const key = keyPath === null ? 'the private key given' : `the private key ${keyPath}`;
  const where = `${key} for ${describeEndpoint(endpoint)}`;
  const nothing = keyPath === null ? 'nothing was stored or sent' : 'nothing was sent';
  switch (failure.reason) {
    case 'timeout':
      return new ApiError(
        'KEY_DECRYPT_FAILED',
        `Decrypting ${where} took longer than ${seconds(failure.limitMs)} and was stopped; ${nothing}.`,
        'The backend\'s machine may be overloaded: try again when it is quieter. A key whose passphrase is stretched with fewer bcrypt rounds decrypts faster: lower them on a copy (`ssh-keygen -p -a 16 -f COPY`) or remove the copy\'s passphrase (`ssh-keygen -p -N "" -f COPY`; the vault seals the key either way).',
      );
    case 'crashed':
    case 'bad-answer':
      return new ApiError(
        'KEY_DECRYPT_FAILED',
        `The worker thread decrypting ${where} stopped before it answered; ${nothing}.`,
        'Try again: the next key is decrypted by a fresh worker. If it happens again, send the app log with your report.',
      );
    case 'busy':
      return new ApiError(
        'KEY_DECRYPT_BUSY',
        `${sentence(where)} was not decrypted: as many keys as the backend lets wait are waiting to be decrypted already; ${nothing}.`,
        'Try again in a few seconds, when the keys before it are done.',
      );
    case 'stopping':
      return new ApiError(
        'KEY_DECRYPT_BUSY',
        `${sentence(where)} was not decrypted: the backend is stopping; ${nothing}.`,
        'Try again once the app is running again.',
      );
  }
}

export function agentUnavailableError(endpoint: SshEndpoint, why: string): ApiError {
  return new ApiError(
    'AUTH_FAILED',
    `Cannot log in to ${describeEndpoint(endpoint)} with the SSH agent: ${why}; nothing was sent.`,
    'Start ssh-agent and add your key (`ssh-add`), make sure SSH_AUTH_SOCK reaches this app, or log in with a key file instead.',
  );
}

export function authFailedError(
  endpoint: SshEndpoint,
  user: string,
  method: CredentialMethod,
  serverMethods: readonly string[] | null,
): ApiError {
  const what = method === 'password' ? 'the password' : method === 'key' ? 'the private key' : 'the keys in the SSH agent';
  const offered = serverMethods && serverMethods.length > 0 ? ` (it accepts: ${serverMethods.join(', ')})` : '';
  const remedy =
    method === 'password'
      ? serverMethods && !serverMethods.includes('password')
        ? 'This server does not take passwords: log in with a key, or enable PasswordAuthentication in its sshd_config.'
        : `Check the user name and password for ${user} in the host settings (Edit on the host page).`
      : method === 'key'
        ? `Add the public key to ~${user}/.ssh/authorized_keys on the machine (\`ssh-copy-id\`), or check the user name in the host settings (Edit on the host page).`
        : `Load the right key into the agent (\`ssh-add -l\` lists them) and add its public key to ~${user}/.ssh/authorized_keys on the machine.`;
  return new ApiError('AUTH_FAILED', `${sentence(describeEndpoint(endpoint))} refused ${what} for user ${user}${offered}.`, remedy);
}

/** `timeoutMs` null: ssh2's own timer fired, not the connect deadline. */
export function connectTimeoutError(endpoint: SshEndpoint, phase: ConnectPhase, timeoutMs: number | null, jump?: SshEndpoint): ApiError {
  const where = describeEndpoint(endpoint);
  const within = timeoutMs === null ? 'in time' : `within ${seconds(timeoutMs)}`;
  switch (phase) {
    case 'resolving':
      return new ApiError(
        'ADDRESS_UNRESOLVED',
        `The address ${endpoint.address} of ${where} could not be looked up ${within}.`,
        "Check that this machine's DNS server answers (or use the IP address in the host settings (Edit on the host page)).",
      );
    case 'connecting':
      return new ApiError(
        'HOST_UNREACHABLE',
        `${sentence(where)} did not answer ${within}.`,
        `Check that the machine is on and the address is right, and that no firewall drops port ${endpoint.port} on the way.`,
      );
    case 'forwarding':
      return new ApiError(
        'HOST_UNREACHABLE',
        `${sentence(jump === undefined ? 'the jump host' : describeEndpoint(jump))} could not reach ${where} ${within}.`,
        `Check that the machine is on and that the jump host can reach ${endpoint.address} on port ${endpoint.port} (try \`nc -vz ${endpoint.address} ${endpoint.port}\` on the jump host).`,
      );
    case 'banner':
      return new ApiError(
        'HANDSHAKE_TIMEOUT',
        `${sentence(where)} accepted the connection but sent no SSH greeting ${within}.`,
        `Check the address and port (\`nc -v ${endpoint.address} ${endpoint.port}\` from this machine should print a line starting with SSH-2.0): a firewall or proxy on the way may accept connections it does not forward, or another service listens there. If it is the machine's sshd, it is overloaded (MaxStartups) or stuck on a slow reverse DNS lookup (UseDNS no).`,
      );
    case 'key-exchange':
      return new ApiError(
        'HANDSHAKE_TIMEOUT',
        `${sentence(where)} did not finish the SSH key exchange ${within}.`,
        "The machine or the network is very slow: try again with a longer timeout, and check the machine's load.",
      );
    case 'authenticating':
      return new ApiError(
        'HANDSHAKE_TIMEOUT',
        `${sentence(where)} did not finish logging in ${within}.`,
        "Check the machine's load and its sshd log (a slow PAM module or home directory on a dead network mount), then try again.",
      );
  }
}

export function connectCancelledError(endpoint: SshEndpoint): ApiError {
  return new ApiError(
    'SSH_FAILED',
    `Connecting to ${describeEndpoint(endpoint)} was cancelled.`,
    'Nothing to do; connect again when you need to.',
  );
}

/** The code a socket error (`err.code` of a net.Socket) stands for, or null when none fits. */
export function socketErrorCode(code: string | undefined): ErrorCode | null {
  if (code === undefined) return null;
  if (DNS_CODES.has(code)) return 'ADDRESS_UNRESOLVED';
  if (UNREACHABLE_CODES.has(code)) return 'HOST_UNREACHABLE';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  return null;
}

function networkError(code: ErrorCode, endpoint: SshEndpoint, detail: string, cause: unknown): ApiError {
  const where = describeEndpoint(endpoint);
  switch (code) {
    case 'ADDRESS_UNRESOLVED':
      return new ApiError(
        'ADDRESS_UNRESOLVED',
        `The address ${endpoint.address} of ${where} does not resolve (${detail}).`,
        "Check the spelling of the address in the host settings (Edit on the host page) and that this machine's DNS knows it, or use the IP address.",
        { cause },
      );
    case 'HOST_UNREACHABLE':
      return new ApiError(
        'HOST_UNREACHABLE',
        `${sentence(where)} cannot be reached (${detail}).`,
        'Check that the machine is on and the address is right, and that a route and the firewalls on the way let you through.',
        { cause },
      );
    case 'CONNECTION_REFUSED':
      return new ApiError(
        'CONNECTION_REFUSED',
        `${sentence(where)} refused the connection on port ${endpoint.port} (${detail}).`,
        `Check that sshd is running on the machine (\`systemctl status ssh\`) and listens on port ${endpoint.port}, or fix the port in the host settings (Edit on the host page).`,
        { cause },
      );
    default:
      return new ApiError(code, `${sentence(where)}: ${detail}.`, 'Try again; if it keeps failing, send the app log with your report.', {
        cause,
      });
  }
}

/**
 * The TCP connection opened and was closed before a single byte came back: nothing that
 * speaks SSH answered there. Most often the address or port is wrong, or a firewall or
 * proxy on the way accepts connections it does not forward; an sshd that drops a client
 * before its greeting (MaxStartups, tcp wrappers) looks the same, so it comes last.
 */
function noGreetingError(endpoint: SshEndpoint, how: string, cause: unknown): ApiError {
  const where = describeEndpoint(endpoint);
  return new ApiError(
    'NO_SSH_GREETING',
    `${sentence(where)} accepted the connection on port ${endpoint.port} and closed it (${how}) without an SSH greeting: nothing that speaks SSH answered there.`,
    `Check the address and port (\`nc -v ${endpoint.address} ${endpoint.port}\` from this machine should print a line starting with SSH-2.0); a firewall or proxy on the way may accept connections it does not forward. If it is the machine's sshd, its log says why it dropped the connection (MaxStartups, tcp wrappers).`,
    { cause },
  );
}

export interface SshFailureContext {
  endpoint: SshEndpoint;
  phase: ConnectPhase;
  user: string;
  method: CredentialMethod | null;
  /** What the server said it accepts after the last refused attempt. */
  serverMethods: readonly string[] | null;
}

interface Ssh2ErrorShape {
  message?: string;
  code?: string | number;
  level?: string;
  description?: string;
  reason?: string | number;
}

/**
 * Maps an error that ssh2 (or its socket) raised while connecting. Host key verdicts,
 * key file problems and deadlines are decided before this and have their own builders.
 */
export function sshFailureToApiError(error: unknown, context: SshFailureContext): ApiError {
  if (error instanceof ApiError) return error;
  const err = (error ?? {}) as Ssh2ErrorShape;
  const { endpoint, phase } = context;
  const where = describeEndpoint(endpoint);
  const message = typeof err.message === 'string' ? err.message : String(error);
  const code = typeof err.code === 'string' ? err.code : undefined;

  if (err.level === 'client-socket' || err.level === 'client-dns' || (code !== undefined && socketErrorCode(code) !== null)) {
    const mapped = socketErrorCode(code) ?? (err.level === 'client-dns' ? 'ADDRESS_UNRESOLVED' : null);
    if (mapped !== null) return networkError(mapped, endpoint, code ?? message, error);
    if (code !== undefined && RESET_CODES.has(code) && phase === 'banner') return noGreetingError(endpoint, code, error);
    if (code !== undefined && RESET_CODES.has(code)) {
      return new ApiError(
        'SSH_FAILED',
        `${sentence(where)} closed the connection ${phase === 'authenticating' ? 'while logging in' : 'during the SSH handshake'} (${code}).`,
        'sshd may be refusing this client (MaxStartups, AllowUsers, tcp wrappers or fail2ban): check its log on the machine, then try again.',
        { cause: error },
      );
    }
  }
  if (err.level === 'client-timeout') {
    // ssh2's own readyTimeout or keepalive; the connect deadline has its own message.
    return connectTimeoutError(endpoint, phase, null);
  }
  if (err.level === 'client-authentication') {
    return context.method === null
      ? new ApiError(
          'AUTH_FAILED',
          `${sentence(where)} refused the login for user ${context.user}.`,
          'Check the user name and credentials in the host settings (Edit on the host page).',
          { cause: error },
        )
      : authFailedError(endpoint, context.user, context.method, context.serverMethods);
  }
  if (err.level === 'agent') {
    return agentUnavailableError(endpoint, `the agent failed (${message})`);
  }
  if (err.level === 'handshake' && /no matching/i.test(message)) {
    return new ApiError(
      'SSH_FAILED',
      `${sentence(where)} and this app share no SSH algorithm (${message.replace(/^Handshake failed: /, '')}).`,
      'The machine runs a very old or locked-down sshd: allow a current key exchange, cipher and host key type (for example curve25519-sha256, aes128-gcm@openssh.com, ssh-ed25519) in its sshd_config.',
      { cause: error },
    );
  }
  if (phase === 'banner' && /Connection lost before handshake|closed the connection/i.test(message))
    return noGreetingError(endpoint, 'closed', error);
  if (/Connection lost before handshake/i.test(message)) {
    return new ApiError(
      'SSH_FAILED',
      `${sentence(where)} closed the connection before the SSH handshake.`,
      "sshd may be refusing this client (MaxStartups, tcp wrappers or fail2ban), or the port is not sshd: check the machine's sshd log and the port in the host settings (Edit on the host page).",
      { cause: error },
    );
  }
  if (phase === 'authenticating' && /authentication/i.test(err.description ?? message)) {
    return context.method === null
      ? new ApiError(
          'AUTH_FAILED',
          `${sentence(where)} refused the login for user ${context.user} (${message}).`,
          'Check the user name and credentials in the host settings (Edit on the host page).',
          { cause: error },
        )
      : authFailedError(endpoint, context.user, context.method, context.serverMethods);
  }
  return new ApiError(
    'SSH_FAILED',
    `The SSH connection to ${where} failed ${phase === 'authenticating' ? 'while logging in' : 'during the handshake'}: ${message}.`,
    "Try again; if it keeps failing, check the machine's sshd log and send the app log with your report.",
    { cause: error },
  );
}

/**
 * A jump host's refusal to open a channel to the target. OpenSSH puts strerror() of its
 * own connect() in the description ("Connection refused", "No route to host", ...).
 */
export function forwardFailureToApiError(error: unknown, target: SshEndpoint, jump: SshEndpoint): ApiError {
  const err = (error ?? {}) as Ssh2ErrorShape;
  const message = typeof err.message === 'string' ? err.message : String(error);
  const detail = message.replace(/^\(SSH\) Channel open failure: /, '');
  const via = `through ${describeEndpoint(jump)}`;
  const where = describeEndpoint(target);
  if (/refused/i.test(detail)) {
    return new ApiError(
      'CONNECTION_REFUSED',
      `${sentence(where)} refused the connection on port ${target.port} (${via}: ${detail}).`,
      `Check that sshd is running on the machine and listens on port ${target.port}, or fix the port in the host settings (Edit on the host page).`,
      { cause: error },
    );
  }
  if (/name or service|not known|unknown host|resolve|getaddrinfo|nodename/i.test(detail)) {
    return new ApiError(
      'ADDRESS_UNRESOLVED',
      `The jump host cannot resolve the address ${target.address} of ${where} (${detail}).`,
      'Check the address in the host settings (Edit on the host page); it is resolved on the jump host, so use a name its DNS knows or the IP address.',
      { cause: error },
    );
  }
  if (/no route|unreachable|timed out|timeout|network is down/i.test(detail)) {
    return new ApiError(
      'HOST_UNREACHABLE',
      `${sentence(where)} cannot be reached ${via} (${detail}).`,
      'Check that the machine is on, the address is right, and the jump host has a route to it.',
      { cause: error },
    );
  }
  if (err.reason === 1 || /prohibited/i.test(detail)) {
    return new ApiError(
      'SSH_FAILED',
      `The ${describeEndpoint(jump)} does not allow forwarding to ${where} (${detail}).`,
      'Allow TCP forwarding for this user on the jump host (AllowTcpForwarding yes, PermitOpen) or choose another jump host.',
      { cause: error },
    );
  }
  return new ApiError(
    'SSH_FAILED',
    `Could not open a channel to ${where} ${via}: ${detail}.`,
    'Check that the jump host can reach the machine on that port, then try again.',
    { cause: error },
  );
}

/**
 * A logged-in host that would not open a connection to `address:port` on its own side
 * (a direct-tcpip channel, as `ssh -L` asks for). OpenSSH puts strerror() of its connect()
 * in the description; `prohibited` is sshd's "administratively prohibited" (forwarding
 * is off for this user). Kept as data so a caller can say what the port was for.
 */
export class ForwardRefusedError extends ApiError {
  readonly detail: string;
  readonly prohibited: boolean;

  constructor(endpoint: SshEndpoint, address: string, port: number, cause: unknown) {
    const err = (cause ?? {}) as Ssh2ErrorShape;
    const detail = (typeof err.message === 'string' ? err.message : String(cause)).replace(/^\(SSH\) Channel open failure: /, '');
    const prohibited = err.reason === 1 || /prohibited/i.test(detail);
    super(
      'SSH_FAILED',
      `${sentence(describeEndpoint(endpoint))} would not open a connection to ${address}:${port} on its side (${detail}).`,
      prohibited
        ? "Allow TCP forwarding for this user in the machine's sshd_config (AllowTcpForwarding local or yes; PermitOpen, if set, must list that port), then reload sshd."
        : `Check that something listens on ${address}:${port} on the machine (\`ss -ltn\`).`,
      { cause },
    );
    this.detail = detail;
    this.prohibited = prohibited;
  }
}

/** What a logged-in server would not do: start a command, start its SFTP service, or open another session channel. */
export type RefusedRequest = 'exec' | 'sftp' | 'channel';

/**
 * A logged-in server's refusal of one request on the connection (the connection itself
 * is fine). Kept as data so a caller can fall back (SFTP off: send files through a command).
 * ssh2 reports a refused exec or subsystem request with CHANNEL_FAILURE, or a channel the
 * server closed before it answered; a refused channel with CHANNEL_OPEN_FAILURE, whose
 * `reason` is RFC 4254's code (1 prohibited, 2 connect failed, 3 unknown type, 4 resource shortage).
 */
export class ChannelRefusedError extends ApiError {
  readonly request: RefusedRequest;

  constructor(endpoint: SshEndpoint, request: RefusedRequest, cause: unknown) {
    const err = (cause ?? {}) as Ssh2ErrorShape;
    const detail = (typeof err.message === 'string' ? err.message : String(cause)).replace(/^\(SSH\) Channel open failure: /, '');
    const where = describeEndpoint(endpoint);
    const [message, remedy] =
      request === 'exec'
        ? [
            `${sentence(where)} refused to start a command for this login (${detail}).`,
            "The SSH server refused the exec request: check that the login user's shell exists (for Dropbear it must also be listed in /etc/shells), that the key in authorized_keys carries no forced command or `restrict`, and the server's log on the machine for the reason.",
          ]
        : request === 'sftp'
          ? [
              `${sentence(where)} offers no SFTP service to this login (${detail}).`,
              'The SSH server refused the sftp subsystem: enable it (OpenSSH: `Subsystem sftp internal-sftp` in sshd_config; Dropbear: install an sftp-server), or leave it off, since installs then send their files through a command.',
            ]
          : [
              `${sentence(where)} refused to open another session channel on the connection (${detail}).`,
              err.reason === 1 || err.reason === 4 || /prohibited|resource|no free/i.test(detail)
                ? 'The SSH server limits the sessions on one connection: an install opens two at once (the upload and its checksum command), so allow at least 2 (OpenSSH: MaxSessions in sshd_config), then try again.'
                : 'The SSH server refused a new session channel: check its log on the machine for the reason, then try again.',
            ];
    super('SSH_CHANNEL_REFUSED', message, remedy, { cause });
    this.request = request;
  }
}

/** A failure on an established session (exec, lost connection). */
export function sessionError(endpoint: SshEndpoint, what: string, cause?: unknown): ApiError {
  return new ApiError(
    'SSH_FAILED',
    `${sentence(what)} on ${describeEndpoint(endpoint)}.`,
    "Try again; if the connection keeps dropping, check the network and the machine's sshd log.",
    cause === undefined ? undefined : { cause },
  );
}

export function commandTimeoutError(endpoint: SshEndpoint, timeoutMs: number): ApiError {
  return new ApiError(
    'SSH_FAILED',
    `A command did not finish within ${seconds(timeoutMs)} on ${describeEndpoint(endpoint)}.`,
    'The command may be stuck on something on the machine (a stale network mount, a prompt for input): check the machine, or allow it more time.',
  );
}

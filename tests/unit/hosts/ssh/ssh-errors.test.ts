import { describe, expect, it } from 'vitest';
import { ApiError, remedyForCli, type ErrorCode } from '../../../../electron/contract';
import {
  authFailedError,
  ChannelRefusedError,
  connectTimeoutError,
  forwardFailureToApiError,
  formatTrustDate,
  HostKeyRefusedError,
  hostKeyMismatchError,
  hostKeyUnknownError,
  keyFileUnreadableError,
  keyPassphraseError,
  sshFailureToApiError,
  type ConnectPhase,
  type SshFailureContext,
} from '../../../../electron/backend/hosts/ssh/ssh-errors';
import type { SshEndpoint } from '../../../../electron/backend/hosts/ssh/ssh-endpoint';

const db2: SshEndpoint = { name: 'db-2', address: '198.18.0.5', port: 22 };
const gateway: SshEndpoint = { name: 'gw', address: '198.18.0.1', port: 2222, jumpFor: 'db-2' };

function context(phase: ConnectPhase, method: SshFailureContext['method'] = 'password'): SshFailureContext {
  return { endpoint: db2, phase, user: 'ops', method, serverMethods: null };
}

function ssh2Error(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props);
}

/** What every SSH error owes the operator: the host, where it is, and what to do. */
function expectHelpful(error: ApiError, code: ErrorCode, endpoint: SshEndpoint = db2) {
  expect(error.code).toBe(code);
  expect(error.message).toContain(endpoint.name);
  expect(error.message).toContain(`${endpoint.address}:${endpoint.port}`);
  expect(error.remedy.length).toBeGreaterThan(20);
  // The body carries the command line's words only where they differ from the window's.
  const cli = error.cliRemedy === undefined ? {} : { cliRemedy: error.cliRemedy };
  expect(error.toBody()).toEqual({ code, message: error.message, remedy: error.remedy, ...cli });
}

describe('ssh2 and socket failures while connecting', () => {
  const table: Array<[string, Error, ConnectPhase, ErrorCode]> = [
    [
      'DNS: no such name',
      ssh2Error('getaddrinfo ENOTFOUND db-2.lan', { code: 'ENOTFOUND', level: 'client-socket' }),
      'connecting',
      'ADDRESS_UNRESOLVED',
    ],
    [
      'DNS: temporary failure',
      ssh2Error('getaddrinfo EAI_AGAIN db-2.lan', { code: 'EAI_AGAIN', level: 'client-socket' }),
      'connecting',
      'ADDRESS_UNRESOLVED',
    ],
    [
      'ssh2 forced-family lookup',
      ssh2Error("Error while looking up IPv4 address for 'db-2.lan'", { level: 'client-dns' }),
      'connecting',
      'ADDRESS_UNRESOLVED',
    ],
    [
      'no route to host',
      ssh2Error('connect EHOSTUNREACH 198.18.0.5:22', { code: 'EHOSTUNREACH', level: 'client-socket' }),
      'connecting',
      'HOST_UNREACHABLE',
    ],
    [
      'network unreachable',
      ssh2Error('connect ENETUNREACH 198.18.0.5:22', { code: 'ENETUNREACH', level: 'client-socket' }),
      'connecting',
      'HOST_UNREACHABLE',
    ],
    [
      'kernel connect timeout',
      ssh2Error('connect ETIMEDOUT 198.18.0.5:22', { code: 'ETIMEDOUT', level: 'client-socket' }),
      'connecting',
      'HOST_UNREACHABLE',
    ],
    [
      'nothing listens',
      ssh2Error('connect ECONNREFUSED 198.18.0.5:22', { code: 'ECONNREFUSED', level: 'client-socket' }),
      'connecting',
      'CONNECTION_REFUSED',
    ],
    ['reset during handshake', ssh2Error('read ECONNRESET', { code: 'ECONNRESET', level: 'client-socket' }), 'key-exchange', 'SSH_FAILED'],
    [
      'ssh2 readyTimeout before the banner',
      ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }),
      'banner',
      'HANDSHAKE_TIMEOUT',
    ],
    [
      'ssh2 readyTimeout before TCP connected',
      ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }),
      'connecting',
      'HOST_UNREACHABLE',
    ],
    [
      'every method refused',
      ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }),
      'authenticating',
      'AUTH_FAILED',
    ],
    [
      'no common algorithm',
      ssh2Error('Handshake failed: no matching key exchange algorithm', { level: 'handshake' }),
      'key-exchange',
      'SSH_FAILED',
    ],
    ['closed before the banner', ssh2Error('Connection lost before handshake', { level: 'protocol' }), 'banner', 'NO_SSH_GREETING'],
    ['reset before the banner', ssh2Error('read ECONNRESET', { code: 'ECONNRESET', level: 'client-socket' }), 'banner', 'NO_SSH_GREETING'],
    ['closed by the server before the banner', new Error('the server closed the connection'), 'banner', 'NO_SSH_GREETING'],
    ['closed after the banner', ssh2Error('Connection lost before handshake', { level: 'protocol' }), 'key-exchange', 'SSH_FAILED'],
    [
      'server disconnect during login',
      ssh2Error('Too many authentication failures', { level: 'client-ssh', code: 2 }),
      'authenticating',
      'AUTH_FAILED',
    ],
    ['anything else', ssh2Error('Bad packet length 999999', { level: 'protocol' }), 'key-exchange', 'SSH_FAILED'],
  ];

  it.each(table)('%s → %s', (_what, error, phase, code) => {
    const mapped = sshFailureToApiError(error, context(phase));
    expectHelpful(mapped, code);
  });

  it('does not blame sshd first for a connection closed before any byte came back', () => {
    const error = sshFailureToApiError(ssh2Error('Connection lost before handshake', { level: 'protocol' }), context('banner'));
    expect(error.message).toBe(
      'Host db-2 (198.18.0.5:22) accepted the connection on port 22 and closed it (closed) without an SSH greeting: nothing that speaks SSH answered there.',
    );
    expect(error.remedy).toMatch(/^Check the address and port \(`nc -v 198\.18\.0\.5 22`/);
    expect(error.remedy).not.toMatch(/fail2ban/);
  });

  it('says which credential was refused and what the server takes instead', () => {
    const password = authFailedError(db2, 'ops', 'password', ['publickey']);
    expectHelpful(password, 'AUTH_FAILED');
    expect(password.message).toBe('Host db-2 (198.18.0.5:22) refused the password for user ops (it accepts: publickey).');
    expect(password.remedy).toMatch(/does not take passwords/);
    expect(authFailedError(db2, 'ops', 'key', null).remedy).toMatch(/authorized_keys/);
    expect(authFailedError(db2, 'ops', 'agent', null).remedy).toMatch(/ssh-add -l/);
  });

  it('tells a dead address from a silent sshd when the deadline passes', () => {
    const cases: Array<[ConnectPhase, ErrorCode, RegExp]> = [
      ['resolving', 'ADDRESS_UNRESOLVED', /could not be looked up within 5 s/],
      ['connecting', 'HOST_UNREACHABLE', /did not answer within 5 s/],
      ['banner', 'HANDSHAKE_TIMEOUT', /accepted the connection but sent no SSH greeting within 5 s/],
      ['key-exchange', 'HANDSHAKE_TIMEOUT', /key exchange within 5 s/],
      ['authenticating', 'HANDSHAKE_TIMEOUT', /logging in within 5 s/],
      ['forwarding', 'HOST_UNREACHABLE', /Jump host gw \(198\.18\.0\.1:2222\) for db-2 could not reach host db-2/],
    ];
    for (const [phase, code, message] of cases) {
      const error = connectTimeoutError(db2, phase, 5000, gateway);
      expectHelpful(error, code);
      expect(error.message).toMatch(message);
    }
  });

  it('names the jump host when the failure is on the way', () => {
    const error = sshFailureToApiError(
      ssh2Error('connect ECONNREFUSED 198.18.0.1:2222', { code: 'ECONNREFUSED', level: 'client-socket' }),
      {
        ...context('connecting'),
        endpoint: gateway,
      },
    );
    expectHelpful(error, 'CONNECTION_REFUSED', gateway);
    expect(error.message).toBe('Jump host gw (198.18.0.1:2222) for db-2 refused the connection on port 2222 (ECONNREFUSED).');
  });
});

describe('a jump host that cannot open the channel', () => {
  const table: Array<[string, Record<string, unknown>, ErrorCode]> = [
    ['Connection refused', { reason: 2 }, 'CONNECTION_REFUSED'],
    ['No route to host', { reason: 2 }, 'HOST_UNREACHABLE'],
    ['Connection timed out', { reason: 2 }, 'HOST_UNREACHABLE'],
    ['Name or service not known', { reason: 2 }, 'ADDRESS_UNRESOLVED'],
    ['administratively prohibited: open failed', { reason: 1 }, 'SSH_FAILED'],
  ];
  it.each(table)('"%s" → %s', (description, props, code) => {
    const error = forwardFailureToApiError(ssh2Error(`(SSH) Channel open failure: ${description}`, props), db2, gateway);
    expectHelpful(error, code);
  });
});

describe('host key refusals', () => {
  const trustedAt = Date.UTC(2026, 4, 3, 12, 0, 0);

  it('shows an unknown key for the operator to compare', () => {
    const error = hostKeyUnknownError(db2, { keyType: 'ssh-ed25519', fingerprint: 'SHA256:newnewnew' });
    expectHelpful(error, 'HOST_KEY_UNKNOWN');
    expect(error).toBeInstanceOf(HostKeyRefusedError);
    expect(error.message).toBe(
      'Host db-2 (198.18.0.5:22) presents the host key ssh-ed25519 SHA256:newnewnew, which you have not trusted yet; no credential was sent.',
    );
    expect(error.remedy).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(error.remedy).toContain('on the host page (Check host key)');
    expect(error.remedy).not.toContain('sutazai');
    expect(error.cliRemedy).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(error.cliRemedy).toContain('sutazai hosts trust db-2 --trust SHA256:newnewnew');
    // Both words cross a pipe: the CLI's client gets the command line's.
    expect(ApiError.fromBody(error.toBody()).cliRemedy).toBe(error.cliRemedy);
    expect(remedyForCli(error.toBody())).toBe(error.cliRemedy);
    expect(error.presented).toEqual({ keyType: 'ssh-ed25519', fingerprint: 'SHA256:newnewnew' });
  });

  it('names both fingerprints and the day of trust when the key changed', () => {
    const pinned = { keyType: 'ssh-ed25519', fingerprint: 'SHA256:oldoldold', trustedAt };
    const error = hostKeyMismatchError(db2, pinned, { keyType: 'ssh-ed25519', fingerprint: 'SHA256:newnewnew' });
    expectHelpful(error, 'HOST_KEY_MISMATCH');
    expect(formatTrustDate(trustedAt)).toBe('3 May 2026');
    expect(error.message).toBe(
      'The host key of host db-2 (198.18.0.5:22) changed since you trusted it on 3 May 2026 (ssh-ed25519 SHA256:oldoldold); it now presents ssh-ed25519 SHA256:newnewnew. Nothing was sent to it.',
    );
    expect(error.remedy).toMatch(/deliberate/);
    expect(error.remedy).toContain('Check host key → Re-trust new key');
    expect(error.remedy).not.toContain('sutazai');
    expect(error.cliRemedy).toMatch(/deliberate/);
    expect(error.cliRemedy).toContain('sutazai hosts trust db-2 --trust SHA256:newnewnew');
    expect(error.pinned).toEqual(pinned);
  });

  it('says so when the host no longer offers the pinned key type at all', () => {
    const error = hostKeyMismatchError(db2, { keyType: 'ssh-rsa', fingerprint: 'SHA256:old', trustedAt }, null);
    expectHelpful(error, 'HOST_KEY_MISMATCH');
    expect(error.message).toMatch(/it no longer offers a key of type ssh-rsa/);
  });
});

describe('key files', () => {
  it('says why a key file cannot be used', () => {
    const missing = keyFileUnreadableError(db2, '/home/op/.ssh/id_gone', Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    expectHelpful(missing, 'KEY_FILE_UNREADABLE');
    expect(missing.message).toBe('The private key /home/op/.ssh/id_gone for host db-2 (198.18.0.5:22) does not exist; nothing was sent.');
    expect(keyFileUnreadableError(db2, 'k', Object.assign(new Error('x'), { code: 'EACCES' })).message).toMatch(/permission denied/);
    expect(keyFileUnreadableError(db2, 'k', new Error('Unsupported key format')).message).toMatch(/Unsupported key format/);
  });

  it('tells a wrong passphrase from a missing one', () => {
    const wrong = keyPassphraseError(db2, '/k', true);
    const missing = keyPassphraseError(db2, '/k', false);
    expectHelpful(wrong, 'KEY_PASSPHRASE_WRONG');
    expectHelpful(missing, 'KEY_PASSPHRASE_WRONG');
    expect(wrong.message).toMatch(/does not decrypt/);
    expect(missing.message).toMatch(/no passphrase was given/);
  });
});

describe('requests a logged-in server refuses', () => {
  it('names the refused request in the message and the remedy, with its own code', () => {
    const exec = new ChannelRefusedError(db2, 'exec', new Error('Unable to exec'));
    expectHelpful(exec, 'SSH_CHANNEL_REFUSED');
    expect([exec.request, exec.message]).toEqual([
      'exec',
      'Host db-2 (198.18.0.5:22) refused to start a command for this login (Unable to exec).',
    ]);
    expect(exec.remedy).toMatch(/refused the exec request/);

    const sftp = new ChannelRefusedError(db2, 'sftp', new Error('Unable to start subsystem: sftp'));
    expectHelpful(sftp, 'SSH_CHANNEL_REFUSED');
    expect(sftp.remedy).toMatch(/refused the sftp subsystem/);

    // OpenSSH past MaxSessions: CHANNEL_OPEN_FAILURE, reason 1 (administratively prohibited).
    const channel = new ChannelRefusedError(db2, 'channel', ssh2Error('(SSH) Channel open failure: open failed', { reason: 1 }));
    expectHelpful(channel, 'SSH_CHANNEL_REFUSED');
    expect(channel.message).toBe('Host db-2 (198.18.0.5:22) refused to open another session channel on the connection (open failed).');
    expect(channel.remedy).toMatch(/MaxSessions/);
    expect(
      new ChannelRefusedError(db2, 'channel', ssh2Error('(SSH) Channel open failure: server closed channel unexpectedly', { reason: '' }))
        .remedy,
    ).toMatch(/check its log/);
  });
});

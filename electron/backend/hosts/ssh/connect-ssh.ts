import type { Client } from 'ssh2';
import { startConnectDeadline } from './connect-deadline';
import { openStreamTo, prepareChainLogins } from './open-hop-chain';
import { openSshHop } from './open-ssh-hop';
import { endpointOf } from './ssh-endpoint';
import { createSshSession, type SshSession } from './ssh-session';
import type { SshTarget } from './ssh-target';

export type { SshCredentials, SshTarget } from './ssh-target';
export type { ExecOptions, ExecResult, SshSession } from './ssh-session';
export type { PinnedHostKey } from './check-host-key';
export { scanHostKey, type ScannedHostKey } from './scan-host-key';

export interface ConnectOptions {
  /** One deadline for the whole connect, jump hosts included. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** ssh2's protocol trace, for tests and diagnostics; it names packets, never secrets. */
  trace?: (line: string) => void;
}

/**
 * Logs in to `target` (through its jump hosts), trusting only its pinned host key: an
 * unpinned or changed key ends the connection during key exchange, before any password,
 * key signature or agent signature is sent. Key files are read and decrypted first, so
 * a bad file or passphrase fails without touching the network. Every failure is an
 * ApiError naming the host (see `ssh-errors.ts`), and leaves no socket open.
 */
export async function connectSsh(target: SshTarget, options: ConnectOptions): Promise<SshSession> {
  const logins = await prepareChainLogins(target, target);
  const login = logins.get(target)!;
  const deadline = startConnectDeadline(options.timeoutMs, options.signal);
  const opened: Client[] = [];
  const trace = options.trace ? { trace: options.trace } : {};
  try {
    const stream = await openStreamTo(target, { deadline, opened, logins, ...trace });
    const client = await openSshHop({ endpoint: endpointOf(target), deadline, ...stream, ...trace }, target.pinned, login);
    return createSshSession(endpointOf(target), [client, ...opened]);
  } catch (error) {
    for (const client of opened) client.destroy();
    throw error;
  } finally {
    deadline.dispose();
  }
}

import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import type { ApiError } from '../../../contract';
import { createChannelAdmission, needsStrictChannelOrder } from './channel-admission';
import { hangUp } from './hang-up';
import { ChannelRefusedError, ForwardRefusedError, commandTimeoutError, sessionError, type RefusedRequest } from './ssh-errors';
import type { SshEndpoint } from './ssh-endpoint';

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed. */
  stdin?: string | Buffer;
  timeoutMs?: number;
}

export interface ExecResult {
  /** Null when the command was killed by a signal or the server sent no exit status. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface SshSession {
  /** The host this session is logged in to, for messages. */
  readonly endpoint: SshEndpoint;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** How many exec channels this session opened: the probe's "one round trip" check. */
  readonly execChannels: number;
  /**
   * A TCP connection that the host opens to `address:port` on its own side (a
   * direct-tcpip channel, like `ssh -L`), e.g. to a service on its loopback. Rejects with
   * ForwardRefusedError when the host will not (nothing listens, forwarding is off), or
   * with the session's error once it is closed or lost.
   */
  forwardOut(address: string, port: number): Promise<ClientChannel>;
  /** An SFTP channel (uploads); it ends with the session. Rejects with the session's error once it is closed or lost. */
  sftp(): Promise<SFTPWrapper>;
  /**
   * A command whose stdin and stdout stay open for a conversation (exec's result is read
   * whole); the caller reads, writes and ends the channel. It ends with the session.
   */
  execChannel(command: string): Promise<ClientChannel>;
  /** Why the connection ended on its own (network, sshd), or null while it is up or after close(). */
  readonly lost: ApiError | null;
  /** Set once close() was called. */
  readonly closed: boolean;
  /** Ends the connection and every jump connection under it. */
  close(): void;
}

// A command's output is read whole; past this it is not a probe or a status check.
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
/** How ssh2 reported a refused request: an open failure carries RFC 4254's `reason`. */
function refusal(endpoint: SshEndpoint, request: Exclude<RefusedRequest, 'channel'>, error: Error): ApiError {
  if ('reason' in error) return new ChannelRefusedError(endpoint, 'channel', error);
  if (request === 'sftp' && !/subsystem|SFTP session/i.test(error.message))
    return sessionError(endpoint, `opening an SFTP channel failed (${error.message})`, error);
  return new ChannelRefusedError(endpoint, request, error);
}

/**
 * A logged-in connection. `hops` is the target's client first, then the jump hosts'
 * clients (nearest first); closing the session closes them all.
 */
export function createSshSession(endpoint: SshEndpoint, hops: Client[]): SshSession {
  const first = hops[0];
  if (first === undefined) throw new Error('a session needs a connected client');
  const client: Client = first;
  let execChannels = 0;
  let closedByUs = false;
  let lost: ApiError | null = null;
  const running = new Set<(error: ApiError) => void>();
  // ssh2 keeps the server's software version (`dropbear_2022.83`) from its greeting, untyped.
  const channels = createChannelAdmission(needsStrictChannelOrder((client as { _remoteVer?: string })._remoteVer));

  const onLost = (cause?: unknown) => {
    if (closedByUs || lost !== null) return;
    lost = sessionError(endpoint, 'the SSH connection was lost', cause);
    for (const abort of running) abort(lost);
    closeAll();
  };
  // Every hop's failure ends the session; the listeners also keep ssh2's late
  // errors from being thrown as uncaught.
  for (const hop of hops) {
    hop.on('error', onLost);
    hop.on('close', () => onLost());
  }

  function closeAll() {
    hangUp(hops);
  }

  function exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (closedByUs) return Promise.reject(sessionError(endpoint, 'this SSH session is already closed'));
    if (lost !== null) return Promise.reject(lost);
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | null = null;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: { result: ExecResult } | { error: ApiError }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        running.delete(abort);
        if ('error' in outcome) {
          channel?.destroy();
          reject(outcome.error);
        } else {
          resolve(outcome.result);
        }
      };
      const abort = (error: ApiError) => finish({ error });
      running.add(abort);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          // Dropbear and OpenSSH honour a signal request; closing the channel hangs up either way.
          channel?.signal('KILL');
          finish({ error: commandTimeoutError(endpoint, options.timeoutMs!) });
        }, options.timeoutMs);
      }

      execChannels += 1;
      const start = (release: () => void) => {
        if (settled) {
          release();
          return;
        }
        client.exec(command, (error, stream) => {
          release();
          if (error) {
            finish({ error: refusal(endpoint, 'exec', error) });
            return;
          }
          channels.opened(stream, 'command');
          if (settled) {
            stream.destroy();
            return;
          }
          channel = stream;
          const stdout: Buffer[] = [];
          const stderr: Buffer[] = [];
          let bytes = 0;
          let code: number | null = null;
          let signal: string | null = null;
          const collect = (into: Buffer[]) => (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > MAX_OUTPUT_BYTES) {
              finish({ error: sessionError(endpoint, `a command wrote more than ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB of output`) });
              return;
            }
            into.push(chunk);
          };
          stream.on('data', collect(stdout));
          stream.stderr.on('data', collect(stderr));
          stream.on('exit', (exitCode: number | null, exitSignal?: string) => {
            code = typeof exitCode === 'number' ? exitCode : null;
            signal = exitSignal ?? null;
          });
          stream.on('close', () => {
            finish({
              result: { code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') },
            });
          });
          stream.end(options.stdin ?? undefined);
        });
      };
      void channels.admit().then((release) => {
        try {
          start(release);
        } catch (error) {
          release();
          finish({ error: sessionError(endpoint, 'the SSH connection is closed', error) });
        }
      });
    });
  }

  /**
   * Opens a channel (a forward, SFTP): rejected at once when the session is closed or lost,
   * and with the session's error when it ends before the server answers; a channel that
   * arrives after that is let go with `discard`.
   */
  function openChannel<T>(
    open: (done: (error: Error | undefined, channel: T | undefined) => void) => void,
    discard: (channel: T) => void,
    refused: (error: Error) => ApiError,
    session?: { opened(channel: T): void },
  ): Promise<T> {
    if (closedByUs) return Promise.reject(sessionError(endpoint, 'this SSH session is already closed'));
    if (lost !== null) return Promise.reject(lost);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const abort = (error: ApiError) => {
        if (settled) return;
        settled = true;
        running.delete(abort);
        reject(error);
      };
      running.add(abort);
      const start = (release: () => void) => {
        if (settled) {
          release();
          return;
        }
        try {
          open((error, channel) => {
            release();
            if (channel !== undefined) session?.opened(channel);
            if (settled) {
              if (channel !== undefined) discard(channel);
              return;
            }
            settled = true;
            running.delete(abort);
            if (error) reject(refused(error));
            else resolve(channel as T);
          });
        } catch (error) {
          release();
          abort(sessionError(endpoint, 'the SSH connection is closed', error));
        }
      };
      // A forward is no session channel: it has no process on the host and need not wait.
      if (session === undefined) start(() => undefined);
      else void channels.admit().then(start);
    });
  }

  function forwardOut(address: string, port: number): Promise<ClientChannel> {
    return openChannel<ClientChannel>(
      // The source address is what the host's sshd log shows; it has no other meaning.
      (done) => client.forwardOut('127.0.0.1', 0, address, port, done),
      (channel) => channel.destroy(),
      (error) => new ForwardRefusedError(endpoint, address, port, error),
    );
  }

  function sftp(): Promise<SFTPWrapper> {
    return openChannel<SFTPWrapper>(
      (done) => client.sftp(done),
      (channel) => channel.end(),
      (error) => refusal(endpoint, 'sftp', error),
      { opened: (channel) => channels.opened(channel, 'conversation') },
    );
  }

  function execChannel(command: string): Promise<ClientChannel> {
    execChannels += 1;
    return openChannel<ClientChannel>(
      (done) => client.exec(command, done),
      (channel) => channel.destroy(),
      (error) => refusal(endpoint, 'exec', error),
      { opened: (channel) => channels.opened(channel, 'conversation') },
    );
  }

  return {
    endpoint,
    exec,
    forwardOut,
    sftp,
    execChannel,
    get execChannels() {
      return execChannels;
    },
    get lost() {
      return lost;
    },
    get closed() {
      return closedByUs;
    },
    close() {
      if (closedByUs) return;
      closedByUs = true;
      const error = sessionError(endpoint, 'the SSH session was closed while a command ran');
      for (const abort of running) abort(error);
      closeAll();
    },
  };
}

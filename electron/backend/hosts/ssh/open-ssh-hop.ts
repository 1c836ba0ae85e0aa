import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type Client, type ConnectConfig, type NextAuthHandler } from 'ssh2';
import type { ApiError } from '../../../contract';
import { checkHostKey, hostKeyAlgorithmsFor, type HostKeyVerdict, type PinnedHostKey } from './check-host-key';
import type { ConnectDeadline } from './connect-deadline';
import { hostKeyIdentity, type HostKeyIdentity } from './host-key-fingerprint';
import {
  connectCancelledError,
  connectTimeoutError,
  hostKeyMismatchError,
  hostKeyUnknownError,
  hostKeyUnreadableError,
  sshFailureToApiError,
  type ConnectPhase,
  type CredentialMethod,
} from './ssh-errors';
import type { SshEndpoint } from './ssh-endpoint';

/**
 * One SSH connection (a "hop"): a socket (TCP, or a channel forwarded by a jump host)
 * turned into a logged-in ssh2 Client, or, when scanning, into the key the server shows.
 *
 * Trust before credentials: ssh2 calls `hostVerifier` during key exchange and starts
 * user authentication only after it returned true (kex.js: a rejected key is a fatal
 * handshake error; onHandshakeComplete then asks for ssh-userauth). The credential is
 * handed to ssh2 only from `authHandler`, which ssh2 calls after the server accepted
 * the ssh-userauth service, so before a trusted key ssh2 does not even hold it.
 */

export interface HopLogin {
  user: string;
  method: CredentialMethod;
  /** Called once, by ssh2's authHandler, after the host key was accepted. */
  authMethod(): AnyAuthMethod;
}

export interface HopOptions {
  endpoint: SshEndpoint;
  /** A net.Socket still connecting, or a connected stream (a jump host's channel). */
  sock: Duplex;
  deadline: ConnectDeadline;
  /** The jump host the stream came through, for the wording of errors. */
  jump?: SshEndpoint;
  /** ssh2's protocol trace (no secrets: it names packets, not their contents). */
  trace?: (line: string) => void;
}

export interface PresentedHostKey extends HostKeyIdentity {
  publicKey: Buffer;
}

type HopMode = { kind: 'login'; pinned: PinnedHostKey | null; login: HopLogin } | { kind: 'scan' };

/** Logs in over `sock`; on any failure the client and the socket are destroyed. */
export function openSshHop(options: HopOptions, pinned: PinnedHostKey | null, login: HopLogin): Promise<Client> {
  return runHop(options, { kind: 'login', pinned, login }) as Promise<Client>;
}

/** Reads the host key and hangs up in the middle of the key exchange; nothing is sent. */
export function scanHopKey(options: HopOptions): Promise<PresentedHostKey> {
  return runHop(options, { kind: 'scan' }) as Promise<PresentedHostKey>;
}

function runHop(options: HopOptions, mode: HopMode): Promise<Client | PresentedHostKey> {
  const { endpoint, sock, deadline } = options;
  const client = new ssh2.Client();
  const dialling = sock instanceof net.Socket && sock.connecting;
  let phase: ConnectPhase = !dialling ? 'banner' : net.isIP(endpoint.address) === 0 ? 'resolving' : 'connecting';
  let verdict: HostKeyVerdict | null = null;
  let scanned: PresentedHostKey | null = null;
  let unreadableKey: unknown = null;
  let authAttempted = false;
  let serverMethods: readonly string[] | null = null;
  const restrictedHostKeys = mode.kind === 'login' && mode.pinned !== null ? hostKeyAlgorithmsFor(mode.pinned.keyType) : null;

  return new Promise((resolve, reject) => {
    let settled = false;

    const detach = () => {
      deadline.signal.removeEventListener('abort', onDeadline);
      client.removeListener('ready', onReady);
      client.removeListener('handshake', onHandshake);
      client.removeListener('close', onClose);
      sock.removeListener('lookup', onLookup);
      sock.removeListener('connect', onSocketConnect);
      sock.removeListener('data', onFirstBytes);
      // ssh2 may still report the teardown; a listener keeps that from being thrown.
      client.removeListener('error', onError);
      client.on('error', ignore);
    };
    const succeed = (value: Client | PresentedHostKey, destroy: boolean) => {
      if (settled) return;
      settled = true;
      detach();
      if (destroy) destroyHop(client, sock);
      resolve(value);
    };
    const fail = (error: ApiError) => {
      if (settled) return;
      settled = true;
      detach();
      destroyHop(client, sock);
      reject(error);
    };

    /** What the failure means, once our own decisions (key verdict, scan) are taken out. */
    const explain = (error: unknown): ApiError => {
      if (verdict?.kind === 'unknown') return hostKeyUnknownError(endpoint, verdict.presented);
      if (verdict?.kind === 'mismatch') return hostKeyMismatchError(endpoint, verdict.pinned, verdict.presented);
      if (
        mode.kind === 'login' &&
        mode.pinned !== null &&
        restrictedHostKeys &&
        /no matching host key/i.test((error as Error | null)?.message ?? '')
      ) {
        return hostKeyMismatchError(endpoint, mode.pinned, null);
      }
      if (unreadableKey !== null) return hostKeyUnreadableError(endpoint, unreadableKey);
      return sshFailureToApiError(error, {
        endpoint,
        phase,
        user: mode.kind === 'login' ? mode.login.user : '',
        method: mode.kind === 'login' ? mode.login.method : null,
        serverMethods,
      });
    };

    const onError = (error: unknown) => {
      if (mode.kind === 'scan' && scanned !== null) succeed(scanned, true);
      else fail(explain(error));
    };
    const onClose = () => {
      if (mode.kind === 'scan' && scanned !== null) succeed(scanned, true);
      else fail(explain(new Error('the server closed the connection')));
    };
    const onDeadline = () => {
      fail(deadline.cancelled ? connectCancelledError(endpoint) : connectTimeoutError(endpoint, phase, deadline.timeoutMs, options.jump));
    };
    const onLookup = () => {
      if (phase === 'resolving') phase = 'connecting';
    };
    const onSocketConnect = () => {
      if (phase === 'resolving' || phase === 'connecting') phase = 'banner';
    };
    const onFirstBytes = () => {
      if (phase === 'banner') phase = 'key-exchange';
      sock.removeListener('data', onFirstBytes);
    };
    const onHandshake = () => {
      phase = 'authenticating';
    };
    const onReady = () => succeed(client, false);

    const hostVerifier = (blob: Buffer): boolean => {
      let presented: HostKeyIdentity;
      try {
        presented = hostKeyIdentity(blob);
      } catch (error) {
        unreadableKey = error;
        return false;
      }
      if (mode.kind === 'scan') {
        scanned = { ...presented, publicKey: Buffer.from(blob) };
        return false;
      }
      verdict = checkHostKey(mode.pinned, blob);
      return verdict.kind === 'trusted';
    };

    // One attempt with the one configured credential; the second call means it was
    // refused, and `false` ends authentication (no keyboard-interactive fallback).
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
      if (mode.kind === 'scan' || verdict?.kind !== 'trusted') {
        next(false as unknown as AuthenticationType);
        return;
      }
      if (authAttempted) {
        serverMethods = methodsLeft ?? null;
        next(false as unknown as AuthenticationType);
        return;
      }
      authAttempted = true;
      next(mode.login.authMethod());
    };

    if (deadline.signal.aborted) {
      onDeadline();
      return;
    }
    deadline.signal.addEventListener('abort', onDeadline, { once: true });
    client.on('error', onError);
    client.on('close', onClose);
    client.on('handshake', onHandshake);
    client.on('ready', onReady);
    sock.on('lookup', onLookup);
    sock.on('connect', onSocketConnect);

    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: mode.kind === 'login' ? mode.login.user : 'sutazai-scan',
      hostVerifier,
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
      // The connect deadline is ours (one for all hops, and it tells a dead address
      // from a silent sshd); ssh2's timer would only race it.
      readyTimeout: 0,
      tryKeyboard: false,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      ...(options.trace ? { debug: options.trace } : {}),
    };
    if (restrictedHostKeys !== null) {
      config.algorithms = { serverHostKey: restrictedHostKeys as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
    }
    try {
      client.connect(config);
    } catch (error) {
      fail(explain(error));
      return;
    }
    // ssh2 paused the socket, so this listener sees the first bytes without consuming them.
    sock.on('data', onFirstBytes);
  });
}

function destroyHop(client: Client, sock: Duplex): void {
  try {
    client.destroy();
  } catch {
    // already gone
  }
  sock.destroy();
}

function ignore(): void {}

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { logTail, type Daemon } from './daemon';
import { IP } from './netns';
import { runCommand } from './run-command';

// Readiness from where the control center stands: a TCP connection from the root
// namespace, and for SSH servers the identification line (RFC 4253 4.2) they send first.

const RETRY_MS = 20;
const ATTEMPT_TIMEOUT_MS = 1_000;
export const READY_TIMEOUT_MS = 10_000;

/**
 * Resolves with the server's `SSH-2.0-...` line once one arrives. `fromNamespace`: look
 * from inside that namespace instead (for a host the root namespace cannot reach).
 */
export function waitForSshBanner(
  address: string,
  port: number,
  daemon: Daemon,
  options: { fromNamespace?: string; timeoutMs?: number } = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  if (options.fromNamespace !== undefined) {
    const namespace = options.fromNamespace;
    return poll(address, port, daemon, timeoutMs, 'SSH banner', (attemptMs) => bannerFromNamespace(namespace, address, port, attemptMs));
  }
  return waitFor(address, port, daemon, timeoutMs, 'SSH banner', (socket, done) => {
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const line = received.split('\n').find((l) => l.startsWith('SSH-'));
      if (line !== undefined) done(line.trim());
      else if (received.length > 8192) done(undefined);
    });
  });
}

/** Resolves once a TCP connection is accepted (for servers that never speak). */
export function waitForTcpAccept(address: string, port: number, daemon: Daemon, timeoutMs = READY_TIMEOUT_MS): Promise<string> {
  return waitFor(address, port, daemon, timeoutMs, 'accepted TCP connection', (_socket, done) => done('connected'), true);
}

type Outcome = { ok: true; value: string } | { ok: false; error: string };

function waitFor(
  address: string,
  port: number,
  daemon: Daemon,
  timeoutMs: number,
  what: string,
  onSocket: (socket: net.Socket, done: (value: string | undefined) => void) => void,
  onConnect = false,
): Promise<string> {
  return poll(address, port, daemon, timeoutMs, what, (attemptMs) => attemptOnce(address, port, attemptMs, onSocket, onConnect));
}

async function poll(
  address: string,
  port: number,
  daemon: Daemon,
  timeoutMs: number,
  what: string,
  attempt: (attemptMs: number) => Promise<Outcome>,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  const maxAttempts = Math.ceil(timeoutMs / RETRY_MS) + 1;
  for (let n = 0; n < maxAttempts && Date.now() < deadline; n++) {
    if (daemon.hasExited()) {
      throw new Error(
        `${address}:${port}: the server exited (${await daemon.exited}) before any ${what}; its log:\n${logTail(daemon.logFile)}`,
      );
    }
    const remaining = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
    const result = await attempt(remaining);
    if (result.ok) return result.value;
    lastError = result.error;
    await sleep(RETRY_MS);
  }
  throw new Error(`${address}:${port}: no ${what} within ${timeoutMs} ms (last: ${lastError}); server log:\n${logTail(daemon.logFile)}`);
}

function attemptOnce(
  address: string,
  port: number,
  timeoutMs: number,
  onSocket: (socket: net.Socket, done: (value: string | undefined) => void) => void,
  onConnect: boolean,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `nothing within ${timeoutMs} ms` }), timeoutMs);
    const done = (value: string | undefined) => finish(value === undefined ? { ok: false, error: 'no banner line' } : { ok: true, value });
    socket.on('error', (error) => finish({ ok: false, error: error.message }));
    socket.on('close', () => finish({ ok: false, error: 'closed before ready' }));
    if (onConnect) socket.on('connect', () => onSocket(socket, done));
    else onSocket(socket, done);
  });
}

/** One look from inside a namespace: bash's /dev/tcp, first line of what the server sends. */
async function bannerFromNamespace(namespace: string, address: string, port: number, attemptMs: number): Promise<Outcome> {
  const seconds = Math.max(0.1, attemptMs / 1000).toFixed(1);
  const script = 'exec 3<>"/dev/tcp/$1/$2" && head -n 1 <&3';
  try {
    const result = await runCommand(
      [IP, 'netns', 'exec', namespace, '/usr/bin/timeout', seconds, '/bin/bash', '-c', script, 'banner', address, String(port)],
      { okCodes: 'any', timeoutMs: attemptMs + 2_000 },
    );
    const line = result.stdout.split('\n').find((l) => l.startsWith('SSH-'));
    return line !== undefined ? { ok: true, value: line.trim() } : { ok: false, error: result.stderr.trim() || `exit code ${result.code}` };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

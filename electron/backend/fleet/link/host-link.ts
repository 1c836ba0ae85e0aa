import type { ApiError } from '../../../contract';
import type { SshSession } from '../../hosts/ssh/ssh-session';
import type { RuntimeConnection } from '../runtime-connection';
import { backoffDelay, type BackoffPolicy } from './backoff';
import type { HandshakeSlots } from './handshake-slots';
import { connectFailedError, consumerFailedError, linkDownError } from './link-errors';
import type { LinkConsumer, LinkState, LinkStateName, LinkTarget } from './link-types';

/**
 * One installed host's link: it opens the SSH session, the tunnel and the gRPC channel
 * (through `open`), runs the consumers while it is up, checks on a timer that the runtime
 * still answers (a link cut without a word, an interface down, is noticed within one
 * keepalive), and when it goes down closes everything and opens it again after a capped,
 * jittered backoff. It waits, offline, while `blockedBy` names a reason (the vault locked).
 */
export interface LinkTiming {
  /** One deadline for the SSH login (jump hosts included). */
  connectTimeoutMs: number;
  /** Deadline of each unary call on the link's connection, the keepalive's included. */
  callTimeoutMs: number;
  /**
   * A health check after this long without a word from the runtime while up: a dead link is
   * noticed within this plus callTimeoutMs. The streams' messages are words too, so a link whose
   * metrics arrive every second is never asked.
   */
  keepaliveIntervalMs: number;
  /** Between two tries to open the link, and between two runs of a failed consumer. */
  backoff: BackoffPolicy;
  /** Connections being opened at once across all links. */
  maxConcurrentHandshakes: number;
  /** How often a blocked link (vault locked) looks again. */
  blockedPollMs: number;
  /** How long stopping waits for consumers to let go of their streams before closing under them. */
  consumerStopMs: number;
  /** How often the installs are read again once the links are started: an apply or uninstall by another process (the command line) is followed too. */
  rereadInstallsMs: number;
}

export const DEFAULT_LINK_TIMING: LinkTiming = {
  connectTimeoutMs: 20_000,
  callTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  backoff: { initialMs: 1_000, maxMs: 60_000 },
  maxConcurrentHandshakes: 4,
  blockedPollMs: 1_000,
  consumerStopMs: 5_000,
  rereadInstallsMs: 30_000,
};

export interface OpenedLink {
  session: SshSession;
  connection: RuntimeConnection;
}

export interface HostLinkDeps {
  target: LinkTarget;
  /** Opens the session, tunnel and channel, and checks that the runtime answers; `heard` marks every sign of life. */
  open(signal: AbortSignal, heard: () => void): Promise<OpenedLink>;
  /** Why the link cannot even try now (the vault is locked), or null. */
  blockedBy(): ApiError | null;
  consumers: readonly LinkConsumer[];
  slots: HandshakeSlots;
  timing: LinkTiming;
  now: () => number;
  random: () => number;
  onState(state: LinkState, previous: LinkState | null): void;
  logger: { info(details: object, message: string): void; warn(details: object, message: string): void };
}

export interface HostLink {
  readonly target: LinkTarget;
  state(): LinkState;
  /** The connection while online or degraded; FLEET_LINK_DOWN otherwise. */
  connection(): RuntimeConnection;
  /** The SSH session the connection runs through, on the same terms. */
  session(): SshSession;
  /** Stops for good: consumers aborted, everything closed. `final`: the last state to report (a removed host's), or none. */
  stop(final: ApiError | null): Promise<void>;
}

interface Current {
  state: LinkStateName;
  reason: ApiError | null;
  sinceMs: number;
}

export function startHostLink(deps: HostLinkDeps): HostLink {
  const { target, timing } = deps;
  const stopping = new AbortController();
  let lastSeenMs: number | null = null;
  let current: Current | null = null;
  let live: OpenedLink | null = null;
  let silenced = false;

  const heard = (): void => {
    lastSeenMs = deps.now();
  };
  const snapshot = (c: Current): LinkState => ({ target, state: c.state, lastSeenMs, reason: c.reason, sinceMs: c.sinceMs });

  function set(state: LinkStateName, reason: ApiError | null): void {
    if (current !== null && current.state === state && sameReason(current.reason, reason)) return;
    const previous = current === null ? null : snapshot(current);
    current = { state, reason, sinceMs: deps.now() };
    if (state !== previous?.state)
      deps.logger.info({ host: target.hostName, install: target.installName, state, code: reason?.code }, 'fleet link');
    if (!silenced) deps.onState(snapshot(current), previous);
  }

  /** Resolves after `ms`, or at once when `signal` aborts. */
  function pause(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async function connect(): Promise<OpenedLink> {
    const release = await deps.slots.acquire(stopping.signal);
    try {
      return await deps.open(stopping.signal, heard);
    } finally {
      release();
    }
  }

  /** Runs the consumers and the keepalive while the link is up; resolves with why it went down (null: stopped). */
  async function whileUp(opened: OpenedLink): Promise<ApiError | null> {
    const up = new AbortController();
    const onStop = (): void => up.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const failing = new Map<string, ApiError>();
    const showHealth = (): void => {
      const first = failing.values().next();
      if (first.done) set('online', null);
      else set('degraded', first.value);
    };
    let down: ApiError | null = null;
    const lose = (reason: ApiError): void => {
      down ??= reason;
      up.abort();
    };

    const runConsumer = async (consumer: LinkConsumer): Promise<void> => {
      let attempt = 0;
      while (!up.signal.aborted) {
        const startedMs = deps.now();
        try {
          await consumer.run(target, opened.connection, up.signal);
        } catch (error) {
          if (up.signal.aborted) return;
          // Streams ended by the SSH connection's loss (the host's sshd stopped) are the link going down, not a consumer failing.
          if (opened.session.lost !== null) return lose(opened.session.lost);
          failing.set(consumer.name, consumerFailedError(consumer.name, target, error));
          showHealth();
        }
        if (up.signal.aborted) return;
        // A consumer that ran longer than the longest wait was doing well: its waits start short again.
        if (deps.now() - startedMs > timing.backoff.maxMs) attempt = 0;
        await pause(backoffDelay(attempt++, timing.backoff, deps.random), up.signal);
        if (up.signal.aborted) return;
        // The connection lost meanwhile: down, rather than online again until the keepalive's next look.
        if (opened.session.lost !== null) return lose(opened.session.lost);
        failing.delete(consumer.name);
        showHealth();
      }
    };

    const keepalive = async (): Promise<void> => {
      while (!up.signal.aborted) {
        // Until keepaliveIntervalMs after the runtime was last heard (a stream's message, a call's answer), not after the last check.
        const quietFor = lastSeenMs === null ? 0 : deps.now() - lastSeenMs;
        await pause(Math.max(0, timing.keepaliveIntervalMs - quietFor), up.signal);
        if (up.signal.aborted) return;
        if (opened.session.lost !== null) {
          down = opened.session.lost;
          break;
        }
        if (lastSeenMs !== null && deps.now() - lastSeenMs < timing.keepaliveIntervalMs) continue;
        try {
          await opened.connection.checkHealth();
          // The answer is a word from the runtime: the next check waits a full interval even where the
          // connection reports no activity of its own (its onActivity is optional), instead of asking at once, in a loop.
          heard();
        } catch (error) {
          if (up.signal.aborted) return;
          down = connectFailedError(target, error);
          break;
        }
      }
      up.abort();
    };

    set('online', null);
    const running = deps.consumers.map((consumer) => runConsumer(consumer));
    await keepalive();
    stopping.signal.removeEventListener('abort', onStop);
    // Consumers stop their streams on the abort; closing the connection under one that does not is the last resort.
    await Promise.race([Promise.allSettled(running), pause(timing.consumerStopMs, new AbortController().signal)]);
    return stopping.signal.aborted ? null : down;
  }

  async function close(opened: OpenedLink): Promise<void> {
    live = null;
    await opened.connection.close().catch(() => undefined);
    opened.session.close();
  }

  async function run(): Promise<void> {
    let attempt = 0;
    while (!stopping.signal.aborted) {
      const blocked = deps.blockedBy();
      if (blocked !== null) {
        set('offline', blocked);
        await pause(timing.blockedPollMs, stopping.signal);
        continue;
      }
      // Connecting again keeps the reason it went down for, until it is up.
      set('connecting', current?.reason ?? null);
      let opened: OpenedLink;
      try {
        opened = await connect();
      } catch (error) {
        if (stopping.signal.aborted) return;
        set('offline', connectFailedError(target, error));
        await pause(backoffDelay(attempt++, timing.backoff, deps.random), stopping.signal);
        continue;
      }
      if (stopping.signal.aborted) {
        await close(opened);
        return;
      }
      attempt = 0;
      live = opened;
      const down = await whileUp(opened);
      await close(opened);
      if (down === null) return;
      deps.logger.warn({ host: target.hostName, install: target.installName, code: down.code, err: down.message }, 'fleet link lost');
      set('offline', down);
      await pause(backoffDelay(attempt++, timing.backoff, deps.random), stopping.signal);
    }
  }

  function up(): OpenedLink {
    const state = snapshot(current!);
    if (live === null || (state.state !== 'online' && state.state !== 'degraded')) throw linkDownError(state);
    return live;
  }

  set('connecting', null);
  const running = run().catch((error: unknown) => {
    // The loop catches what it expects; anything else must not leave the link looking alive.
    deps.logger.warn({ host: target.hostName, err: String(error) }, 'fleet link stopped by an unexpected error');
    set('offline', connectFailedError(target, error));
  });

  return {
    target,
    state: () => snapshot(current!),
    connection: () => up().connection,
    session: () => up().session,
    async stop(final) {
      if (final === null) silenced = true;
      stopping.abort();
      await running;
      if (final !== null) set('offline', final);
      silenced = true;
    },
  };
}

function sameReason(a: ApiError | null, b: ApiError | null): boolean {
  if (a === null || b === null) return a === b;
  return a.code === b.code && a.message === b.message;
}

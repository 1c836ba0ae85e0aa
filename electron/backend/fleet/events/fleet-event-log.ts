import type Database from 'better-sqlite3';
import type { RuntimeEvent__Output } from '../../../../agents-runtime/src/wire';
import type { EventsListParams, EventsPage, FleetEvent, FleetEventOrigin } from '../../../contract';
import type { StoreLogger } from '../../store/open-store';
import type { LinkTarget } from '../link/link-types';
import { DEFAULT_EVENT_RETENTION, type EventRetention } from './event-retention';
import { createFleetEventsRepo, type RuntimeEventCursor } from './fleet-events-repo';
import { runtimeEventRow } from './runtime-event-row';

/** An event this app records itself: an operator action (with who did it) or a link's change. */
export interface FleetEventInput {
  kind: string;
  origin: Exclude<FleetEventOrigin, 'runtime'>;
  /** The install's host it is about; null for what concerns no one host. */
  target: LinkTarget | null;
  process?: string | null;
  instance?: string | null;
  message: string;
  error?: { code: string; message: string; remedy: string } | null;
  /** `desktop`, `web:<session>`, `cli:<user>` for an operator action; null for what no one did. */
  actor: string | null;
  /** Default: now. */
  atMs?: number;
}

/**
 * The fleet's events in the store: appended by the parts that see them (the event ingest
 * of each link, the link changes, the operator actions), listed by the timeline and the
 * CLI, and handed to subscribers in the order recorded. Bounded by age and count on a timer.
 */
export interface FleetEventLog {
  append(event: FleetEventInput): FleetEvent;
  /**
   * Records what a host's runtime reported, once: an event sent again (after a reconnect,
   * from the runtime's ring) is dropped, even when retention has pruned it since. Returns
   * the stored event, or null when it was a repeat.
   */
  appendRuntime(target: LinkTarget, event: RuntimeEvent__Output): FleetEvent | null;
  /** Where the host's runtime events were read up to (resume WatchEvents from its atMs); null before the first. */
  runtimeCursor(hostId: number): RuntimeEventCursor | null;
  list(params: EventsListParams): EventsPage;
  /**
   * Every event recorded from now on, in id order, including those another backend on the
   * same data directory records (read back from the store while anyone listens).
   */
  subscribe(listener: (event: FleetEvent) => void): () => void;
  /** Applies the retention now; returns how many events went. */
  prune(): number;
  close(): void;
}

export interface FleetEventLogOptions {
  now?: () => number;
  retention?: EventRetention;
  /** How often retention runs; default 10 minutes (and once at start). */
  pruneEveryMs?: number;
  /** Prune on the timer (default true); a one-shot command does not, the backend serving the app owns the retention. */
  enforceRetention?: boolean;
  /** How often the store is read for events other backends recorded, while anyone listens; default 1 s. */
  pollEveryMs?: number;
  logger?: StoreLogger;
}

const DELIVERY_BATCH = 500;

export function createFleetEventLog(db: Database.Database, options: FleetEventLogOptions = {}): FleetEventLog {
  const now = options.now ?? Date.now;
  const retention = options.retention ?? DEFAULT_EVENT_RETENTION;
  const repo = createFleetEventsRepo(db);
  const listeners = new Set<(event: FleetEvent) => void>();
  // Delivered up to here (ids grow in commit order: SQLite has one writer at a time).
  let delivered = 0;
  let pollTimer: NodeJS.Timeout | undefined;
  let drainQueued = false;
  let closed = false;

  const drain = (): void => {
    drainQueued = false;
    if (closed || listeners.size === 0) return;
    for (;;) {
      const batch = repo.after(delivered, DELIVERY_BATCH);
      for (const event of batch) {
        delivered = event.id;
        for (const listener of [...listeners]) {
          try {
            listener(event);
          } catch (error) {
            options.logger?.warn({ err: String(error) }, 'a fleet event subscriber failed');
          }
        }
      }
      if (batch.length < DELIVERY_BATCH) return;
    }
  };
  const queueDrain = (): void => {
    if (drainQueued || listeners.size === 0) return;
    drainQueued = true;
    queueMicrotask(drain);
  };

  const prune = (): number => {
    const pruned = repo.prune(now() - retention.maxAgeMs, retention.maxEvents);
    if (pruned > 0) options.logger?.info({ pruned, retention }, 'fleet events past retention pruned');
    return pruned;
  };
  const runPrune = (): void => {
    try {
      prune();
    } catch (error) {
      options.logger?.error({ err: String(error) }, 'pruning fleet events failed; retried on the next round');
    }
  };
  let pruneTimer: NodeJS.Timeout | undefined;
  if (options.enforceRetention ?? true) {
    runPrune();
    pruneTimer = setInterval(runPrune, options.pruneEveryMs ?? 10 * 60_000);
    pruneTimer.unref();
  }

  return {
    append(input) {
      const event = repo.insert(
        {
          atMs: input.atMs ?? now(),
          kind: input.kind,
          origin: input.origin,
          installName: input.target?.installName ?? null,
          hostId: input.target?.hostId ?? null,
          hostName: input.target?.hostName ?? null,
          process: input.process ?? null,
          instance: input.instance ?? null,
          state: null,
          message: input.message,
          error: input.error ?? null,
          lastLines: [],
          actor: input.actor,
          dedupKey: null,
        },
        now(),
      )!;
      queueDrain();
      return event;
    },
    appendRuntime(target, wire) {
      const { row, cursor } = runtimeEventRow(target, wire);
      const last = repo.cursor(target.hostId);
      // Already read once (and maybe pruned since): the ring sends it again after a reconnect.
      if (last !== null && last.runStartedAtMs === cursor.runStartedAtMs && cursor.sequence <= last.sequence) return null;
      const event = db.transaction(() => {
        repo.setCursor(target.hostId, cursor);
        return repo.insert(row, now());
      })();
      if (event !== null) queueDrain();
      return event;
    },
    runtimeCursor: (hostId) => repo.cursor(hostId),
    list: (params) => repo.list(params),
    subscribe(listener) {
      if (listeners.size === 0) {
        delivered = repo.newestId();
        // Not unref'd: while anyone listens (a followed `sutazai events -f`), the process stays to deliver.
        pollTimer = setInterval(queueDrain, options.pollEveryMs ?? 1000);
      }
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && pollTimer !== undefined) {
          clearInterval(pollTimer);
          pollTimer = undefined;
        }
      };
    },
    prune,
    close() {
      closed = true;
      clearInterval(pruneTimer);
      if (pollTimer !== undefined) clearInterval(pollTimer);
      listeners.clear();
    },
  };
}

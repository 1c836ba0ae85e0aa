import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuntimeEvent__Output } from '../../../agents-runtime/src/wire';
import { createFleetEventLog, type FleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import { eventRetentionFromEnv, DEFAULT_EVENT_RETENTION } from '../../../electron/backend/fleet/events/event-retention';
import { linkEvent, recordLinkEvents } from '../../../electron/backend/fleet/events/link-events';
import type { LinkState, LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { ApiError, EventsListParamsSchema, type FleetEvent } from '../../../electron/contract';
import { makeTempDir } from '../../support/temp-dir';

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let log: FleetEventLog | undefined;
let clock = 1_000_000;
const now = () => clock;

beforeEach(() => {
  dir = makeTempDir('sutazai-events-');
  store = openStore({ dataDir: dir.path });
  clock = 1_000_000;
});
afterEach(() => {
  log?.close();
  log = undefined;
  store.close();
  dir.remove();
});

function addHost(name: string): LinkTarget {
  const id = Number(
    store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'ssh', '192.0.2.1', 1)").run(name).lastInsertRowid,
  );
  return { installName: 'lab', hostId: id, hostName: name };
}

function wire(run: number, sequence: number, atMs: number, extra: Partial<RuntimeEvent__Output> = {}): RuntimeEvent__Output {
  return {
    atMs: String(atMs),
    kind: 'process.state',
    process: 'agent',
    instance: 'agent-1',
    state: 'PROCESS_STATE_RUNNING',
    message: `event ${run}:${sequence}`,
    error: null,
    runStartedAtMs: String(run),
    sequence: String(sequence),
    lastLines: [],
    ...extra,
  };
}

const list = (params: Record<string, unknown> = {}) => log!.list(EventsListParamsSchema.parse(params));

describe('FleetEventLog over the store', () => {
  it('records runtime events once: a repeat after a reconnect and a restarted runtime’s new run are told apart', () => {
    log = createFleetEventLog(store.db, { now });
    const host = addHost('alpha');
    expect(log.runtimeCursor(host.hostId)).toBeNull();
    expect(log.appendRuntime(host, wire(500, 1, 600))).not.toBeNull();
    expect(log.appendRuntime(host, wire(500, 2, 600))).not.toBeNull();
    // the ring again after a reconnect: both repeats dropped
    expect(log.appendRuntime(host, wire(500, 1, 600))).toBeNull();
    expect(log.appendRuntime(host, wire(500, 2, 600))).toBeNull();
    expect(log.runtimeCursor(host.hostId)).toEqual({ runStartedAtMs: 500, sequence: 2, atMs: 600 });
    // the runtime restarted: a new run starts at sequence 1 again and is new
    expect(log.appendRuntime(host, wire(900, 1, 950))).not.toBeNull();
    expect(list().events.map((e) => e.message)).toEqual(['event 900:1', 'event 500:2', 'event 500:1']);
  });

  it('keeps a crash’s last lines apart from its one-line message, with the error and the state named as the contract does', () => {
    log = createFleetEventLog(store.db, { now });
    const host = addHost('alpha');
    const stored = log.appendRuntime(
      host,
      wire(1, 1, 10, {
        kind: 'process.exit',
        state: 'PROCESS_STATE_CRASH_LOOP',
        message: 'agent-1 killed by SIGKILL; now crash-loop\nlast log lines:\nline one\nline two',
        lastLines: ['line one', 'line two'],
        error: { code: 'PROCESS_EXITED', message: 'exited', remedy: 'look at its log' },
      }),
    );
    expect(stored).toMatchObject({
      kind: 'process.exit',
      origin: 'runtime',
      installName: 'lab',
      hostId: host.hostId,
      hostName: 'alpha',
      process: 'agent',
      instance: 'agent-1',
      state: 'crash-loop',
      message: 'agent-1 killed by SIGKILL; now crash-loop',
      lastLines: ['line one', 'line two'],
      error: { code: 'PROCESS_EXITED', message: 'exited', remedy: 'look at its log' },
      actor: null,
    });
  });

  it('lists newest first in a stable order, filtered by host, process, kind and time, paged without a gap or a repeat', () => {
    log = createFleetEventLog(store.db, { now });
    const alpha = addHost('alpha');
    const beta = addHost('beta');
    for (let i = 1; i <= 7; i += 1) log.appendRuntime(alpha, wire(1, i, 100 + Math.floor(i / 2), { instance: `agent-${i % 2}` }));
    log.append({ kind: 'action.restart', origin: 'operator', target: beta, process: 'agent', message: 'restart agent', actor: 'cli:ops' });
    log.append({ kind: 'link.down', origin: 'link', target: alpha, message: 'alpha is offline', actor: null, atMs: 50 });

    const seen: FleetEvent[] = [];
    let page = list({ hostId: alpha.hostId, limit: 3 });
    for (;;) {
      seen.push(...page.events);
      if (page.next === null) break;
      page = list({ hostId: alpha.hostId, limit: 3, after: page.next });
    }
    expect(seen.map((e) => e.id)).toEqual([...new Set(seen.map((e) => e.id))]);
    expect(seen.map((e) => [e.atMs, e.id])).toEqual([...seen].sort((a, b) => b.atMs - a.atMs || b.id - a.id).map((e) => [e.atMs, e.id]));
    expect(seen).toHaveLength(8);
    expect(seen.at(-1)?.kind).toBe('link.down');

    expect(list({ process: 'agent-0' }).events.map((e) => e.message)).toEqual(['event 1:6', 'event 1:4', 'event 1:2']);
    expect(list({ process: 'agent' }).events.map((e) => e.kind)).toContain('action.restart');
    expect(list({ kinds: ['action.restart'] }).events).toMatchObject([{ actor: 'cli:ops', hostName: 'beta', origin: 'operator' }]);
    expect(list({ hostId: alpha.hostId, fromMs: 102, toMs: 103 }).events.map((e) => e.message)).toEqual(['event 1:5', 'event 1:4']);
  });

  it('hands subscribers every event in id order, including those another backend on the same data directory records', async () => {
    log = createFleetEventLog(store.db, { now, pollEveryMs: 20 });
    const other = createFleetEventLog(store.db, { now });
    const host = addHost('alpha');
    log.append({ kind: 'link.up', origin: 'link', target: host, message: 'before', actor: null });
    const got: string[] = [];
    const stop = log.subscribe((e) => got.push(e.message));
    log.append({ kind: 'link.up', origin: 'link', target: host, message: 'mine', actor: null });
    other.append({ kind: 'link.down', origin: 'link', target: host, message: 'theirs', actor: null });
    other.appendRuntime(host, wire(1, 1, 5));
    await expect.poll(() => got).toEqual(['mine', 'theirs', 'event 1:1']);
    stop();
    log.append({ kind: 'link.up', origin: 'link', target: host, message: 'after', actor: null });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(got).toEqual(['mine', 'theirs', 'event 1:1']);
    other.close();
  });

  it('prunes by age and by count, and an event pruned is not taken again from the runtime’s ring', () => {
    log = createFleetEventLog(store.db, { now, retention: { maxAgeMs: 1000, maxEvents: 3 } });
    const host = addHost('alpha');
    for (let i = 1; i <= 5; i += 1) log.appendRuntime(host, wire(1, i, clock - 10 + i));
    log.append({ kind: 'link.up', origin: 'link', target: host, message: 'old', actor: null, atMs: clock - 5000 });
    expect(log.prune()).toBe(3);
    expect(list().events.map((e) => e.message)).toEqual(['event 1:5', 'event 1:4', 'event 1:3']);
    for (let i = 1; i <= 5; i += 1) expect(log.appendRuntime(host, wire(1, i, clock - 10 + i))).toBeNull();
    clock += 2000;
    expect(log.prune()).toBe(3);
    expect(list().events).toEqual([]);
  });

  it('a one-shot command’s log does not prune at start: the serving backend owns the retention', () => {
    const host = addHost('alpha');
    const writer = createFleetEventLog(store.db, { now, enforceRetention: false });
    writer.append({ kind: 'link.up', origin: 'link', target: host, message: 'a year ago', actor: null, atMs: clock - 365 * 24 * 3600_000 });
    writer.close();
    log = createFleetEventLog(store.db, { now, retention: { maxAgeMs: 1000, maxEvents: 1000 }, enforceRetention: false });
    expect(list().events.map((e) => e.message)).toEqual(['a year ago']);
    log.close();
    log = createFleetEventLog(store.db, { now, retention: { maxAgeMs: 1000, maxEvents: 1000 } });
    expect(list().events).toEqual([]);
  });

  it('takes its retention from the environment: unset is the default, a value out of range is refused with a code and a remedy', () => {
    expect(eventRetentionFromEnv({})).toEqual(DEFAULT_EVENT_RETENTION);
    expect(eventRetentionFromEnv({ SUTAZAI_EVENTS_MAX_AGE_DAYS: '7', SUTAZAI_EVENTS_MAX_COUNT: '2000' })).toEqual({
      maxAgeMs: 7 * 24 * 3600 * 1000,
      maxEvents: 2000,
    });
    for (const env of [{ SUTAZAI_EVENTS_MAX_AGE_DAYS: '0' }, { SUTAZAI_EVENTS_MAX_AGE_DAYS: '1.5' }, { SUTAZAI_EVENTS_MAX_COUNT: '10' }]) {
      let error: unknown;
      try {
        eventRetentionFromEnv(env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'EVENTS_RETENTION_INVALID', remedy: expect.stringContaining(Object.keys(env)[0]!) });
    }
  });
});

describe('link events', () => {
  const target: LinkTarget = { installName: 'lab', hostId: 1, hostName: 'alpha' };
  const state = (name: LinkState['state'], sinceMs: number, reason: LinkState['reason'] = null): LinkState => ({
    target,
    state: name,
    lastSeenMs: null,
    reason,
    sinceMs,
  });

  it('records up, degraded and down in order, nothing for a link that never came up', () => {
    const appended: string[] = [];
    let listener: ((s: LinkState, p: LinkState | null) => void) | undefined;
    recordLinkEvents(
      { onChange: (l) => ((listener = l), () => undefined) },
      { append: (e) => (appended.push(`${e.kind}@${e.atMs}`), {} as FleetEvent) },
    );
    const cut = new ApiError('RUNTIME_UNREACHABLE', 'the tunnel closed', 'check the host');
    const steps = [
      state('connecting', 1),
      state('offline', 2, cut),
      state('connecting', 3),
      state('online', 4),
      state('degraded', 5, cut),
      state('online', 6),
      state('connecting', 7, cut),
      state('online', 8),
      state('offline', 9, cut),
    ];
    let previous: LinkState | null = null;
    for (const s of steps) {
      listener!(s, previous);
      previous = s;
    }
    expect(appended).toEqual(['link.up@4', 'link.degraded@5', 'link.down@7', 'link.up@8', 'link.down@9']);
    expect(linkEvent(state('offline', 9, cut), true, 'online')).toMatchObject({
      error: { code: 'RUNTIME_UNREACHABLE', remedy: 'check the host' },
    });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostMetric, MetricPoint } from '../../../electron/contract';
import { createMetricStore, type MetricStore, type MetricStoreOptions } from '../../../electron/backend/metrics/metric-store';
import { CHUNK_BYTES, emptyChunk, encodeChunk } from '../../../electron/backend/metrics/sample-chunk-codec';
import { decodeJournal } from '../../../electron/backend/metrics/sample-journal';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';

const T0 = Date.UTC(2025, 0, 1); // a whole hour, minute and second
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let dir: string;
let store: Store;
let hostId: number;
let now: number;
const metricStores: MetricStore[] = [];
let logged: string[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-metric-store-'));
  store = openStore({ dataDir: dir });
  hostId = createHostsRepo(store.db).ensureLocal(T0).id;
  now = T0;
  logged = [];
});

afterEach(() => {
  try {
    for (const metrics of metricStores.splice(0)) {
      try {
        metrics.close();
      } catch {
        // A test that broke the database on purpose cannot flush; the file goes anyway.
      }
    }
    store?.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function createStore(options: MetricStoreOptions = {}): MetricStore {
  const logger = {
    info: () => {},
    warn: (_: object, m: string) => logged.push(m),
    error: (_: object, m: string) => logged.push(m),
  };
  const metrics = createMetricStore(store.db, { clock: () => now, logger, ...options });
  metricStores.push(metrics);
  return metrics;
}

/** Records `value(i)` for second i of [fromMs, fromMs + seconds) and moves the clock along. */
function recordSeconds(
  metrics: MetricStore,
  fromMs: number,
  seconds: number,
  value: (i: number) => number | undefined,
  metric = 'cpu.percent',
) {
  for (let i = 0; i < seconds; i++) {
    now = fromMs + i * SEC;
    const v = value(i);
    metrics.record(hostId, now, v === undefined ? {} : { [metric]: v });
  }
}

function query(metrics: MetricStore, fromMs: number, toMs: number, maxPoints = 1500, metricNames: HostMetric[] = ['cpu.percent']) {
  return metrics.query({ hostId, metrics: metricNames, fromMs, toMs, maxPoints });
}

function points(metrics: MetricStore, fromMs: number, toMs: number, maxPoints = 1500): MetricPoint[] {
  return query(metrics, fromMs, toMs, maxPoints).series[0]!.points;
}

const count = (table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const rollupRows = (table: 'samples_1m' | 'samples_1h') =>
  store.db.prepare(`SELECT t, mean, min, max, count FROM ${table} ORDER BY t`).all();

describe('metric store: writing', () => {
  it('answers queries from samples still in memory, before any flush', () => {
    const metrics = createStore();
    now = T0 + 1500;
    metrics.record(hostId, now, { 'cpu.percent': 42 });
    expect(count('samples_1s')).toBe(0);
    expect(points(metrics, T0, T0 + 5 * MIN)).toEqual([[T0 + SEC, 42, 42, 42]]);
  });

  it('writes buffered samples once the flush interval has passed by the clock', () => {
    const metrics = createStore({ flushIntervalMs: 10 * SEC });
    recordSeconds(metrics, T0, 10, (i) => i); // clock ends at T0 + 9 s
    expect(count('samples_1s')).toBe(0);
    now = T0 + 10 * SEC;
    metrics.record(hostId, now, { 'cpu.percent': 10, 'load.1m': 1 });
    expect(count('samples_1s')).toBe(2); // one row per (series, minute)
    expect(count('metric_series')).toBe(2);
  });

  it('rolls completed minutes into the 1 min tier and hours into the 1 h tier', () => {
    const metrics = createStore();
    // Minute 0: 1..60; minute 1: only even seconds, value 100; minute 2 starts.
    recordSeconds(metrics, T0, 60, (i) => i + 1);
    recordSeconds(metrics, T0 + MIN, 60, (i) => (i % 2 === 0 ? 100 : undefined));
    recordSeconds(metrics, T0 + 2 * MIN, 1, () => 7);
    metrics.flush();
    expect(rollupRows('samples_1m')).toEqual([
      { t: T0, mean: 30.5, min: 1, max: 60, count: 60 },
      { t: T0 + MIN, mean: 100, min: 100, max: 100, count: 30 },
    ]);
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: (1830 + 3000) / 90, min: 1, max: 100, count: 90 }]);
  });

  it('keeps every tier of a closed store complete on disk and readable after a reopen', () => {
    const first = createStore();
    recordSeconds(first, T0, 90, (i) => i);
    const before = points(first, T0, T0 + 5 * MIN);
    first.close();
    expect(rollupRows('samples_1m')).toHaveLength(2); // the partial second minute was sealed too
    const second = createStore();
    expect(points(second, T0, T0 + 5 * MIN)).toEqual(before);
    expect(before).toHaveLength(90);
  });

  it('continues a minute across a restart without losing its first seconds', () => {
    const first = createStore();
    recordSeconds(first, T0, 10, (i) => i);
    first.close();
    const second = createStore();
    recordSeconds(second, T0 + 10 * SEC, 10, (i) => 10 + i);
    second.flush();
    const seconds = points(second, T0, T0 + 5 * MIN);
    expect(seconds.map((p) => p[1])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    second.close();
    expect(rollupRows('samples_1m')).toEqual([{ t: T0, mean: 9.5, min: 0, max: 19, count: 20 }]);
  });

  it('counts a minute once in its hour when it is sealed again after a restart (added at first, recomputed after)', () => {
    const first = createStore();
    recordSeconds(first, T0, 60, () => 2); // minute 0, whole
    recordSeconds(first, T0 + MIN, 30, () => 4); // minute 1, its first half
    first.close(); // seals both: each added to the hour
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: (120 + 120) / 90, min: 2, max: 4, count: 90 }]);
    const second = createStore();
    recordSeconds(second, T0 + MIN + 30 * SEC, 30, () => 6); // minute 1, its second half
    second.close();
    expect(rollupRows('samples_1m')).toEqual([
      { t: T0, mean: 2, min: 2, max: 2, count: 60 },
      { t: T0 + MIN, mean: 5, min: 4, max: 6, count: 60 },
    ]);
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: 3.5, min: 2, max: 6, count: 120 }]);
  });

  it("counts a minute once in its hour when another store on the file (a command's) sealed it first", () => {
    const serving = createStore();
    recordSeconds(serving, T0, 30, () => 2);
    serving.flush(); // minute 0 written, not sealed
    createStore(); // a command's store opens: it seals the minute it finds unsealed
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: 2, min: 2, max: 2, count: 30 }]);
    recordSeconds(serving, T0 + 30 * SEC, 31, () => 2); // the rest of minute 0, then minute 1 starts
    serving.flush(); // seals minute 0 again
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: 2, min: 2, max: 2, count: 60 }]);
  });

  it('rolls up, when it starts, a minute that a crash left written but not sealed', () => {
    const crashed = createStore();
    recordSeconds(crashed, T0, 30, () => 5);
    crashed.flush(); // written as a partial minute; the process then "dies"
    expect(count('samples_1m')).toBe(0);
    createStore();
    expect(rollupRows('samples_1m')).toEqual([{ t: T0, mean: 5, min: 5, max: 5, count: 30 }]);
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: 5, min: 5, max: 5, count: 30 }]);
  });

  it('merges a late sample into its minute and recomputes that minute and hour', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, (3 * MIN) / SEC, (i) => (i === 30 ? undefined : 1));
    metrics.flush();
    expect(rollupRows('samples_1m')[0]).toEqual({ t: T0, mean: 1, min: 1, max: 1, count: 59 });
    metrics.record(hostId, T0 + 30 * SEC, { 'cpu.percent': 61 }); // backfill of the missing second
    metrics.flush();
    expect(rollupRows('samples_1m')[0]).toEqual({ t: T0, mean: 2, min: 1, max: 61, count: 60 });
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: (2 * 60 + 60) / 120, min: 1, max: 61, count: 120 }]);
    expect(points(metrics, T0 + 30 * SEC, T0 + 30 * SEC)).toEqual([[T0 + 30 * SEC, 61, 61, 61]]);
  });

  it('seals the last minute of a series that went quiet once the clock has passed it', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 20, () => 3);
    metrics.flush(); // writes the partial minute
    now = T0 + MIN + 5 * SEC;
    metrics.flush(); // nothing new since: the minute is over and gets sealed
    expect(rollupRows('samples_1m')).toEqual([{ t: T0, mean: 3, min: 3, max: 3, count: 20 }]);
  });

  it('stores nothing for missing or non-finite readings', () => {
    const metrics = createStore();
    now = T0;
    metrics.record(hostId, now, { 'cpu.percent': Number.NaN, 'load.1m': Number.POSITIVE_INFINITY, 'memory.used_bytes': undefined });
    metrics.record(hostId, now + SEC, { 'load.1m': 0 });
    metrics.flush();
    expect(query(metrics, T0, T0 + MIN, 1500, ['cpu.percent', 'load.1m', 'memory.used_bytes']).series).toEqual([
      { metric: 'cpu.percent', points: [] },
      { metric: 'load.1m', points: [[T0 + SEC, 0, 0, 0]] },
      { metric: 'memory.used_bytes', points: [] },
    ]);
  });

  it('refuses samples for a host that does not exist', () => {
    const metrics = createStore();
    expect(() => metrics.record(hostId + 100, T0, { 'cpu.percent': 1 })).toThrow(expect.objectContaining({ code: 'HOST_NOT_FOUND' }));
  });

  it('forgets the series of a removed host instead of failing every flush', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 5, () => 1);
    metrics.flush();
    store.db.prepare('DELETE FROM hosts WHERE id = ?').run(hostId);
    metrics.record(hostId, T0 + 5 * SEC, { 'cpu.percent': 1 }); // still cached in memory
    expect(() => metrics.flush()).not.toThrow();
    expect(count('samples_1s')).toBe(0);
    expect(() => metrics.record(hostId, T0 + 6 * SEC, { 'cpu.percent': 1 })).toThrow(expect.objectContaining({ code: 'HOST_NOT_FOUND' }));
  });

  it('keeps samples in memory when a flush fails, logs background failures, and saves them later', () => {
    const metrics = createStore({ flushIntervalMs: 10 * SEC });
    recordSeconds(metrics, T0, 5, () => 9);
    store.db.exec('CREATE TRIGGER refuse BEFORE INSERT ON samples_1s BEGIN SELECT RAISE(ABORT, "disk on fire"); END');
    expect(() => metrics.flush()).toThrow(expect.objectContaining({ code: 'STORE_WRITE_FAILED' }));
    now = T0 + 20 * SEC;
    metrics.record(hostId, now, { 'cpu.percent': 9 }); // flush due: fails in the background
    expect(logged).toContain('writing buffered metrics failed');
    expect(points(metrics, T0, T0 + MIN)).toHaveLength(6);
    store.db.exec('DROP TRIGGER refuse');
    metrics.flush();
    expect(count('samples_1s')).toBe(1);
  });
});

/** Lets the store's commit timers of `delayMs` run (timers of one delay fire in the order they were set). */
const commitsDone = (delayMs = 0) => new Promise((resolve) => setTimeout(resolve, delayMs));
const journalRecords = () =>
  store.db
    .prepare<[], Buffer>('SELECT vals FROM samples_journal ORDER BY id')
    .pluck()
    .all()
    .map((row) => Array.from(decodeJournal(row)));

describe('metric store: the journal (a sample on disk within the commit delay)', () => {
  it('commits the samples recorded meanwhile as one journal row, before any chunk is written', async () => {
    const metrics = createStore({ commitDelayMs: 0 });
    recordSeconds(metrics, T0, 2, (i) => 10 + i);
    metrics.record(hostId, T0 + 2 * SEC, { 'cpu.percent': 12, 'load.1m': 0.5 });
    expect(count('samples_journal')).toBe(0);
    await commitsDone();
    const cpu = Number(store.db.prepare("SELECT id FROM metric_series WHERE metric = 'cpu.percent'").pluck().get());
    const load = Number(store.db.prepare("SELECT id FROM metric_series WHERE metric = 'load.1m'").pluck().get());
    expect(journalRecords()).toEqual([[cpu, T0, 10, cpu, T0 + SEC, 11, cpu, T0 + 2 * SEC, 12, load, T0 + 2 * SEC, 0.5]]);
    expect(count('samples_1s')).toBe(0);
    metrics.record(hostId, T0 + 3 * SEC, { 'cpu.percent': 13 });
    await commitsDone();
    expect(journalRecords()).toHaveLength(2);
    expect(journalRecords()[1]).toEqual([cpu, T0 + 3 * SEC, 13]);
  });

  it("commits a fleet's second as one row by default: samples arriving at each host's phase of the second wait for one commit", () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const metrics = createStore();
      // Four hosts' samples of one second, 300 ms apart (as links deliver them), then the rest of the second.
      for (let host = 0; host < 4; host++) {
        metrics.record(hostId, T0, { [`process.cpu:agent-${host}`]: host });
        vi.advanceTimersByTime(300);
      }
      vi.advanceTimersByTime(1_000);
      expect(count('samples_journal')).toBe(1);
      expect(journalRecords()[0]).toHaveLength(4 * 3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is emptied by the flush that writes the chunks', async () => {
    const metrics = createStore({ commitDelayMs: 0 });
    recordSeconds(metrics, T0, 5, () => 1);
    await commitsDone();
    expect(count('samples_journal')).toBe(1);
    metrics.flush();
    expect(count('samples_journal')).toBe(0);
    expect(count('samples_1s')).toBe(1);
    await commitsDone();
    expect(count('samples_journal')).toBe(0); // nothing left to commit: the flush wrote it all
  });

  it('loses nothing committed when the run dies before its flush: the next store replays it into every tier', async () => {
    const crashed = createStore({ commitDelayMs: 0, flushIntervalMs: HOUR });
    recordSeconds(crashed, T0, 90, (i) => i);
    await commitsDone(); // committed; the process then "dies" without a flush
    expect(count('samples_1s')).toBe(0);
    const second = createStore();
    expect(count('samples_journal')).toBe(0);
    expect(points(second, T0, T0 + 5 * MIN).map((p) => p[1])).toEqual(Array.from({ length: 90 }, (_, i) => i));
    expect(rollupRows('samples_1m')).toEqual([
      { t: T0, mean: 29.5, min: 0, max: 59, count: 60 },
      { t: T0 + MIN, mean: 74.5, min: 60, max: 89, count: 30 },
    ]);
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: 44.5, min: 0, max: 89, count: 90 }]);
    expect(second.newestSampleMs(hostId)).toBe(T0 + 89 * SEC);
  });

  it('seals, after a crash, a minute the run wrote but never sealed, when the journal it left holds only a later minute', async () => {
    const crashed = createStore({ commitDelayMs: 0, flushIntervalMs: HOUR });
    recordSeconds(crashed, T0, 60, () => 5); // minute 0, whole
    crashed.flush(); // written as the series' current minute, not sealed: nothing came after it yet
    recordSeconds(crashed, T0 + MIN, 10, () => 7); // minute 1, committed to the journal only
    await commitsDone(); // the process then "dies"
    expect(count('samples_1m')).toBe(0);
    createStore();
    expect(rollupRows('samples_1m')).toEqual([
      { t: T0, mean: 5, min: 5, max: 5, count: 60 },
      { t: T0 + MIN, mean: 7, min: 7, max: 7, count: 10 },
    ]);
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: (60 * 5 + 10 * 7) / 70, min: 5, max: 7, count: 70 }]);
  });

  it("leaves the journal rows of another store on the file to it: a command's store never deletes the serving backend's", async () => {
    const serving = createStore({ commitDelayMs: 0, flushIntervalMs: HOUR });
    const command = createStore({ flushIntervalMs: HOUR });
    recordSeconds(serving, T0, 5, (i) => i);
    await commitsDone();
    expect(count('samples_journal')).toBe(1);
    command.close(); // its flush writes and deletes only what it recorded itself: nothing
    expect(count('samples_journal')).toBe(1);
    // The serving backend dies before its flush: the next store replays what it committed.
    const next = createStore();
    expect(count('samples_journal')).toBe(0);
    expect(points(next, T0, T0 + MIN).map((p) => p[1])).toEqual([0, 1, 2, 3, 4]);
    serving.flush(); // its own rows are gone already (replayed): nothing fails
    expect(count('samples_journal')).toBe(0);
  });

  it('replays a late sample into a minute already on disk, keeping the seconds stored there', async () => {
    const first = createStore({ commitDelayMs: 0 });
    recordSeconds(first, T0, 3 * 60, (i) => (i === 30 ? undefined : 1));
    first.flush();
    first.record(hostId, T0 + 30 * SEC, { 'cpu.percent': 61 }); // backfill of the missing second
    await commitsDone();
    createStore();
    expect(rollupRows('samples_1m')[0]).toEqual({ t: T0, mean: 2, min: 1, max: 61, count: 60 });
  });

  it('skips, when replaying, the samples of a host removed since', async () => {
    const crashed = createStore({ commitDelayMs: 0 });
    recordSeconds(crashed, T0, 5, () => 1);
    await commitsDone();
    store.db.prepare('DELETE FROM hosts WHERE id = ?').run(hostId);
    expect(() => createStore()).not.toThrow();
    expect(count('samples_journal')).toBe(0);
    expect(count('samples_1s')).toBe(0);
  });

  it('keeps what it cannot commit buffered, says so once, and commits it all once it can', async () => {
    const metrics = createStore({ commitDelayMs: 0 });
    store.db.exec('CREATE TRIGGER refuse BEFORE INSERT ON samples_journal BEGIN SELECT RAISE(ABORT, "disk on fire"); END');
    recordSeconds(metrics, T0, 2, () => 7);
    await commitsDone();
    metrics.record(hostId, T0 + 2 * SEC, { 'cpu.percent': 7 });
    await commitsDone();
    expect(logged.filter((m) => m.startsWith('committing recorded metrics failed'))).toHaveLength(1);
    store.db.exec('DROP TRIGGER refuse');
    metrics.record(hostId, T0 + 3 * SEC, { 'cpu.percent': 7 });
    await commitsDone();
    expect(journalRecords()).toHaveLength(1);
    expect(journalRecords()[0]!.filter((_, i) => i % 3 === 1)).toEqual([T0, T0 + SEC, T0 + 2 * SEC, T0 + 3 * SEC]);
  });
});

describe('metric store: how the 1 s tier is stored', () => {
  const rowLengths = () =>
    store.db.prepare('SELECT t, length(vals) AS bytes FROM samples_1s ORDER BY t').all() as Array<{ t: number; bytes: number }>;

  it('keeps the open minute as a fixed-size row and stores a completed one sealed, compressed', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 30, () => 42);
    metrics.flush();
    expect(rowLengths()).toEqual([{ t: T0, bytes: CHUNK_BYTES }]); // open: rewritten in place at each flush
    recordSeconds(metrics, T0 + 30 * SEC, 40, (i) => (i < 30 ? 42 : i));
    metrics.flush();
    const [sealed, open] = rowLengths();
    expect(sealed).toEqual({ t: T0, bytes: expect.any(Number) });
    expect(sealed!.bytes).toBeLessThanOrEqual(9); // a constant minute: a format byte and one value
    expect(open).toEqual({ t: T0 + MIN, bytes: CHUNK_BYTES });
    expect(points(metrics, T0, T0 + 2 * MIN).map((p) => p[1])).toEqual([
      ...Array(60).fill(42),
      ...Array.from({ length: 10 }, (_, i) => 30 + i),
    ]);
  });

  it('still reads, rolls up and extends minutes an earlier version stored as open-format rows', () => {
    const cpu = createStore();
    cpu.record(hostId, T0, { 'cpu.percent': 1 });
    cpu.close();
    metricStores.length = 0;
    const seriesId = Number(store.db.prepare("SELECT id FROM metric_series WHERE metric = 'cpu.percent'").pluck().get());
    // Minute 1 as an earlier version left it after a crash: open-format, never rolled up.
    const legacy = emptyChunk();
    for (let i = 0; i < 20; i++) legacy[i] = 100 + i;
    store.db
      .prepare('INSERT INTO samples_1s (series_id, t, vals) VALUES (?, ?, ?)')
      .run(seriesId, T0 + MIN, Buffer.from(encodeChunk(legacy)));
    const metrics = createStore();
    expect(rollupRows('samples_1m')).toEqual([
      { t: T0, mean: 1, min: 1, max: 1, count: 1 },
      { t: T0 + MIN, mean: 109.5, min: 100, max: 119, count: 20 },
    ]);
    recordSeconds(metrics, T0 + MIN + 20 * SEC, 41, (i) => 120 + i); // the rest of minute 1, then minute 2 starts
    metrics.flush();
    expect(points(metrics, T0 + MIN, T0 + 2 * MIN - 1).map((p) => p[1])).toEqual(Array.from({ length: 60 }, (_, i) => 100 + i));
    expect(rowLengths().find((row) => row.t === T0 + MIN)!.bytes).toBeLessThan(CHUNK_BYTES);
  });

  it('packs sealed minutes densely: the open rows they replace free whole pages for the next ones', () => {
    const metrics = createStore();
    const metricNames = Array.from({ length: 40 }, (_, i) => `process.threads:agent-${i}`);
    for (let second = 0; second < 30 * 60; second++) {
      now = T0 + second * SEC;
      metrics.record(hostId, now, Object.fromEntries(metricNames.map((name, i) => [name, i])));
    }
    metrics.flush();
    const pages = store.db.prepare("SELECT count(*) FROM dbstat WHERE name = 'samples_1s'").pluck().get() as number;
    // 40 series x 29 sealed minutes of ~35 bytes each with the row, plus 40 open rows of 480:
    // ~60 kB. Left in place, each sealed row would keep the 480 bytes its open row took: ~560 kB.
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    expect(pages * pageSize).toBeLessThan(120_000);
  });
});

describe('metric store: a command beside the serving backend (ownsJournal false)', () => {
  it("writes nothing when it opens, and reads the serving backend's open minutes and journal", async () => {
    const serving = createStore({ commitDelayMs: 0, flushIntervalMs: HOUR });
    recordSeconds(serving, T0, 70, (i) => i); // minute 0 whole, then minute 1 begins
    serving.flush(); // minute 0 sealed, minute 1 written open
    recordSeconds(serving, T0 + 70 * SEC, 5, (i) => 70 + i);
    await commitsDone(); // in the journal only
    const before = { journal: count('samples_journal'), minutes: rollupRows('samples_1m'), rows: count('samples_1s') };
    const changes = store.db.prepare('SELECT total_changes()').pluck();
    const changesBefore = changes.get();
    const command = createStore({ ownsJournal: false, enforceRetention: false });
    expect(changes.get()).toBe(changesBefore);
    expect({ journal: count('samples_journal'), minutes: rollupRows('samples_1m'), rows: count('samples_1s') }).toEqual(before);
    expect(points(command, T0, T0 + 5 * MIN).map((p) => p[1])).toEqual(Array.from({ length: 75 }, (_, i) => i));
    const minutes = command.query({ hostId, metrics: ['cpu.percent'], fromMs: T0 - 2 * DAY, toMs: T0 + 5 * MIN, maxPoints: 5000 });
    expect(minutes.tier).toBe('1m');
    expect(minutes.series[0]!.points).toEqual([
      [T0, 29.5, 0, 59],
      [T0 + MIN, 67, 60, 74],
    ]);
  });

  it('sees what the serving backend commits later, from another connection', async () => {
    const serving = createStore({ commitDelayMs: 0, flushIntervalMs: HOUR });
    recordSeconds(serving, T0, 3, (i) => i);
    await commitsDone();
    const other = openStore({ dataDir: dir });
    try {
      const command = createMetricStore(other.db, { clock: () => now, ownsJournal: false, enforceRetention: false });
      expect(points(command, T0, T0 + MIN).map((p) => p[1])).toEqual([0, 1, 2]);
      recordSeconds(serving, T0 + 3 * SEC, 2, (i) => 3 + i);
      await commitsDone();
      expect(points(command, T0, T0 + MIN).map((p) => p[1])).toEqual([0, 1, 2, 3, 4]);
      serving.flush();
      expect(points(command, T0, T0 + MIN).map((p) => p[1])).toEqual([0, 1, 2, 3, 4]);
      command.close();
    } finally {
      other.close();
    }
  });
});

describe('metric store: a command asks whether the serving backend committed once per query', () => {
  it('reads data_version once for a query of several series at every tier, and once for a newest-sample look-up', async () => {
    const serving = createStore({ commitDelayMs: 0, flushIntervalMs: HOUR });
    const metrics = ['cpu.percent', 'memory.used_percent', 'load.1m'];
    for (let i = 0; i < 70; i++) {
      serving.record(hostId, T0 + i * SEC, Object.fromEntries(metrics.map((m, k) => [m, i + k])));
      now = T0 + (i + 1) * SEC;
    }
    await commitsDone();
    const command = createStore({ ownsJournal: false, enforceRetention: false });
    const db = store.db;
    const pragma = db.pragma.bind(db);
    let versionReads = 0;
    db.pragma = ((source: string, options?: { simple?: boolean }) => {
      if (source === 'data_version') versionReads++;
      return pragma(source, options);
    }) as typeof db.pragma;
    try {
      for (const [fromMs, tier] of [
        [T0, '1s'],
        [T0 - 2 * DAY, '1m'],
        [T0 - 60 * DAY, '1h'],
      ] as const) {
        versionReads = 0;
        const answer = command.query({ hostId, metrics, fromMs, toMs: T0 + 5 * MIN, maxPoints: 5000 });
        expect(answer.tier).toBe(tier);
        expect(answer.series.map((series) => series.points.length > 0)).toEqual([true, true, true]);
        expect(versionReads).toBe(1);
      }
      versionReads = 0;
      command.newestSampleMs(hostId);
      expect(versionReads).toBe(1);
    } finally {
      db.pragma = pragma;
    }
  });
});

describe('metric store: opening', () => {
  /** Counts every statement run on the connection while `open` runs (the store prepares all of its own). */
  function statementsRunBy(open: () => void): number {
    const db = store.db;
    const prepare = db.prepare.bind(db);
    let runs = 0;
    db.prepare = ((source: string) => {
      const statement = prepare(source) as unknown as Record<string, (...args: unknown[]) => unknown>;
      for (const method of ['run', 'get', 'all', 'iterate']) {
        const original = statement[method]!.bind(statement);
        statement[method] = (...args: unknown[]) => {
          runs++;
          return original(...args);
        };
      }
      return statement;
    }) as unknown as typeof db.prepare;
    try {
      open();
    } finally {
      db.prepare = prepare;
    }
    return runs;
  }

  /** `series` series with a minute each, sealed by a clean close. */
  function closedWith(series: number): void {
    const metrics = createStore();
    metrics.record(hostId, T0, Object.fromEntries(Array.from({ length: series }, (_, i) => [`process.threads:agent-${i}`, i])));
    metrics.close();
    metricStores.length = 0;
  }

  it('removes a left-over minute it cannot seal (no sample in it, or unreadable), so the next start does not find it again', () => {
    closedWith(2);
    const ids = store.db.prepare('SELECT id FROM metric_series ORDER BY id').pluck().all() as number[];
    const insert = store.db.prepare('INSERT INTO samples_1s (series_id, t, vals) VALUES (?, ?, ?)');
    // Newer than each series' sealed minute, as a run's open minute would be: one empty, one damaged.
    insert.run(ids[0], T0 + MIN, encodeChunk(emptyChunk()));
    insert.run(ids[1], T0 + MIN, Buffer.from([0xff, 1, 2]));
    const rowsBefore = count('samples_1s');
    createStore();
    expect(count('samples_1s')).toBe(rowsBefore - 2);
    expect(logged.filter((m) => m === 'skipping an unreadable 1 s chunk')).toHaveLength(1);
    // What is left is sealed: the next start finds nothing, as after a clean close.
    metricStores.splice(0).forEach((metrics) => metrics.close());
    const clean = statementsRunBy(() => createStore());
    metricStores.splice(0).forEach((metrics) => metrics.close());
    expect(statementsRunBy(() => createStore())).toBe(clean);
    expect(logged.filter((m) => m === 'skipping an unreadable 1 s chunk')).toHaveLength(1);
  });

  it('looks for what a crash left with the same statements however many series there are, not one query per series', () => {
    closedWith(3);
    const few = statementsRunBy(() => createStore());
    closedWith(30);
    expect(count('metric_series')).toBe(30);
    const many = statementsRunBy(() => createStore());
    expect(many).toBe(few);
  });
});

describe('metric store: memory while writing fails', () => {
  it('holds at most maxHeldSamples while commits fail, drops and counts the rest, and says so', async () => {
    const metrics = createStore({ commitDelayMs: 0, maxHeldSamples: 10 });
    recordSeconds(metrics, T0, 4, (i) => i); // written fine
    await commitsDone();
    store.db.exec('CREATE TRIGGER refuse BEFORE INSERT ON samples_journal BEGIN SELECT RAISE(ABORT, "disk full"); END');
    store.db.exec('CREATE TRIGGER refuse_chunks BEFORE INSERT ON samples_1s BEGIN SELECT RAISE(ABORT, "disk full"); END');
    for (let i = 4; i < 20; i++) {
      now = T0 + i * SEC;
      metrics.record(hostId, now, { 'cpu.percent': i });
      await commitsDone();
    }
    // 4 samples committed before, 6 more held (10 since the last flush: none yet), 10 dropped.
    expect(points(metrics, T0, T0 + MIN).map((p) => p[1])).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(logged.filter((m) => m.startsWith('dropping metric samples'))).toHaveLength(1);
    expect(logged.some((m) => m.includes('were dropped'))).toBe(false);
    store.db.exec('DROP TRIGGER refuse; DROP TRIGGER refuse_chunks');
    // The next commit is the first to find writing works again: the sample before it is still dropped.
    for (const i of [20, 21]) {
      now = T0 + i * SEC;
      metrics.record(hostId, now, { 'cpu.percent': i });
      await commitsDone();
    }
    expect(logged).toContain('11 metric samples were dropped while writing failed');
    expect(points(metrics, T0, T0 + MIN).map((p) => p[1])).toEqual([...Array.from({ length: 10 }, (_, i) => i), 21]);
    metrics.flush();
    expect(points(metrics, T0, T0 + MIN).map((p) => p[1])).toEqual([...Array.from({ length: 10 }, (_, i) => i), 21]);
  });

  it('drops nothing while writing works, however many samples arrive between flushes (a backfill)', async () => {
    const metrics = createStore({ commitDelayMs: 0, maxHeldSamples: 10, flushIntervalMs: HOUR });
    recordSeconds(metrics, T0, 50, (i) => i);
    await commitsDone();
    expect(points(metrics, T0, T0 + MIN)).toHaveLength(50);
    expect(logged.filter((m) => m.startsWith('dropping'))).toEqual([]);
  });
});

describe('metric store: where a host left off', () => {
  it('names the newest second with a sample of any series of the host, from memory and after a reopen from disk', () => {
    let metrics = createStore();
    expect(metrics.newestSampleMs(hostId)).toBeNull();
    recordSeconds(metrics, T0, 70, (i) => i);
    // A later second of another series (a process's) counts too, at the start of its second.
    metrics.record(hostId, T0 + 75 * SEC + 400, { 'process.up:agent-1': 1 });
    expect(metrics.newestSampleMs(hostId)).toBe(T0 + 75 * SEC);
    metrics.close();
    metricStores.length = 0;
    metrics = createStore();
    expect(metrics.newestSampleMs(hostId)).toBe(T0 + 75 * SEC);
    expect(metrics.newestSampleMs(hostId + 7)).toBeNull();
  });
});

describe('metric store: reading', () => {
  it('downsamples the 1 s tier into aligned buckets with exact mean, min and max', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 3600, (i) => i % 100);
    metrics.flush();
    const result = query(metrics, T0, T0 + HOUR - 1, 1200);
    expect(result.tier).toBe('1s');
    expect(result.stepMs).toBe(3 * SEC);
    const series = result.series[0]!.points;
    expect(series).toHaveLength(1200);
    expect(series[0]).toEqual([T0, 1, 0, 2]);
    expect(series[33]).toEqual([T0 + 99 * SEC, (99 + 0 + 1) / 3, 0, 99]);
    for (const [t] of series) expect(t % result.stepMs).toBe(0);
  });

  it('shows a gap as missing points, never as zeros', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 30, (i) => (i >= 10 && i < 20 ? undefined : 5));
    const seconds = points(metrics, T0, T0 + 5 * MIN);
    expect(seconds.map((p) => (p[0] - T0) / SEC)).toEqual([...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
    expect(seconds.every((p) => p[1] === 5)).toBe(true);
  });

  it('reads 24 hours from the 1 min tier, including the minute still in memory', () => {
    const metrics = createStore();
    // Two hours of data, value = minute index, then 5 s into the next minute.
    recordSeconds(metrics, T0, 2 * 3600, (i) => Math.floor(i / 60));
    recordSeconds(metrics, T0 + 2 * HOUR, 5, () => 1000);
    const result = query(metrics, now - DAY, now);
    expect(result.tier).toBe('1m');
    expect(result.stepMs).toBe(MIN);
    const series = result.series[0]!.points;
    expect(series).toHaveLength(121);
    expect(series[0]).toEqual([T0, 0, 0, 0]);
    expect(series[119]).toEqual([T0 + 119 * MIN, 119, 119, 119]);
    expect(series.at(-1)).toEqual([T0 + 2 * HOUR, 1000, 1000, 1000]);
    expect(series.map((p) => p[0])).toEqual([...series.map((p) => p[0])].sort((a, b) => a - b));
  });

  it('reads long ranges from the 1 h tier, recomputing the hour that is still open', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 2 * 3600, (i) => (i < 3600 ? 10 : 20));
    recordSeconds(metrics, T0 + 2 * HOUR, 90, () => 40); // a sealed minute and an open one
    const result = query(metrics, now - 60 * DAY, now);
    expect(result.tier).toBe('1h');
    expect(result.stepMs).toBe(HOUR);
    expect(result.series[0]!.points).toEqual([
      [T0, 10, 10, 10],
      [T0 + HOUR, 20, 20, 20],
      [T0 + 2 * HOUR, 40, 40, 40],
    ]);
  });

  it('never returns more points than asked for, and keeps them in time order', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 1800, (i) => Math.sin(i / 30));
    for (const maxPoints of [1, 7, 100, 1500]) {
      for (const [from, to] of [
        [T0, now],
        [T0 + 123_457, now - 9_999],
        [now - DAY, now],
      ] as const) {
        const series = points(metrics, from, to, maxPoints);
        expect(series.length).toBeLessThanOrEqual(maxPoints);
        expect(series.length).toBeGreaterThan(0);
        for (let i = 1; i < series.length; i++) expect(series[i]![0]).toBeGreaterThan(series[i - 1]![0]);
      }
    }
  });

  it('keeps extremes through downsampling', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 600, (i) => (i === 317 ? 99 : i === 451 ? -5 : 1));
    const series = points(metrics, T0, now, 10);
    expect(Math.max(...series.map((p) => p[3]))).toBe(99);
    expect(Math.min(...series.map((p) => p[2]))).toBe(-5);
  });

  it('answers empty points for a host or metric without series', () => {
    const metrics = createStore();
    recordSeconds(metrics, T0, 5, () => 1);
    expect(
      metrics.query({ hostId: hostId + 7, metrics: ['cpu.percent', 'load.1m'], fromMs: T0, toMs: now, maxPoints: 100 }).series,
    ).toEqual([
      { metric: 'cpu.percent', points: [] },
      { metric: 'load.1m', points: [] },
    ]);
    expect(query(metrics, T0, now, 100, ['disk.read_bytes_per_s']).series).toEqual([{ metric: 'disk.read_bytes_per_s', points: [] }]);
  });
});

describe('metric store: retention', () => {
  const retention = { '1s': 2 * MIN, '1m': 10 * MIN, '1h': 2 * HOUR };

  it('prunes each tier to its retention', () => {
    const metrics = createStore({ retention });
    recordSeconds(metrics, T0, 4 * 3600, () => 1); // ends at T0 + 4 h - 1 s
    metrics.flush();
    metrics.prune(T0 + 4 * HOUR);
    const minutes = (table: string) => store.db.prepare(`SELECT t FROM ${table} ORDER BY t`).pluck().all() as number[];
    // A row goes once its whole period is older than the retention.
    expect(minutes('samples_1s')).toEqual([T0 + 4 * HOUR - 2 * MIN, T0 + 4 * HOUR - MIN]);
    expect(minutes('samples_1m')[0]).toBe(T0 + 4 * HOUR - 10 * MIN);
    expect(minutes('samples_1h')).toEqual([T0 + 2 * HOUR, T0 + 3 * HOUR]);
  });

  it("a one-shot command's store never prunes by itself: the serving backend owns retention", () => {
    const metrics = createStore({ retention, enforceRetention: false });
    recordSeconds(metrics, T0, 30 * 60, () => 1);
    recordSeconds(metrics, T0 + 5 * HOUR, 15, () => 1);
    metrics.close();
    // Everything written is still there, hours past the 2 min retention of the 1 s tier.
    expect(count('samples_1s')).toBe(31);
  });

  it('prunes by itself as the clock moves, at least hourly', () => {
    const metrics = createStore({ retention });
    recordSeconds(metrics, T0, 30 * 60, () => 1);
    metrics.flush(); // the first flush prunes; nothing is old yet
    expect(count('samples_1s')).toBe(30);
    recordSeconds(metrics, T0 + HOUR + 5 * MIN, 15, () => 1);
    metrics.flush();
    // Left: the open minute's row, and the first hour (2 h retention); the sealed
    // minutes of the first half hour are past the 10 min retention of the 1 min tier.
    expect(count('samples_1s')).toBe(1);
    expect(count('samples_1m')).toBe(0);
    expect(rollupRows('samples_1h')).toEqual([{ t: T0, mean: 1, min: 1, max: 1, count: 1800 }]);
  });

  it('reads a range whose fine data is gone from a coarser tier', () => {
    const metrics = createStore({ retention: { '1s': 2 * MIN, '1m': HOUR, '1h': DAY } });
    recordSeconds(metrics, T0, 30 * 60, (i) => Math.floor(i / 60));
    metrics.flush();
    metrics.prune(now);
    const result = query(metrics, T0, T0 + 5 * MIN);
    expect(result.tier).toBe('1m');
    expect(result.series[0]!.points.map((p) => p[1])).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

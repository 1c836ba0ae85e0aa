/**
 * Metric store benchmark: 1 Hz samples of 100 series over a simulated day, written into
 * the real store and, side by side in the same loop, into a peer with the naive design
 * (one row per sample, (series_id, t) primary key, one transaction per tick). The same
 * samples also go to an OpenMetrics file that `promtool tsdb create-blocks-from openmetrics`
 * turns into Prometheus TSDB blocks: the store users actually run, as the anchor for bytes
 * per sample (promtool writes blocks in a batch, so only their size is compared).
 * Prints figures and targets; exits 0 whatever they are (a benchmark, not a test).
 *
 *   npm run bench:store            (BENCH_HOURS=2 for a quick run)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HOST_METRICS, type HostMetric, type MetricPoint } from '../../electron/contract';
import { createMetricStore } from '../../electron/backend/metrics/metric-store';
import { openStore } from '../../electron/backend/store/open-store';
import { loadLine } from './bench-load';
import { buildTsdbBlocks, createOpenMetricsFile, type TsdbResult } from './store-bench-openmetrics';

const HOSTS = 10;
const EXTRA_METRICS = ['proc.core.cpu_percent', 'proc.core.rss_bytes', 'proc.agent.cpu_percent'];
const METRICS = [...HOST_METRICS, ...EXTRA_METRICS];
const SERIES = HOSTS * METRICS.length;
const HOURS = Number(process.env['BENCH_HOURS'] ?? 24);
const TICKS = Math.round(HOURS * 3600);
const START_MS = Date.UTC(2025, 0, 1);
const QUERY_REPEATS = 25;
const TARGET = { msPerTick: 1, bytesPerSample: 25, query24hMs: 50 };

/** Deterministic values shaped like the sampler's: percents, byte counts, rates. */
function makeValueSource(seed: number) {
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const levels = METRICS.map(() => random());
  return (): Record<string, number> => {
    const values: Record<string, number> = {};
    METRICS.forEach((metric, i) => {
      const level = Math.min(1, Math.max(0, (levels[i] as number) + (random() - 0.5) * 0.02));
      levels[i] = level;
      if (metric.endsWith('percent')) values[metric] = Math.round(level * 10000) / 100;
      else if (metric === 'load.1m') values[metric] = Math.round(level * 800) / 100;
      else values[metric] = Math.round(level * 4e9 + random() * 1e6);
    });
    return values;
  };
}

function fileBytes(file: string): number {
  return ['', '-wal'].reduce((sum, suffix) => sum + (fs.statSync(file + suffix, { throwIfNoEntry: false })?.size ?? 0), 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timeMs(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function samePoints(a: MetricPoint[], b: MetricPoint[]): boolean {
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  return a.length === b.length && a.every((p, i) => p.every((v, j) => close(v, (b[i] as MetricPoint)[j] as number)));
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-store-bench-'));
  try {
    run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function run(dir: string): void {
  console.log(
    `metric store benchmark: ${SERIES} series (${HOSTS} hosts x ${METRICS.length} metrics), 1 Hz, ${HOURS} h simulated = ${TICKS} ticks`,
  );
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), temp dir ${dir}`);
  console.log(`${loadLine('start', os.cpus().length)}\n`);

  // The store under test.
  let now = START_MS;
  const store = openStore({ dataDir: path.join(dir, 'store') });
  const insertHost = store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'ssh', ?, ?)");
  const hostIds = Array.from({ length: HOSTS }, (_, i) =>
    Number(insertHost.run(`bench-${i}`, `198.18.0.${i + 1}`, START_MS).lastInsertRowid),
  );
  const metrics = createMetricStore(store.db, { clock: () => now });

  // The peer: naive row per sample, same pragmas, its own file.
  const peerFile = path.join(dir, 'peer', 'naive.db');
  fs.mkdirSync(path.dirname(peerFile), { recursive: true });
  const peer = new Database(peerFile);
  peer.pragma('journal_mode = WAL');
  peer.pragma('synchronous = NORMAL');
  peer.pragma('foreign_keys = ON');
  peer.pragma('busy_timeout = 5000');
  peer.exec(`
    CREATE TABLE series (id INTEGER PRIMARY KEY, host_id INTEGER NOT NULL, metric TEXT NOT NULL, UNIQUE (host_id, metric));
    CREATE TABLE samples (series_id INTEGER NOT NULL, t INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (series_id, t)) WITHOUT ROWID;
  `);
  const peerSeries = new Map<string, number>();
  const insertSeries = peer.prepare('INSERT INTO series (host_id, metric) VALUES (?, ?)');
  for (const hostId of hostIds) {
    for (const metric of METRICS) peerSeries.set(`${hostId}/${metric}`, Number(insertSeries.run(hostId, metric).lastInsertRowid));
  }
  const insertSample = peer.prepare('INSERT INTO samples (series_id, t, value) VALUES (?, ?, ?)');
  const peerTick = peer.transaction((hostValues: Array<Record<string, number>>, tMs: number) => {
    hostValues.forEach((values, h) => {
      for (const metric in values) insertSample.run(peerSeries.get(`${hostIds[h]}/${metric}`) as number, tMs, values[metric] as number);
    });
  });

  // The anchor's input: every sample of the loop, host by host, tick by tick, as a scrape would give them.
  const openMetrics = createOpenMetricsFile(path.join(dir, 'samples.om'));
  const hostNames = hostIds.map((_, i) => `bench-${i}`);

  const sources = hostIds.map((id) => makeValueSource(id * 7919));
  let storeNs = 0n;
  let peerNs = 0n;
  const progressEvery = Math.max(1, Math.floor(TICKS / 8));
  for (let tick = 1; tick <= TICKS; tick++) {
    now = START_MS + tick * 1000;
    const hostValues = sources.map((next) => next());
    const a = process.hrtime.bigint();
    for (let h = 0; h < HOSTS; h++) metrics.record(hostIds[h] as number, now, hostValues[h] as Record<string, number>);
    const b = process.hrtime.bigint();
    peerTick(hostValues, now);
    const c = process.hrtime.bigint();
    storeNs += b - a;
    peerNs += c - b;
    hostValues.forEach((values, h) => openMetrics.write(hostNames[h] as string, values, now));
    if (tick % progressEvery === 0) {
      process.stdout.write(
        `  ${((tick / TICKS) * 100).toFixed(0)}% (store ${(Number(storeNs) / 1e6 / tick).toFixed(3)} ms/tick, peer ${(Number(peerNs) / 1e6 / tick).toFixed(3)} ms/tick)\n`,
      );
    }
  }
  // The last buffered seconds count as written work too.
  storeNs += BigInt(Math.round(timeMs(() => metrics.flush()) * 1e6));

  const samples = TICKS * SERIES;
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  peer.pragma('wal_checkpoint(TRUNCATE)');
  const storeBytes = fileBytes(store.path);
  const peerBytes = fileBytes(peerFile);
  openMetrics.close();
  const openMetricsBytes = fs.statSync(openMetrics.file).size;
  console.log(`  promtool tsdb create-blocks-from openmetrics (${(openMetricsBytes / 1e6).toFixed(0)} MB of OpenMetrics text) ...`);
  const tsdb = buildTsdbBlocks(openMetrics.file, path.join(dir, 'tsdb'));
  fs.rmSync(openMetrics.file);

  // Reads: one series, downsampled to at most 1 500 points, the peer with GROUP BY.
  const hostId = hostIds[0] as number;
  const metric: HostMetric = 'cpu.percent';
  const peerId = peerSeries.get(`${hostId}/${metric}`) as number;
  const peerQuery = peer
    .prepare<[{ step: number; id: number; from: number; to: number }], [number, number, number, number]>(
      `SELECT (t / CAST(@step AS INTEGER)) * @step AS bucket, avg(value), min(value), max(value) FROM samples
       WHERE series_id = @id AND t BETWEEN @from AND @to GROUP BY bucket ORDER BY bucket`,
    )
    .raw();
  const reads = [1, 24]
    .filter((hours) => hours <= HOURS)
    .map((hours) => {
      const params = { hostId, metrics: [metric], fromMs: now - hours * 3_600_000, toMs: now, maxPoints: 1500 };
      const result = metrics.query(params);
      const step = result.stepMs;
      let storePoints: MetricPoint[] = [];
      let peerPoints: MetricPoint[] = [];
      const storeMs = median(
        Array.from({ length: QUERY_REPEATS }, () =>
          timeMs(() => {
            storePoints = metrics.query(params).series[0]?.points ?? [];
          }),
        ),
      );
      const peerMs = median(
        Array.from({ length: QUERY_REPEATS }, () =>
          timeMs(() => {
            peerPoints = peerQuery.all({ step, id: peerId, from: params.fromMs, to: params.toMs });
          }),
        ),
      );
      return { hours, tier: result.tier, step, storeMs, peerMs, points: storePoints.length, agree: samePoints(storePoints, peerPoints) };
    });

  metrics.close();
  store.close();
  peer.close();

  const storeMsPerTick = Number(storeNs) / 1e6 / TICKS;
  const peerMsPerTick = Number(peerNs) / 1e6 / TICKS;
  const storeBps = storeBytes / samples;
  const peerBps = peerBytes / samples;
  const tsdbOk = !(tsdb instanceof Error);
  const tsdbBps = tsdbOk ? tsdb.bytes / samples : NaN;
  const rows: string[][] = [
    ['measure', 'store', 'peer (naive)', 'store/peer', 'Prometheus TSDB', 'store/TSDB', 'target', 'met'],
    [
      'ms per 100-series tick',
      storeMsPerTick.toFixed(3),
      peerMsPerTick.toFixed(3),
      ratio(storeMsPerTick, peerMsPerTick),
      '-',
      '-',
      `<= ${TARGET.msPerTick} ms`,
      yes(storeMsPerTick <= TARGET.msPerTick),
    ],
    [
      'bytes per sample on disk',
      storeBps.toFixed(2),
      peerBps.toFixed(2),
      ratio(storeBps, peerBps),
      tsdbOk ? tsdbBps.toFixed(2) : 'n/a',
      tsdbOk ? ratio(storeBps, tsdbBps) : '-',
      `<= ${TARGET.bytesPerSample} B`,
      yes(storeBps <= TARGET.bytesPerSample),
    ],
    ...reads.map((r) => [
      `${r.hours} h query, ms (${r.points} pts, ${r.tier}, step ${r.step / 1000} s)`,
      r.storeMs.toFixed(3),
      r.peerMs.toFixed(3),
      ratio(r.storeMs, r.peerMs),
      '-',
      '-',
      r.hours === 24 ? `<= ${TARGET.query24hMs} ms` : '-',
      r.hours === 24 ? yes(r.storeMs <= TARGET.query24hMs) : '-',
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] as string).length)));
  console.log('');
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] as number) : cell.padStart(widths[col] as number))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
  console.log(
    `samples written: ${samples.toLocaleString('en')}; files after checkpoint: store ${(storeBytes / 1e6).toFixed(1)} MB, peer ${(peerBytes / 1e6).toFixed(1)} MB`,
  );
  for (const r of reads)
    console.log(`${r.hours} h query: store and peer points ${r.agree ? 'agree' : 'DIFFER'} (median of ${QUERY_REPEATS}, warm page cache)`);
  reportTsdb(tsdb, samples);
  if (HOURS < 24) console.log(`note: BENCH_HOURS=${HOURS}; the targets are defined for the full 24 h run`);
  console.log(loadLine('end', os.cpus().length));
}

/** What the TSDB column counts, and whether promtool took every sample. */
function reportTsdb(tsdb: TsdbResult | Error, samples: number): void {
  if (tsdb instanceof Error) {
    console.log(`Prometheus TSDB: not measured: ${tsdb.message}`);
    return;
  }
  console.log(
    `Prometheus TSDB (${tsdb.version}): ${(tsdb.bytes / 1e6).toFixed(1)} MB = every file of the ${tsdb.blocks} blocks promtool wrote ` +
      `(chunks, index, meta.json, tombstones; ${tsdb.files} files, apparent sizes), as promtool leaves them: blocks of at most 2 h, ` +
      `not yet compacted into longer ones by a Prometheus server; no WAL (a server would keep one for its last ~2 h); built in ${(tsdb.ms / 1000).toFixed(1)} s`,
  );
  console.log(
    `  samples in its blocks: ${tsdb.samples.toLocaleString('en')} of ${samples.toLocaleString('en')}${tsdb.samples === samples ? '' : ' (DIFFER: the column is not like for like)'}; ` +
      'the store keeps 1 s samples for its raw retention plus rollups, the TSDB raw samples only',
  );
}

function ratio(a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(2) : '-';
}

function yes(ok: boolean): string {
  return ok ? 'yes' : 'NO';
}

main();

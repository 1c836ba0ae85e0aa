// The metrics link consumer against a real runtime: the shipped daemon (the esbuild bundle,
// real processes, its real 1 Hz sampler and ring buffer) inside a test host's network
// namespace, reached through ssh2 with the host key pinned and an SSH tunnel, gRPC over TLS
// (fleet/runtime-connection.ts); the samples go into the real metric store on SQLite. The
// stream is cut and resumed: what the runtime's ring still holds comes back exactly once;
// what it no longer holds (the runtime restarted) stays a gap.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type LiveSample, type MetricPoint } from '../../../electron/contract';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import { createMetricsIngest, type MetricsIngest } from '../../../electron/backend/fleet/metrics/metrics-ingest';
import { createMetricStore, type MetricStore } from '../../../electron/backend/metrics/metric-store';
import type { Store } from '../../../electron/backend/store/open-store';
import type { MetricSample__Output } from '../../../agents-runtime/src/wire';
import { addLabHostRow, openLabRuntime, openStoreWithLabHost, startReadyDaemon, type LabRuntime } from '../../support/lab-runtime';
import { daemonLayout, killDaemonsAndInstances, writeDaemonFiles } from '../../support/runtime-daemon-harness';
import { logTail, type Daemon } from '../../support/test-hosts/daemon';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const RUNTIME_PORT = 7610;
// A second runtime on the same host whose clock is 5 minutes ahead.
const SKEWED_RUNTIME_PORT = 7611;
const CLOCK_OFFSET_MS = 5 * 60_000;
const CLOCK_OFFSET_MODULE = path.resolve(__dirname, '../../support/clock-offset.mjs');

const MANIFEST = `version: 1
processes:
  - name: worker
    command: sh
    args: ["-c", "exec sleep 600"]
    stop: { grace_ms: 2000 }
`;

const tmp = makeTempDir('sutazai-fleet-metrics-');
let labRuntime: LabRuntime | undefined;
let host: TestHost;
let daemonStarts = 0;
let store: Store;
let metrics: MetricStore;
let target: LinkTarget;
const skewedRuntimeIds: string[] = [];
let skewedDaemon: Daemon | undefined;
const waitFor = makeWaitFor({
  timeoutMs: 60_000,
  pollMs: 50,
  diagnostics: () => `\n${labRuntime?.daemon ? logTail(labRuntime.daemon.logFile) : ''}`,
});

const connect = async (runtimePort = RUNTIME_PORT): Promise<RuntimeConnection> => (await labRuntime!.connect({ runtimePort })).runtime;

async function startRuntime(): Promise<void> {
  daemonStarts += 1;
  await labRuntime!.start(path.join(tmp.path, `daemon-${daemonStarts}.log`));
}

/** A runtime of its own (state, config, port) whose wall clock runs CLOCK_OFFSET_MS ahead. */
async function startSkewedRuntime(): Promise<Daemon> {
  const skewed = daemonLayout(path.join(tmp.path, 'skewed'));
  writeDaemonFiles({
    configFile: skewed.configFile,
    manifest: MANIFEST,
    listenPort: SKEWED_RUNTIME_PORT,
    stateDir: skewed.stateDir,
    logDir: skewed.logDir,
    certs: labRuntime!.certs,
  });
  const argv = [
    process.execPath,
    '--import',
    pathToFileURL(CLOCK_OFFSET_MODULE).href,
    labRuntime!.layout.bundle,
    'run',
    '--config',
    skewed.configFile,
  ];
  skewedRuntimeIds.push(skewed.runtimeId);
  const logFile = path.join(tmp.path, 'skewed-daemon.log');
  return startReadyDaemon(host, ['env', `SUTAZAI_TEST_CLOCK_OFFSET_MS=${CLOCK_OFFSET_MS}`, ...argv], logFile, 'the skewed runtime');
}

const stopRuntime = (): Promise<void> => labRuntime!.stop();

/** The ingest running as a link runs it, until `stop` aborts it (the link going down); what it pushed live, in order. */
async function ingestUntil(
  ingest: MetricsIngest,
  pushed: LiveSample[],
  enough: () => boolean,
  on: { target: LinkTarget; port: number } = { target, port: RUNTIME_PORT },
): Promise<void> {
  const runtime = await connect(on.port);
  const link = new AbortController();
  const running = ingest.run(on.target, runtime, link.signal);
  let failure: unknown = null;
  running.catch((error: unknown) => (failure = error));
  await waitFor('samples from the ingest', () => {
    if (failure !== null) throw failure;
    return enough();
  });
  link.abort();
  // A consumer aborted by its link resolves: it is not a failure.
  await expect(running).resolves.toBeUndefined();
  expect(pushed.every((sample) => sample.hostId === on.target.hostId)).toBe(true);
}

/** Every sample the runtime's ring holds from `sinceMs` up to and including `untilMs`. */
async function ringSamples(sinceMs: number, untilMs: number): Promise<MetricSample__Output[]> {
  const runtime = await connect();
  const stream = runtime.streamMetrics(sinceMs);
  const got: MetricSample__Output[] = [];
  for await (const sample of stream) {
    if (Number(sample.atMs) > untilMs) break;
    got.push(sample);
    if (Number(sample.atMs) === untilMs) break;
  }
  return got;
}

/** The times of the next `count` samples the runtime takes after `afterMs`, read on a live stream of their own. */
async function liveSamplesAfter(afterMs: number, count: number): Promise<number[]> {
  const runtime = await connect();
  const times: number[] = [];
  for await (const sample of runtime.streamMetrics(0)) {
    if (Number(sample.atMs) > afterMs) times.push(Number(sample.atMs));
    if (times.length >= count) break;
  }
  return times;
}

function points(metric: string, fromMs: number, toMs: number): MetricPoint[] {
  const result = metrics.query({ hostId: target.hostId, metrics: [metric], fromMs, toMs, maxPoints: 1500 });
  expect(result.tier).toBe('1s');
  return result.series[0]!.points;
}

const second = (ms: number): number => Math.floor(ms / 1000) * 1000;

beforeAll(async () => {
  labRuntime = await openLabRuntime(labRef.lab, { dir: tmp.path, manifest: MANIFEST, runtimePort: RUNTIME_PORT, callTimeoutMs: 5_000 });
  host = labRuntime.host;
  await startRuntime();
  ({ store, target } = openStoreWithLabHost(tmp.path, host, 'metrics-test'));
  metrics = createMetricStore(store.db);
}, 180_000);

afterEach(async () => {
  await labRuntime?.closeConnections();
});

afterAll(async () => {
  await labRuntime?.close();
  if (skewedDaemon && !skewedDaemon.hasExited() && skewedDaemon.pid > 0) {
    try {
      process.kill(-skewedDaemon.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const runtimeId of skewedRuntimeIds) killDaemonsAndInstances([], runtimeId);
  metrics?.close();
  store?.close();
  tmp.remove();
});

describe('the metrics link consumer on a real runtime', () => {
  it("stores host and per-process series at the runtime's time; after a cut shorter than the ring, every sample once, in order, no gap", async () => {
    const pushed: LiveSample[] = [];
    const ingest = createMetricsIngest({ store: metrics, onSample: (sample) => pushed.push(sample) });

    // First run: nothing stored yet, so the ring's whole content comes first, then live samples.
    await ingestUntil(ingest, pushed, () => pushed.length >= 4);
    const firstRun = pushed.length;
    const lastBeforeCut = pushed[firstRun - 1]!.t;
    expect(metrics.newestSampleMs(target.hostId)).toBe(second(lastBeforeCut));

    // The link is down while the runtime samples on: seen here on a stream of its own.
    const missed = await liveSamplesAfter(lastBeforeCut, 3);

    // Second run: from the second after the newest stored one, the ring backfills the cut.
    await ingestUntil(ingest, pushed, () => pushed.length >= firstRun + 5);
    const firstT = pushed[0]!.t;
    const lastT = pushed[pushed.length - 1]!.t;

    // Exactly the runtime's samples of that span, each once, in order: none missed over the cut, none repeated.
    const ring = await ringSamples(firstT, lastT);
    expect(pushed.map((sample) => sample.t)).toEqual(ring.map((sample) => Number(sample.atMs)));
    for (const t of missed) expect(pushed.slice(firstRun).map((sample) => sample.t)).toContain(t);

    // Host series and per-process series (the instance in the name), as the runtime gave them.
    const newest = pushed[pushed.length - 1]!;
    expect(newest.values['memory.total_bytes']).toBeGreaterThan(0);
    expect(newest.values['filesystem.used_bytes:/']).toBeGreaterThan(0);
    expect(newest.values['cpu.core_percent:0']).toBeGreaterThanOrEqual(0);
    expect(newest.values['process.up:worker']).toBe(1);
    expect(newest.values['process.rss_bytes:worker']).toBeGreaterThan(0);
    expect(newest.clockSkewMs).toBeTypeOf('number');

    // The store's 1 s tier: one point per second the runtime sampled (the last sample of a second wins), at the runtime's time.
    metrics.flush();
    const bySecond = new Map<number, MetricSample__Output>();
    for (const sample of ring) bySecond.set(second(Number(sample.atMs)), sample);
    const cpu = points('cpu.percent', firstT, lastT);
    expect(cpu.map(([t]) => t)).toEqual([...bySecond.keys()]);
    expect(cpu.map(([, mean]) => mean)).toEqual([...bySecond.values()].map((sample) => sample.host!.cpuPercent));
    const rss = points('process.rss_bytes:worker', firstT, lastT);
    expect(rss.map(([, mean]) => mean)).toEqual(
      [...bySecond.values()].map((sample) => Number(sample.instances.find((i) => i.instance === 'worker')!.rssBytes)),
    );
    // No duplicate second and no hole between the first and the last.
    const seconds = cpu.map(([t]) => t);
    expect(new Set(seconds).size).toBe(seconds.length);
  });

  it('after a cut the runtime cannot backfill (it restarted, its ring is new), the missing seconds stay a gap', async () => {
    const pushed: LiveSample[] = [];
    const ingest = createMetricsIngest({ store: metrics, onSample: (sample) => pushed.push(sample) });
    const storedBefore = metrics.newestSampleMs(target.hostId)!;
    await ingestUntil(ingest, pushed, () => pushed.length >= 2);
    // Resumed after what the first test stored: nothing older came again.
    expect(pushed[0]!.t).toBeGreaterThanOrEqual(storedBefore + 1000);
    const lastBefore = pushed[pushed.length - 1]!.t;
    // Samples the runtime takes while the link is down, which its restart then loses with its ring.
    const lost = await liveSamplesAfter(lastBefore, 2);

    await stopRuntime();
    await startRuntime();

    const firstAfterIndex = pushed.length;
    await ingestUntil(ingest, pushed, () => pushed.length >= firstAfterIndex + 2);
    const firstAfter = pushed[firstAfterIndex]!.t;
    expect(firstAfter).toBeGreaterThan(lost[lost.length - 1]!);

    metrics.flush();
    const cpu = points('cpu.percent', lastBefore, firstAfter).map(([t]) => t);
    // Stored as missing: the second before the cut, then the first after it, nothing in between (not interpolated).
    expect(cpu).toEqual([second(lastBefore), second(firstAfter)]);
    expect(second(lost[lost.length - 1]!)).toBeGreaterThan(second(lastBefore));
    expect(pushed.map((sample) => sample.t)).not.toContain(lost[lost.length - 1]);
    expect(pushed.map((sample) => sample.t)).toEqual([...pushed.map((sample) => sample.t)].sort((a, b) => a - b));
  });

  it("places the samples of a host whose clock is minutes ahead at that host's time, and reports the skew", async () => {
    // Every sample of the skewed runtime is taken after this and arrives before `after`.
    const before = Date.now();
    skewedDaemon = await startSkewedRuntime();
    const row = addLabHostRow(store, host, `${host.name}-skewed`);
    const skewedTarget: LinkTarget = { installName: 'metrics-test', hostId: row.id, hostName: row.name };
    const warnings: Array<Record<string, unknown>> = [];
    const pushed: LiveSample[] = [];
    const ingest = createMetricsIngest({
      store: metrics,
      onSample: (sample) => pushed.push(sample),
      logger: { info: () => {}, warn: (details) => warnings.push(details) },
    });
    await ingestUntil(ingest, pushed, () => pushed.length >= 3, { target: skewedTarget, port: SKEWED_RUNTIME_PORT });
    const after = Date.now();

    // Stored at the host's time: minutes after anything this machine's clock has read.
    const newest = metrics.newestSampleMs(skewedTarget.hostId)!;
    expect(newest).toBeGreaterThan(after + CLOCK_OFFSET_MS / 2);
    expect(newest).toBe(second(pushed[pushed.length - 1]!.t));
    // The skew: at most the offset (a sample is taken before it arrives), and within the link's delay of it.
    const skew = ingest.clockSkew(skewedTarget.hostId)!;
    expect(skew.skewMs).toBeLessThanOrEqual(CLOCK_OFFSET_MS);
    expect(skew.skewMs).toBeGreaterThan(CLOCK_OFFSET_MS - (after - before));
    expect(pushed[pushed.length - 1]!.clockSkewMs).toBe(skew.skewMs);
    // When the backend read each one, by this machine's clock, not the host's: how long a sample took to get here.
    for (const sample of pushed) {
      expect(sample.receivedMs).toBeGreaterThanOrEqual(before);
      expect(sample.receivedMs).toBeLessThanOrEqual(after);
    }
    // Said once in the log, with the host, not once per sample.
    expect(warnings).toEqual([{ hostId: skewedTarget.hostId, host: skewedTarget.hostName, skewMs: expect.any(Number) }]);
    // The well-set host's skew is unaffected: each host has its own.
    expect(ingest.clockSkew(target.hostId)).toBeNull();
  });

  it('rejects with an explained error when the runtime goes away under the stream (the reason a link shows while degraded)', async () => {
    const pushed: LiveSample[] = [];
    const ingest = createMetricsIngest({ store: metrics, onSample: (sample) => pushed.push(sample) });
    const runtime = await connect();
    const running = ingest.run(target, runtime, new AbortController().signal);
    let settled = false;
    void running.then(
      () => (settled = true),
      () => (settled = true),
    );
    await waitFor('samples before the runtime stops', () => pushed.length >= 1 || settled);
    await stopRuntime();
    const outcome = await running.then(
      () => null,
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(ApiError);
    expect(['RUNTIME_CALL_FAILED', 'RUNTIME_UNREACHABLE']).toContain((outcome as ApiError).code);
    expect((outcome as ApiError).remedy.length).toBeGreaterThan(20);
    await startRuntime();
  });
});

/**
 * The runtime's metric sampler: one host + per-instance sample per tick, kept in a compact
 * history (default 900 samples: sample-history.ts) so a client that reconnects can ask for
 * everything after the last sample it saw, and pushed to live subscribers.
 *
 * Ticks come every `intervalMs` (1 s) while anyone watches: a live subscriber (streamMetrics,
 * which the Control Center holds open to every runtime it manages). While nobody does, they
 * come every `unwatchedIntervalMs` (5 s). Why (issue 13): with 100 idle instances, a Node
 * process waking every second to read some thirty /proc files and build 100 instances'
 * figures cost 0.25 % of a core, more than PM2's whole daemon (0.18 %), which samples nothing
 * until `pm2 monit` asks; every part of the tick had already been cut (proc-files.ts). What it
 * costs: the history of a time nobody watched (the app closed, a link down) has a sample every
 * 5 s instead of every second, so the same 900 samples reach back 75 minutes instead of 15,
 * and the Control Center's charts bridge points up to 12.5 s apart (chart-rows.ts). A first
 * subscriber brings the next tick forward to the next second; a /metrics scrape takes a sample
 * of its own when the latest is older than `intervalMs` (freshSample), so a scraper always
 * reads the present, and at most once per interval however often it asks.
 *
 * Ticks run on a self-rescheduling setTimeout aimed at the next multiple of the interval
 * from start(), not setInterval: sampling is synchronous, so ticks cannot overlap, and a tick
 * that runs late (a busy event loop) skips the slots it missed instead of bunching up to
 * catch up. The unwatched interval is a multiple of the watched one, so both fall on the same
 * grid. The timer is unref'd: the daemon keeps itself alive, the sampler never does.
 */
import { monotonicMs } from '../clock/monotonic-ms';
import type { GpuMetrics, MetricSample } from './metric-sample';
import { createGpuReader, type GpuReaderOptions } from './gpu-reader';
import { createHostSampler } from './host-sampler';
import { createProcessSampler, type ProcessProvider } from './process-sampler';
import type { StatfsFn } from './proc-readers';
import { DEFAULT_CAPACITY, SampleHistory } from './sample-history';

/** What the service needs of a GPU source; createGpuReader() is the real one. */
export interface GpuSource {
  start(): void;
  stop(): void;
  current(): GpuMetrics[];
}

/** The daemon's tick while nobody watches (the file's comment says why); chart-rows.ts in the renderer draws on it. */
export const UNWATCHED_INTERVAL_MS = 5_000;

export interface MetricsServiceOptions {
  /** The tick while anyone subscribes. Default 1000. */
  intervalMs?: number;
  /** The tick while nobody subscribes: a whole multiple of intervalMs (rounded up to one). Default 5 × intervalMs. */
  unwatchedIntervalMs?: number;
  /** Samples kept for backfill. Default 900 (15 minutes at 1 s, 75 at 5 s). */
  capacity?: number;
  /** Default /proc. */
  procRoot?: string;
  /** Wall clock for `atMs` and uptimes. Default Date.now. */
  clock?: () => number;
  /** The supervisor's instances, asked once per tick. Default: none. */
  processes?: ProcessProvider;
  /** false: no GPU reader. true (default): nvidia-smi when it is on PATH. Or options for the reader. */
  gpu?: boolean | GpuReaderOptions;
  /** Replaces the GPU reader (tests). */
  gpuSource?: GpuSource;
  /** fs.statfsSync by default. */
  statfs?: StatfsFn;
  /** Told about GPU reader trouble and failing subscribers. */
  log?: (message: string) => void;
  /**
   * Runs after every tick's sample, on the same timer: the daemon's other periodic work (the
   * log rotator's pass) rides on this wake-up instead of a timer of its own, so an idle daemon
   * wakes once a tick, not twice (bench:runtime's idle CPU with 100 children).
   */
  afterTick?: () => void;
}

export interface MetricsService {
  start(): void;
  stop(): void;
  /** Samples at or after `sinceMs` still in the buffer, oldest first. */
  since(sinceMs: number): MetricSample[];
  /** Live samples from the next tick on. Returns an unsubscribe that is safe to call twice. */
  subscribe(onSample: (sample: MetricSample) => void): () => void;
  /**
   * Backfill then live, without a gap or a duplicate: the buffered samples at or after
   * `sinceMs` (none when sinceMs <= 0) are delivered synchronously, then every later sample.
   * This is RuntimeApi.streamMetrics.
   */
  stream(sinceMs: number, onSample: (sample: MetricSample) => void): () => void;
  latest(): MetricSample | null;
  /**
   * What a scrape shows: the latest sample when it is younger than `intervalMs`, else one
   * taken now (kept in the history and pushed like any other). While nobody subscribes the
   * ticks are `unwatchedIntervalMs` apart, and a scraper should still read the present.
   * Before start() and after stop(), the latest sample as it is (null before any).
   */
  freshSample(): MetricSample | null;
  /** True while anyone subscribes: ticks are then `intervalMs` apart. */
  watched(): boolean;
  /** Take one sample now, outside the timer (tests, and the first scrape before start). */
  sampleNow(): MetricSample;
  /** Duration of the last tick in ms (sampling + delivery), for self-monitoring. */
  lastTickMs(): number | null;
}

export function createMetricsService(options: MetricsServiceOptions = {}): MetricsService {
  const intervalMs = options.intervalMs ?? 1000;
  if (!(intervalMs > 0)) throw new RangeError(`metrics interval must be positive, got ${intervalMs}`);
  const unwatchedRequested = options.unwatchedIntervalMs ?? intervalMs * (UNWATCHED_INTERVAL_MS / 1000);
  if (!(unwatchedRequested > 0)) throw new RangeError(`metrics unwatched interval must be positive, got ${unwatchedRequested}`);
  const unwatchedIntervalMs = Math.max(1, Math.ceil(unwatchedRequested / intervalMs)) * intervalMs;
  const clock = options.clock ?? Date.now;
  const processes = options.processes ?? (() => []);
  const log = options.log ?? (() => {});
  // Rows of changed numbers (sample-history.ts): 15 minutes of 100 instances as objects were 13.6 MB of heap.
  const history = new SampleHistory(options.capacity ?? DEFAULT_CAPACITY);
  let latest: MetricSample | null = null;
  const hostSampler = createHostSampler({ procRoot: options.procRoot, statfs: options.statfs });
  const processSampler = createProcessSampler({ procRoot: options.procRoot });
  const gpu: GpuSource | null =
    options.gpuSource ?? (options.gpu === false ? null : createGpuReader({ log, ...(typeof options.gpu === 'object' ? options.gpu : {}) }));
  const listeners = new Set<(sample: MetricSample) => void>();

  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let startedAt = 0;
  /** The slot (ms after startedAt) of the tick last taken, and of the one the timer waits for. */
  let takenSlotMs = 0;
  let pendingSlotMs = 0;
  /** The interval the pending timer was set with. */
  let pendingIntervalMs = 0;
  let tickMs: number | null = null;
  /** monotonicMs() of the last published sample (freshSample's age). */
  let latestAtMonotonic = -Infinity;

  function take(): MetricSample {
    let atMs = clock();
    // Keep the buffer ordered even if the wall clock steps back (NTP): never before the last sample.
    const newest = history.newestAtMs();
    if (newest !== null && atMs <= newest) atMs = newest + 1;
    const gpus = gpu?.current() ?? [];
    const host = hostSampler.sample(monotonicMs(), gpus);
    let instances: MetricSample['instances'] = [];
    try {
      instances = processSampler.sample(processes(), atMs);
    } catch (error) {
      log(`metrics: per-process sampling failed: ${(error as Error).message}`);
    }
    return { atMs, host, instances };
  }

  function publish(sample: MetricSample): void {
    latestAtMonotonic = monotonicMs();
    if (history.push(sample)) latest = sample;
    for (const listener of [...listeners]) {
      try {
        listener(sample);
      } catch (error) {
        log(`metrics: a subscriber threw: ${(error as Error).message}`);
      }
    }
  }

  function schedule(): void {
    if (!running) return;
    const every = listeners.size > 0 ? intervalMs : unwatchedIntervalMs;
    // The next slot of this interval after both now and the slot last taken: a late tick skips
    // missed slots rather than piling up, and a timer that fires a hair early never takes a slot twice.
    const from = Math.max(monotonicMs() - startedAt, takenSlotMs);
    pendingSlotMs = (Math.floor(from / every) + 1) * every;
    pendingIntervalMs = every;
    timer = setTimeout(tick, Math.max(0, startedAt + pendingSlotMs - monotonicMs()));
    timer.unref();
  }

  /** A listener joins or leaves: a first watcher brings the next tick forward to the next second. */
  function watchersChanged(): void {
    if (!running || timer === null) return;
    const every = listeners.size > 0 ? intervalMs : unwatchedIntervalMs;
    // The last one leaving waits for the pending tick (at most a second), which then sets the longer interval.
    if (every >= pendingIntervalMs) return;
    clearTimeout(timer);
    timer = null;
    schedule();
  }

  function listen(listener: (sample: MetricSample) => void): () => void {
    listeners.add(listener);
    watchersChanged();
    return () => {
      if (listeners.delete(listener)) watchersChanged();
    };
  }

  function tick(): void {
    timer = null;
    if (!running) return;
    takenSlotMs = pendingSlotMs;
    const t0 = monotonicMs();
    try {
      publish(take());
    } catch (error) {
      log(`metrics: sampling failed: ${(error as Error).message}`);
    }
    tickMs = monotonicMs() - t0;
    try {
      options.afterTick?.();
    } catch (error) {
      log(`metrics: the work after a tick failed: ${(error as Error).message}`);
    }
    schedule();
  }

  return {
    start() {
      if (running) return;
      running = true;
      gpu?.start();
      // The baseline reading for CPU percentages and rates; the first sample follows one interval later.
      hostSampler.sample(monotonicMs());
      try {
        processSampler.sample(processes(), clock());
      } catch {
        // reported on the first tick if it persists
      }
      startedAt = monotonicMs();
      takenSlotMs = 0;
      schedule();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      gpu?.stop();
      // The files the samplers keep open; a later start() or sampleNow() opens them again.
      hostSampler.close();
      processSampler.close();
    },
    since: (sinceMs) => history.since(sinceMs),
    subscribe(onSample) {
      const listener = (s: MetricSample): void => onSample(s); // the same function may subscribe twice
      return listen(listener);
    },
    stream(sinceMs, onSample) {
      // Synchronous backfill and subscribe: no tick can run in between, so no gap and no duplicate.
      if (sinceMs > 0) for (const s of history.since(sinceMs)) onSample(s);
      return listen((s: MetricSample): void => onSample(s));
    },
    latest: () => latest,
    freshSample() {
      if (!running || (latest !== null && monotonicMs() - latestAtMonotonic < intervalMs)) return latest;
      const sample = take();
      publish(sample);
      return sample;
    },
    watched: () => listeners.size > 0,
    sampleNow() {
      const sample = take();
      publish(sample);
      return sample;
    },
    lastTickMs: () => tickMs,
  };
}

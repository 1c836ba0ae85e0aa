/**
 * The runtime's metric sampler: every `intervalMs` one host + per-instance sample, kept in a
 * compact history (default 900 = 15 minutes at 1 s: sample-history.ts) so a client that reconnects can ask for
 * everything after the last sample it saw, and pushed to live subscribers.
 *
 * Ticks run on a self-rescheduling setTimeout aimed at the next multiple of the interval
 * from start(), not setInterval: sampling is synchronous, so ticks cannot overlap, and a tick
 * that runs late (a busy event loop) skips the slots it missed instead of bunching up to
 * catch up. The timer is unref'd: the daemon keeps itself alive, the sampler never does.
 */
import { performance } from 'node:perf_hooks';
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

export interface MetricsServiceOptions {
  /** Default 1000. */
  intervalMs?: number;
  /** Samples kept for backfill. Default 900 (15 minutes at 1 s). */
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
   * Runs after every tick's sample, on the same timer: the daemon's other once-a-second work
   * (the log rotator's pass) rides on this wake-up instead of a timer of its own, so an idle
   * daemon wakes once a second, not twice (bench:runtime's idle CPU with 100 children).
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
  /** Take one sample now, outside the timer (tests, and the first scrape before start). */
  sampleNow(): MetricSample;
  /** Duration of the last tick in ms (sampling + delivery), for self-monitoring. */
  lastTickMs(): number | null;
}

export function createMetricsService(options: MetricsServiceOptions = {}): MetricsService {
  const intervalMs = options.intervalMs ?? 1000;
  if (!(intervalMs > 0)) throw new RangeError(`metrics interval must be positive, got ${intervalMs}`);
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
  let slot = 0;
  let tickMs: number | null = null;

  function take(): MetricSample {
    let atMs = clock();
    // Keep the buffer ordered even if the wall clock steps back (NTP): never before the last sample.
    const newest = history.newestAtMs();
    if (newest !== null && atMs <= newest) atMs = newest + 1;
    const gpus = gpu?.current() ?? [];
    const host = hostSampler.sample(performance.now(), gpus);
    let instances: MetricSample['instances'] = [];
    try {
      instances = processSampler.sample(processes(), atMs);
    } catch (error) {
      log(`metrics: per-process sampling failed: ${(error as Error).message}`);
    }
    return { atMs, host, instances };
  }

  function publish(sample: MetricSample): void {
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
    const elapsed = performance.now() - startedAt;
    // The next slot strictly in the future: a late tick skips missed slots rather than piling up.
    slot = Math.max(slot + 1, Math.floor(elapsed / intervalMs) + 1);
    timer = setTimeout(tick, Math.max(0, startedAt + slot * intervalMs - performance.now()));
    timer.unref();
  }

  function tick(): void {
    timer = null;
    if (!running) return;
    const t0 = performance.now();
    try {
      publish(take());
    } catch (error) {
      log(`metrics: sampling failed: ${(error as Error).message}`);
    }
    tickMs = performance.now() - t0;
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
      hostSampler.sample(performance.now());
      try {
        processSampler.sample(processes(), clock());
      } catch {
        // reported on the first tick if it persists
      }
      startedAt = performance.now();
      slot = 0;
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
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    stream(sinceMs, onSample) {
      // Synchronous backfill and subscribe: no tick can run in between, so no gap and no duplicate.
      if (sinceMs > 0) for (const s of history.since(sinceMs)) onSample(s);
      const listener = (s: MetricSample): void => onSample(s);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    latest: () => latest,
    sampleNow() {
      const sample = take();
      publish(sample);
      return sample;
    },
    lastTickMs: () => tickMs,
  };
}

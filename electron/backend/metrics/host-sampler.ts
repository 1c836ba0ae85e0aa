import { HOST_KEYED_SERIES, HOST_SERIES, seriesName, type LiveSample } from '../../contract';
import { usedPercent } from '../../../agents-runtime/src/wire';
import type { CounterReader, CpuTime, HostCounters } from './host-counters';

/** One sample: values by series name (series-names.ts). */
export type SampleValues = Record<string, number>;

export interface SampleSink {
  record(hostId: number, tMs: number, values: SampleValues): void;
}

export interface HostSamplerOptions {
  hostId: number;
  read: CounterReader;
  sink: SampleSink;
  onSample: (sample: LiveSample) => void;
  onError: (error: unknown) => void;
  intervalMs?: number;
  now?: () => number;
}

/** Busy share of the time between two readings of one CPU, 0..100 with two decimals; undefined when no time passed. */
function busyPercent(previous: CpuTime, current: CpuTime): number | undefined {
  const totalDelta = current.totalMs - previous.totalMs;
  if (!(totalDelta > 0)) return undefined;
  return round(clamp(((current.busyMs - previous.busyMs) / totalDelta) * 100, 0, 100), 2);
}

/**
 * Turns two readings of cumulative counters into one sample, named as a runtime's samples
 * are (series-names.ts), so this machine's page, alerts and store read it as any host's.
 * CPU is busy time over all time, across every core and per core; throughputs are bytes
 * per second over the real gap between readings, so a late tick does not inflate them.
 * Memory and filesystems are gauges, read as they are now.
 */
export function computeSample(previous: HostCounters, current: HostCounters, elapsedMs: number): SampleValues {
  const values: SampleValues = {
    [HOST_SERIES.load1]: round(current.load1m, 2),
    [HOST_SERIES.load5]: round(current.load5m, 2),
    [HOST_SERIES.load15]: round(current.load15m, 2),
  };
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) values[name] = value;
  };
  put(
    HOST_SERIES.cpuPercent,
    busyPercent({ busyMs: previous.cpuBusyMs, totalMs: previous.cpuTotalMs }, { busyMs: current.cpuBusyMs, totalMs: current.cpuTotalMs }),
  );
  current.cores.forEach((core, index) => {
    const before = previous.cores[index];
    if (before) put(seriesName(HOST_KEYED_SERIES.cpuCorePercent, index), busyPercent(before, core));
  });
  if (current.memoryUsedBytes !== null) {
    values[HOST_SERIES.memoryUsedBytes] = current.memoryUsedBytes;
    if (current.memoryTotalBytes !== null) {
      values[HOST_SERIES.memoryTotalBytes] = current.memoryTotalBytes;
      put(HOST_SERIES.memoryUsedPercent, usedPercent(current.memoryUsedBytes, current.memoryTotalBytes));
    }
  }
  if (current.swap !== null) {
    values[HOST_SERIES.swapUsedBytes] = current.swap.usedBytes;
    values[HOST_SERIES.swapTotalBytes] = current.swap.totalBytes;
  }
  for (const fs of current.filesystems ?? []) {
    values[seriesName(HOST_KEYED_SERIES.filesystemUsedBytes, fs.mount)] = fs.usedBytes;
    values[seriesName(HOST_KEYED_SERIES.filesystemTotalBytes, fs.mount)] = fs.totalBytes;
    put(seriesName(HOST_KEYED_SERIES.filesystemUsedPercent, fs.mount), usedPercent(fs.usedBytes, fs.totalBytes));
  }
  const seconds = elapsedMs / 1000;
  if (seconds > 0) {
    const rate = (a: number, b: number) => round(Math.max(0, b - a) / seconds, 1);
    if (previous.net && current.net) {
      values[HOST_SERIES.netRxBytesPerSec] = rate(previous.net.readBytes, current.net.readBytes);
      values[HOST_SERIES.netTxBytesPerSec] = rate(previous.net.writeBytes, current.net.writeBytes);
    }
    if (previous.disk && current.disk) {
      values[HOST_SERIES.diskReadBytesPerSec] = rate(previous.disk.readBytes, current.disk.readBytes);
      values[HOST_SERIES.diskWriteBytesPerSec] = rate(previous.disk.writeBytes, current.disk.writeBytes);
    }
  }
  return values;
}

export interface HostSampler {
  stop(): void;
}

/** Samples one host at 1 Hz, stores every sample and hands it to live subscribers. */
export function startHostSampler(options: HostSamplerOptions): HostSampler {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 1000;
  let previous: { counters: HostCounters; at: number } | null = null;
  let busy = false;
  let stopped = false;

  const tick = async (): Promise<void> => {
    // A slow read (a stalled disk, a busy machine) must not stack ticks on top of each other.
    if (busy || stopped) return;
    busy = true;
    try {
      const counters = await options.read();
      const at = now();
      if (previous && !stopped) {
        const values = computeSample(previous.counters, counters, at - previous.at);
        options.sink.record(options.hostId, at, values);
        options.onSample({ hostId: options.hostId, t: at, values });
      }
      previous = { counters, at };
    } catch (error) {
      options.onError(error);
    } finally {
      busy = false;
    }
  };

  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      options.read.close?.();
    },
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

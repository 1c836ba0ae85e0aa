import type { HostMetric, LiveSample } from '../../contract';
import type { CounterReader, HostCounters } from './host-counters';

export interface SampleSink {
  record(hostId: number, tMs: number, values: Partial<Record<HostMetric, number>>): void;
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

/**
 * Turns two readings of cumulative counters into one sample. CPU is busy time over
 * all time across every core; throughputs are bytes per second over the real gap
 * between readings, so a late tick does not inflate them.
 */
export function computeSample(previous: HostCounters, current: HostCounters, elapsedMs: number): Partial<Record<HostMetric, number>> {
  const values: Partial<Record<HostMetric, number>> = { 'load.1m': round(current.load1m, 2) };
  const totalDelta = current.cpuTotalMs - previous.cpuTotalMs;
  if (totalDelta > 0) {
    const busy = (current.cpuBusyMs - previous.cpuBusyMs) / totalDelta;
    values['cpu.percent'] = round(clamp(busy * 100, 0, 100), 2);
  }
  if (current.memoryUsedBytes !== null) values['memory.used_bytes'] = current.memoryUsedBytes;
  const seconds = elapsedMs / 1000;
  if (seconds > 0) {
    const rate = (a: number, b: number) => round(Math.max(0, b - a) / seconds, 1);
    if (previous.net && current.net) {
      values['net.rx_bytes_per_s'] = rate(previous.net.readBytes, current.net.readBytes);
      values['net.tx_bytes_per_s'] = rate(previous.net.writeBytes, current.net.writeBytes);
    }
    if (previous.disk && current.disk) {
      values['disk.read_bytes_per_s'] = rate(previous.disk.readBytes, current.disk.readBytes);
      values['disk.write_bytes_per_s'] = rate(previous.disk.writeBytes, current.disk.writeBytes);
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

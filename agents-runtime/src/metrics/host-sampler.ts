/**
 * Host metrics from /proc: each call reads the counters and turns the difference from the
 * previous call into percentages and per-second rates. The first call has no previous
 * reading, so its CPU percentages and rates are 0; `createMetricsService` takes that
 * reading at start() and emits from the second on.
 */
import type { ByteCounters, CpuStat } from '../linux/proc-parsers';
import type { GpuMetrics, HostMetrics } from './metric-sample';
import {
  busyPercent,
  DEFAULT_PROC_ROOT,
  readCpuStat,
  readDiskstats,
  readFilesystems,
  readLoadavg,
  readMeminfo,
  readNetDev,
  type StatfsFn,
} from './proc-readers';

export interface HostSamplerOptions {
  procRoot?: string;
  /** fs.statfsSync by default; tests pass a fake. */
  statfs?: StatfsFn;
}

export interface HostSampler {
  /** `monotonicMs`: a monotonic clock (performance.now()) that the rates divide by. */
  sample(monotonicMs: number, gpus?: GpuMetrics[]): HostMetrics;
}

interface Previous {
  atMs: number;
  cpu: CpuStat | null;
  disk: ByteCounters | null;
  net: ByteCounters | null;
}

/** Bytes per second between two readings; 0 when a counter went backwards (device removed, wrap). */
function rate(before: number | undefined, after: number | undefined, seconds: number): number {
  if (before === undefined || after === undefined || !(seconds > 0)) return 0;
  const delta = after - before;
  return delta > 0 ? delta / seconds : 0;
}

export function createHostSampler(options: HostSamplerOptions = {}): HostSampler {
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  let previous: Previous | null = null;

  return {
    sample(monotonicMs, gpus = []) {
      const cpu = readCpuStat(procRoot);
      const mem = readMeminfo(procRoot);
      const load = readLoadavg(procRoot);
      const disk = readDiskstats(procRoot);
      const net = readNetDev(procRoot);
      const filesystems = options.statfs ? readFilesystems(procRoot, options.statfs) : readFilesystems(procRoot);

      const seconds = previous ? (monotonicMs - previous.atMs) / 1000 : 0;
      const prevCpu = previous?.cpu ?? null;
      // A core count change (hotplug) makes per-core deltas meaningless for one tick.
      const sameCores = prevCpu !== null && cpu !== null && prevCpu.cores.length === cpu.cores.length;
      const host: HostMetrics = {
        cpuPercent: prevCpu && cpu ? busyPercent(prevCpu.total, cpu.total) : 0,
        perCorePercent: cpu ? cpu.cores.map((core, i) => (sameCores ? busyPercent(prevCpu.cores[i]!, core) : 0)) : [],
        loadOneMinute: load?.one ?? 0,
        loadFiveMinutes: load?.five ?? 0,
        loadFifteenMinutes: load?.fifteen ?? 0,
        memoryUsedBytes: mem?.usedBytes ?? 0,
        memoryTotalBytes: mem?.totalBytes ?? 0,
        swapUsedBytes: mem?.swapUsedBytes ?? 0,
        swapTotalBytes: mem?.swapTotalBytes ?? 0,
        diskReadBytesPerSec: rate(previous?.disk?.readBytes, disk?.readBytes, seconds),
        diskWriteBytesPerSec: rate(previous?.disk?.writeBytes, disk?.writeBytes, seconds),
        netRxBytesPerSec: rate(previous?.net?.readBytes, net?.readBytes, seconds),
        netTxBytesPerSec: rate(previous?.net?.writeBytes, net?.writeBytes, seconds),
        filesystems,
        gpus,
      };
      previous = { atMs: monotonicMs, cpu, disk, net };
      return host;
    },
  };
}

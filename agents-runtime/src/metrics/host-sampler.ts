/**
 * Host metrics from /proc: each call reads the counters and turns the difference from the
 * previous call into percentages and per-second rates. The first call has no previous
 * reading, so its CPU percentages and rates are 0; `createMetricsService` takes that
 * reading at start() and emits from the second on.
 *
 * Every second, for as long as the daemon runs: the files stay open and are re-read in
 * place (proc-files.ts), and the list of mounts is read every MOUNTS_EVERY samples (mounts
 * change rarely; each filesystem's space is still asked every sample).
 */
import path from 'node:path';
import { parseMounts, type Mount } from '../linux/mounts';
import {
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  type ByteCounters,
  type CpuStat,
} from '../linux/proc-parsers';
import type { GpuMetrics, HostMetrics } from './metric-sample';
import { ProcTextFile } from './proc-files';
import { busyPercent, DEFAULT_PROC_ROOT, spaceOfMounts, type StatfsFn } from './proc-readers';

/** The mount list is read again every this many samples. */
export const MOUNTS_EVERY = 30;

export interface HostSamplerOptions {
  procRoot?: string;
  /** fs.statfsSync by default; tests pass a fake. */
  statfs?: StatfsFn;
}

export interface HostSampler {
  /** `monotonicMs`: a monotonic clock (monotonic-ms.ts) that the rates divide by. */
  sample(monotonicMs: number, gpus?: GpuMetrics[]): HostMetrics;
  /** Closes the files it keeps open. */
  close(): void;
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
  const file = (name: string): ProcTextFile => new ProcTextFile(path.join(procRoot, name));
  const files = {
    stat: file('stat'),
    meminfo: file('meminfo'),
    loadavg: file('loadavg'),
    diskstats: file('diskstats'),
    netDev: file('net/dev'),
    mounts: file('self/mounts'),
  };
  const read = <T>(f: ProcTextFile, parse: (text: string) => T): T | null => {
    const text = f.read();
    return text === null ? null : parse(text);
  };
  let previous: Previous | null = null;
  let mounts: Mount[] = [];
  let samples = 0;

  return {
    sample(monotonicMs, gpus = []) {
      const cpu = read(files.stat, parseProcStat);
      const mem = read(files.meminfo, parseMeminfo);
      const load = read(files.loadavg, parseLoadavg);
      const disk = read(files.diskstats, parseDiskstats);
      const net = read(files.netDev, parseNetDev);
      if (samples % MOUNTS_EVERY === 0) mounts = read(files.mounts, parseMounts) ?? [];
      samples += 1;
      const filesystems = spaceOfMounts(mounts, options.statfs);

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
    close() {
      for (const f of Object.values(files)) f.close();
    },
  };
}

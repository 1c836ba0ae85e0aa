import { statfs as statfsAsync } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import {
  filesystemSpace,
  parseDiskstats,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseProcStat,
  ProcTextFile,
  type ByteCounters,
  type StatfsResult,
} from '../../../agents-runtime/src/wire';

/** Busy and total CPU time, ms, cumulative. */
export interface CpuTime {
  busyMs: number;
  totalMs: number;
}

/** A mounted filesystem's space now (a gauge, not a counter). */
export interface FilesystemSpace {
  mount: string;
  usedBytes: number;
  totalBytes: number;
}

/** Raw cumulative counters and gauges; the sampler turns counters into rates. */
export interface HostCounters {
  cpuBusyMs: number;
  cpuTotalMs: number;
  /** Each core's times, in the OS's order (the core's index is its key). */
  cores: CpuTime[];
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  /** Swap used and total; null where unknown. */
  swap: { usedBytes: number; totalBytes: number } | null;
  load1m: number;
  load5m: number;
  load15m: number;
  net: ByteCounters | null;
  disk: ByteCounters | null;
  /** null: not read on this platform. */
  filesystems: FilesystemSpace[] | null;
}

export type CounterReader = (() => Promise<HostCounters>) & {
  /** Lets go of what the reader keeps between reads (open files); a read after it opens them again. */
  close?(): void;
};

/**
 * `read`'s answer kept for `everyMs` and given again to every call in that time, then read
 * anew (on the next call after it, never by a timer): for a figure that is costly to read
 * and slow to change, so the 1 Hz sampler still records it every second (a whole series,
 * no break in a chart) without reading it every second.
 */
export function heldFor<T>(everyMs: number, read: () => T, now: () => number = Date.now): () => T {
  let held: { readAt: number; value: T } | null = null;
  return () => {
    const at = now();
    if (held === null || at - held.readAt >= everyMs) held = { readAt: at, value: read() };
    return held.value;
  };
}

function cpuTimes(): { busy: number; total: number; cores: CpuTime[] } {
  let busy = 0;
  let total = 0;
  const cores: CpuTime[] = [];
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    const coreBusy = t.user + t.nice + t.sys + t.irq;
    const coreTotal = coreBusy + t.idle;
    cores.push({ busyMs: coreBusy, totalMs: coreTotal });
    busy += coreBusy;
    total += coreTotal;
  }
  return { busy, total, cores };
}

/** The 1, 5 and 15 minute load averages (0 on Windows, which has none). */
function loadAverages(): { load1m: number; load5m: number; load15m: number } {
  const [load1m = 0, load5m = 0, load15m = 0] = os.loadavg();
  return { load1m, load5m, load15m };
}

export type StatfsAsync = (mount: string) => Promise<StatfsResult>;

/** The space of each real filesystem in the mounts text (the runtime's choice of mounts); a mount statfs fails on is left out. */
async function readFilesystems(mountsText: string, statfs: StatfsAsync): Promise<FilesystemSpace[]> {
  const spaces = await Promise.all(
    parseMounts(mountsText).map(async ({ mount }) => {
      const space = await statfs(mount).then(filesystemSpace, () => null);
      return space === null ? null : { mount, ...space };
    }),
  );
  return spaces.filter((space): space is FilesystemSpace => space !== null);
}

/**
 * How long the Linux reader keeps the mount table and each filesystem's space: a filesystem's
 * used space moves slowly and a mount is rare, while a statfs per filesystem and a parse of
 * the mount table every second were 40 % of this machine's sampling (bench:fleet's profile).
 * A disk filling up shows within this; the default filesystem alert waits 5 minutes anyway.
 */
export const LINUX_FILESYSTEMS_MS = 10_000;

/** /proc/stat counts in USER_HZ ticks, 100 a second on every Linux the app runs on. */
const MS_PER_TICK = 10;

/** Total and per-core CPU time from /proc/stat (the runtime's parser), in ms; null when the text has no `cpu` line. */
function procCpuTimes(text: string): { busy: number; total: number; cores: CpuTime[] } | null {
  const stat = parseProcStat(text);
  if (stat.total.total <= 0) return null;
  return {
    busy: stat.total.busy * MS_PER_TICK,
    total: stat.total.total * MS_PER_TICK,
    cores: stat.cores.map((c) => ({ busyMs: c.busy * MS_PER_TICK, totalMs: c.total * MS_PER_TICK })),
  };
}

/**
 * Linux: four small /proc reads a tick, and the mount table with a statfs per real filesystem
 * every LINUX_FILESYSTEMS_MS (held in between), no process spawned (systeminformation
 * spawns a tool every second for disk I/O), parsed by the runtime's
 * parsers so this machine's figures (CPU included: busy is everything but idle and iowait)
 * count as a managed host's do. The /proc files are kept open and read again from offset 0
 * each tick (the runtime's ProcTextFile: procfs makes the text anew on every read), into one
 * buffer the reads share: an open, a stat and a close per file and tick, and a fresh buffer
 * for each, were most of what a tick cost besides parsing. The reads are synchronous on
 * purpose: procfs answers from kernel memory and never waits on a disk, and a synchronous
 * read costs about a tenth of an asynchronous one's trip through the thread pool;
 * os.cpus() is not used either, since it also reads and parses /proc/cpuinfo each time.
 * statfs stays asynchronous: a slow disk may hold a libuv thread, never the loop.
 */
export function linuxCounterReader(
  procRoot = '/proc',
  statfs: StatfsAsync = statfsAsync,
  options: { filesystemsEveryMs?: number; now?: () => number } = {},
): CounterReader {
  const files = {
    stat: new ProcTextFile(`${procRoot}/stat`),
    meminfo: new ProcTextFile(`${procRoot}/meminfo`),
    netdev: new ProcTextFile(`${procRoot}/net/dev`),
    diskstats: new ProcTextFile(`${procRoot}/diskstats`),
    mounts: new ProcTextFile(`${procRoot}/self/mounts`),
  };
  const filesystems = heldFor(
    options.filesystemsEveryMs ?? LINUX_FILESYSTEMS_MS,
    () => {
      const mounts = files.mounts.read();
      return mounts === null ? Promise.resolve(null) : readFilesystems(mounts, statfs);
    },
    options.now,
  );
  const read: CounterReader = async () => {
    const stat = files.stat.read();
    const cpu = (stat === null ? null : procCpuTimes(stat)) ?? cpuTimes();
    const meminfo = files.meminfo.read();
    const netdev = files.netdev.read();
    const diskstats = files.diskstats.read();
    const memory = meminfo ? parseMeminfo(meminfo) : null;
    // MemTotal - MemAvailable; unknown when the text has no MemTotal (nothing to judge by).
    const known = memory !== null && memory.totalBytes > 0;
    return {
      cpuBusyMs: cpu.busy,
      cpuTotalMs: cpu.total,
      cores: cpu.cores,
      memoryUsedBytes: known ? memory.usedBytes : null,
      memoryTotalBytes: known ? memory.totalBytes : null,
      swap: known ? { usedBytes: memory.swapUsedBytes, totalBytes: memory.swapTotalBytes } : null,
      ...loadAverages(),
      net: netdev ? parseNetDev(netdev) : null,
      disk: diskstats ? parseDiskstats(diskstats) : null,
      filesystems: await filesystems(),
    };
  };
  read.close = () => {
    for (const file of Object.values(files)) file.close();
  };
  return read;
}

/** How long the portable reader keeps its filesystem list: systeminformation spawns df for it. */
const PORTABLE_FILESYSTEMS_MS = 60_000;

/** macOS and Windows: systeminformation, which knows each OS's own counters. */
export function portableCounterReader(): CounterReader {
  const readFilesystemsEveryMinute = heldFor(PORTABLE_FILESYSTEMS_MS, () =>
    si
      .fsSize()
      .then((sizes) => sizes.filter((f) => f.size > 0).map((f) => ({ mount: f.mount, usedBytes: f.used, totalBytes: f.size })))
      .catch(() => null),
  );
  return async () => {
    const cpu = cpuTimes();
    const [mem, nets, disk, spaces] = await Promise.all([
      si.mem().catch(() => null),
      si.networkStats('*').catch(() => null),
      si.fsStats().catch(() => null),
      readFilesystemsEveryMinute(),
    ]);
    return {
      cpuBusyMs: cpu.busy,
      cpuTotalMs: cpu.total,
      cores: cpu.cores,
      memoryUsedBytes: mem ? mem.total - mem.available : null,
      memoryTotalBytes: mem ? mem.total : null,
      swap: mem ? { usedBytes: mem.swapused, totalBytes: mem.swaptotal } : null,
      filesystems: spaces,
      ...loadAverages(),
      net: nets
        ? nets
            .filter((n) => n.iface !== 'lo')
            .reduce((acc, n) => ({ readBytes: acc.readBytes + n.rx_bytes, writeBytes: acc.writeBytes + n.tx_bytes }), {
              readBytes: 0,
              writeBytes: 0,
            })
        : null,
      // fsStats counts bytes (rx/wx); it is unsupported on Windows, where disk stays unknown.
      disk: disk && typeof disk.rx === 'number' ? { readBytes: disk.rx, writeBytes: disk.wx } : null,
    };
  };
}

export function defaultCounterReader(): CounterReader {
  return process.platform === 'linux' ? linuxCounterReader() : portableCounterReader();
}

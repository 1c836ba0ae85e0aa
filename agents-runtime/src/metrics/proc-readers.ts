/**
 * The runtime's /proc readers (Linux): each `readX` is a thin synchronous read under
 * `procRoot` (default `/proc`, a fixture directory in tests), parsed by the host-wide
 * parsers in linux/proc-parsers (shared with the control center) or by the per-process
 * ones here. Synchronous on purpose: /proc files live in memory and read in microseconds,
 * and a synchronous tick cannot overlap the next one. Nothing here spawns a process.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  parseUptimeSeconds,
  type ByteCounters,
  type CpuStat,
  type CpuTimes,
  type LoadAverage,
  type MemInfo,
} from '../linux/proc-parsers';
import { filesystemSpace, parseMounts, type Mount, type StatfsResult } from '../linux/mounts';
import { listPids } from '../process/proc-identity';

export const DEFAULT_PROC_ROOT = '/proc';

/**
 * Clock ticks per second of the utime/stime/starttime fields (USER_HZ). The kernel fixes it at
 * 100 for user space on every architecture the runtime ships for (x64, arm64); reading
 * sysconf(_SC_CLK_TCK) would need a child process or a native module.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/** The whole file as text; null when it cannot be read. */
export function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Busy percent between two readings of the same counter, 0..100 (0 when no time passed). */
export function busyPercent(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  if (!(total > 0)) return 0;
  return clamp(((after.busy - before.busy) / total) * 100, 0, 100);
}

// ---- /proc/self/mounts + statfs -------------------------------------------------------

export type StatfsFn = (mount: string) => StatfsResult;

const defaultStatfs: StatfsFn = (mount) => fs.statfsSync(mount);

/** Used and total bytes of each mount, as df counts them (used = total - free). Mounts that fail statfs are skipped. */
export function readFilesystems(
  procRoot = DEFAULT_PROC_ROOT,
  statfs: StatfsFn = defaultStatfs,
): { mount: string; usedBytes: number; totalBytes: number }[] {
  const text = readText(path.join(procRoot, 'self', 'mounts'));
  return text === null ? [] : spaceOfMounts(parseMounts(text), statfs);
}

/** Used and total bytes of each of `mounts`; those that fail statfs are skipped. */
export function spaceOfMounts(
  mounts: readonly Mount[],
  statfs: StatfsFn = defaultStatfs,
): { mount: string; usedBytes: number; totalBytes: number }[] {
  const out: { mount: string; usedBytes: number; totalBytes: number }[] = [];
  for (const m of mounts) {
    try {
      const space = filesystemSpace(statfs(m.mount));
      if (space !== null) out.push({ mount: m.mount, ...space });
    } catch {
      // gone since /proc/self/mounts was read, or not ours to stat
    }
  }
  return out;
}

// ---- /proc/<pid>/stat, status, fd ------------------------------------------------------

export interface PidStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  threads: number;
  /** Clock ticks after boot. */
  startTicks: number;
  /** Resident set size in pages (field 24; the same counter VmRSS shows, in pages). */
  rssPages: number;
}

/** /proc/<pid>/stat as text (tests, fixtures): the same parser as the tick's bytes. */
export function parsePidStat(text: string): PidStat | null {
  const bytes = Buffer.from(text, 'latin1');
  return parsePidStatBytes(bytes, bytes.length);
}

const CLOSE_PAREN = 0x29;
const SPACE = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;
/** The last field the tick keeps: 24, rss. */
const LAST_FIELD = 24;
/**
 * The most bytes of comm that /proc/<pid>/stat prints: the kernel formats it from a 64-byte
 * buffer (fs/proc/array.c, proc_task_name: "%.64s"; a user process's own name is at most 15).
 * The comm's closing ')' therefore lies within this many bytes after its opening '(', and the
 * backward search for the last ')' starts there instead of at the end of the line (fields
 * 25 to 52, two thirds of it, which the tick does not read).
 */
const COMM_MAX_BYTES = 64;

/**
 * /proc/<pid>/stat from the first `length` bytes of `bytes`, without making a string of it:
 * the tick reads this for every member every second, and splitting ~50 fields into strings
 * was most of its garbage. comm (field 2) may hold spaces and ')', so fields count from the
 * LAST ')' as in process/proc-identity's splitProcStat. Null when the text is malformed or
 * ends before field 24.
 */
export function parsePidStatBytes(bytes: Uint8Array, length: number): PidStat | null {
  let pid = 0;
  let i = 0;
  for (; i < length && bytes[i] !== SPACE; i += 1) {
    const d = bytes[i]! - ZERO;
    if (d < 0 || d > 9) return null;
    pid = pid * 10 + d;
  }
  // `pid (comm) S ...`: '(' is at i + 1, so the last ')' is at most at i + 2 + COMM_MAX_BYTES.
  let close = Math.min(length - 1, i + 2 + COMM_MAX_BYTES);
  while (close > i && bytes[close] !== CLOSE_PAREN) close -= 1;
  if (i === 0 || close <= i || close + 4 >= length) return null;
  const state = String.fromCharCode(bytes[close + 2]!);
  // Fields 4..24: numbers, one space apart (some may be negative: nice, priority).
  let ppid = NaN;
  let pgrp = NaN;
  let utime = NaN;
  let stime = NaN;
  let threads = NaN;
  let startTicks = NaN;
  let rssPages = NaN;
  let field = 3;
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let j = close + 4; j <= length && field < LAST_FIELD; j += 1) {
    const c = j < length ? bytes[j]! : SPACE;
    if (c === SPACE || c === 0x0a) {
      if (digits === 0) return null;
      field += 1;
      const n = negative ? -value : value;
      if (field === 4) ppid = n;
      else if (field === 5) pgrp = n;
      else if (field === 14) utime = n;
      else if (field === 15) stime = n;
      else if (field === 20) threads = n;
      else if (field === 22) startTicks = n;
      else if (field === 24) rssPages = n;
      value = 0;
      negative = false;
      digits = 0;
    } else if (c === MINUS && digits === 0 && !negative) {
      negative = true;
    } else {
      const d = c - ZERO;
      if (d < 0 || d > 9) return null;
      value = value * 10 + d;
      digits += 1;
    }
  }
  if (field < LAST_FIELD) return null;
  return { pid, state, ppid, pgrp, cpuTicks: utime + stime, threads, startTicks, rssPages };
}

/** VmRSS of /proc/<pid>/status in bytes (kB there, whatever the page size); 0 for kernel threads and zombies. */
export function parseStatusRssBytes(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Bytes per page, for the rss field of /proc/<pid>/stat: 4 KiB on x64, 4, 16 or 64 KiB on
 * arm64 depending on the kernel. Node has no sysconf, so it is derived once from our own
 * process: VmRSS (kB) in /proc/self/status against the resident pages in /proc/self/statm,
 * read back to back, rounded to a power of two. 4096 when that cannot be read.
 */
export function detectPageSize(procRoot = DEFAULT_PROC_ROOT): number {
  const status = readText(path.join(procRoot, 'self', 'status'));
  const statm = readText(path.join(procRoot, 'self', 'statm'));
  const kb = status === null ? NaN : parseStatusRssBytes(status) / 1024;
  const pages = Number(statm?.trim().split(/\s+/)[1]);
  if (!(kb > 0) || !(pages > 0)) return 4096;
  const size = 2 ** Math.round(Math.log2((kb * 1024) / pages));
  return size >= 4096 && size <= 65536 ? size : 4096;
}

/** null when the process is gone. */
export function readPidRssBytes(pid: number, procRoot = DEFAULT_PROC_ROOT): number | null {
  const text = readText(path.join(procRoot, String(pid), 'status'));
  return text === null ? null : parseStatusRssBytes(text);
}

/** Entries of /proc/<pid>/fd; null when it cannot be read (gone, or another user's process). */
export function readPidOpenFiles(pid: number, procRoot = DEFAULT_PROC_ROOT): number | null {
  try {
    return fs.readdirSync(path.join(procRoot, String(pid), 'fd')).length;
  } catch {
    return null;
  }
}

/** Every pid under procRoot (numeric directory names); the one scanner, shared with process/proc-identity. */
export { listPids };

// ---- thin host readers ------------------------------------------------------------------

export function readCpuStat(procRoot = DEFAULT_PROC_ROOT): CpuStat | null {
  const text = readText(path.join(procRoot, 'stat'));
  return text === null ? null : parseProcStat(text);
}

export function readMeminfo(procRoot = DEFAULT_PROC_ROOT): MemInfo | null {
  const text = readText(path.join(procRoot, 'meminfo'));
  return text === null ? null : parseMeminfo(text);
}

export function readLoadavg(procRoot = DEFAULT_PROC_ROOT): LoadAverage | null {
  const text = readText(path.join(procRoot, 'loadavg'));
  return text === null ? null : parseLoadavg(text);
}

/**
 * The last pid the kernel handed out (in this pid namespace): the fifth field of
 * /proc/loadavg, e.g. `0.20 0.18 0.12 1/80 11206`. Null when the text does not read like that.
 */
export function parseNewestPid(text: string): number | null {
  const match = /^\S+ \S+ \S+ \d+\/\d+ (\d+)\s*$/.exec(text);
  return match === null ? null : Number(match[1]);
}

export function readUptimeSeconds(procRoot = DEFAULT_PROC_ROOT): number | null {
  const text = readText(path.join(procRoot, 'uptime'));
  return text === null ? null : parseUptimeSeconds(text);
}

export function readDiskstats(procRoot = DEFAULT_PROC_ROOT): ByteCounters | null {
  const text = readText(path.join(procRoot, 'diskstats'));
  return text === null ? null : parseDiskstats(text);
}

export function readNetDev(procRoot = DEFAULT_PROC_ROOT): ByteCounters | null {
  const text = readText(path.join(procRoot, 'net', 'dev'));
  return text === null ? null : parseNetDev(text);
}

export function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}

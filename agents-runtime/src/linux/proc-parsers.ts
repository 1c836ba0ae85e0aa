/**
 * Pure parsers of the host-wide Linux /proc files (text in, numbers out): /proc/stat,
 * meminfo, loadavg, uptime, diskstats and net/dev. The runtime's sampler reads them every
 * second on a managed machine and the control center's sampler reads the same files on the
 * machine it runs on (through the wire module), so both count memory, disks and networks
 * the same way.
 */
import { isVirtualBlockDevice } from './block-devices';

/**
 * The space-separated fields of a line, empty ones left out (the kernel pads columns with
 * spaces; these files have no tabs). A plain split on ' ' rather than on /\s+/: the runtime
 * reads these files every second, interpreted (lite mode, where a regular expression runs
 * in V8's regexp interpreter), and the regexp split was most of the host sample's garbage.
 */
function spaceFields(line: string): string[] {
  const parts = line.split(' ');
  let n = 0;
  for (let i = 0; i < parts.length; i += 1) if (parts[i] !== '') parts[n++] = parts[i]!;
  parts.length = n;
  return parts;
}

// ---- /proc/stat -------------------------------------------------------------------------

/** Cumulative jiffies of one CPU line: `busy` excludes idle and iowait; guest time is inside user already. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface CpuStat {
  /** The aggregate `cpu` line. */
  total: CpuTimes;
  /** `cpu0`, `cpu1`, ... in order. */
  cores: CpuTimes[];
}

/** `line`: a cpu line's fields, its name first. */
function cpuTimes(line: readonly string[]): CpuTimes {
  // user nice system idle iowait irq softirq steal guest guest_nice: guest and guest_nice are
  // already counted in user and nice, so only the first eight add up to the total.
  let total = 0;
  for (let i = 1; i <= 8 && i < line.length; i += 1) total += Number(line[i]) || 0;
  const idle = (Number(line[4]) || 0) + (Number(line[5]) || 0);
  return { busy: total - idle, total };
}

const CORE_NAME = /^cpu\d+$/;

export function parseProcStat(text: string): CpuStat {
  let total: CpuTimes = { busy: 0, total: 0 };
  const cores: CpuTimes[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!lines[i]!.startsWith('cpu')) continue;
    const fields = spaceFields(lines[i]!);
    const name = fields[0];
    if (name === 'cpu') total = cpuTimes(fields);
    else if (name !== undefined && CORE_NAME.test(name)) cores[Number(name.slice(3))] = cpuTimes(fields);
  }
  // An offline core has no line; keep the array dense so indexes stay core numbers.
  for (let i = 0; i < cores.length; i++) cores[i] ??= { busy: 0, total: 0 };
  return { total, cores };
}

// ---- /proc/meminfo ----------------------------------------------------------------------

export interface MemInfo {
  totalBytes: number;
  /** MemTotal - MemAvailable (MemFree on kernels before 3.14). */
  usedBytes: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
}

/** A meminfo key as the first line starts with it, and as any other line does. */
function meminfoKey(key: string): { first: string; line: string } {
  return { first: `${key}:`, line: `\n${key}:` };
}
const MEMINFO = {
  total: meminfoKey('MemTotal'),
  available: meminfoKey('MemAvailable'),
  free: meminfoKey('MemFree'),
  swapTotal: meminfoKey('SwapTotal'),
  swapFree: meminfoKey('SwapFree'),
};

const isBlank = (code: number): boolean => code === 0x20 || code === 0x09;

/**
 * One figure of /proc/meminfo in bytes (the file counts kB), found where its line starts
 * instead of splitting and matching every line: both samplers read the file every second
 * and want five of its ~55 lines. undefined when the key is missing or has no number after
 * the colon and at least one blank.
 */
function meminfoBytes(text: string, key: { first: string; line: string }): number | undefined {
  let at: number;
  if (text.startsWith(key.first)) at = key.first.length;
  else {
    const line = text.indexOf(key.line);
    if (line === -1) return undefined;
    at = line + key.line.length;
  }
  const blanksFrom = at;
  while (at < text.length && isBlank(text.charCodeAt(at))) at += 1;
  if (at === blanksFrom) return undefined;
  let kb = 0;
  const digitsFrom = at;
  for (let code = text.charCodeAt(at); code >= 0x30 && code <= 0x39; code = text.charCodeAt(++at)) kb = kb * 10 + (code - 0x30);
  return at === digitsFrom ? undefined : kb * 1024;
}

export function parseMeminfo(text: string): MemInfo {
  const totalBytes = meminfoBytes(text, MEMINFO.total) ?? 0;
  const available = meminfoBytes(text, MEMINFO.available) ?? meminfoBytes(text, MEMINFO.free) ?? totalBytes;
  const swapTotalBytes = meminfoBytes(text, MEMINFO.swapTotal) ?? 0;
  const swapFree = meminfoBytes(text, MEMINFO.swapFree) ?? swapTotalBytes;
  return {
    totalBytes,
    usedBytes: Math.max(0, totalBytes - available),
    swapTotalBytes,
    swapUsedBytes: Math.max(0, swapTotalBytes - swapFree),
  };
}

// ---- /proc/loadavg ----------------------------------------------------------------------

export interface LoadAverage {
  one: number;
  five: number;
  fifteen: number;
}

export function parseLoadavg(text: string): LoadAverage {
  const [one, five, fifteen] = text.trim().split(/\s+/).map(Number);
  const ok = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) ? v : 0);
  return { one: ok(one), five: ok(five), fifteen: ok(fifteen) };
}

// ---- /proc/uptime -----------------------------------------------------------------------

/** Seconds since boot (the first field), or null. */
export function parseUptimeSeconds(text: string): number | null {
  const v = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(v) ? v : null;
}

// ---- /proc/diskstats --------------------------------------------------------------------

export interface ByteCounters {
  readBytes: number;
  writeBytes: number;
}

/**
 * Bytes read and written on whole disks. Sectors in /proc/diskstats are always 512 bytes.
 * A partition is a device whose name is another listed device's name plus a number
 * (sda1 of sda, nvme0n1p1 of nvme0n1, mmcblk0p2 of mmcblk0), so no driver list is needed.
 */
export function parseDiskstats(text: string): ByteCounters {
  const rows: { name: string; read: number; write: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const f = spaceFields(lines[i]!);
    const name = f[2];
    if (name === undefined || f.length < 10 || isVirtualBlockDevice(name)) continue;
    rows.push({ name, read: Number(f[5]) || 0, write: Number(f[9]) || 0 });
  }
  const names = new Set(rows.map((r) => r.name));
  const isPartition = (name: string): boolean => {
    const m = /^(.*?)p?\d+$/.exec(name);
    return m !== null && names.has(m[1]!);
  };
  let readBytes = 0;
  let writeBytes = 0;
  for (const r of rows) {
    if (isPartition(r.name)) continue;
    readBytes += r.read * 512;
    writeBytes += r.write * 512;
  }
  return { readBytes, writeBytes };
}

// ---- /proc/net/dev ----------------------------------------------------------------------

/** Received and transmitted byte totals over every interface but loopback. */
export function parseNetDev(text: string): ByteCounters {
  let readBytes = 0;
  let writeBytes = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo' || name === '' || name.includes('|')) continue;
    const f = spaceFields(line.slice(colon + 1));
    readBytes += Number(f[0]) || 0;
    writeBytes += Number(f[8]) || 0;
  }
  return { readBytes, writeBytes };
}

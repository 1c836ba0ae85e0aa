import { isVirtualBlockDevice } from '../../../agents-runtime/src/linux/block-devices';

/**
 * Parsers for the Linux /proc files the 1 Hz sampler reads. Reading a file is far
 * cheaper than spawning a tool every second, which is what systeminformation does
 * for disk I/O on Linux.
 */

/** Used memory as the kernel means it: total minus what is available without swapping. */
export function parseMeminfoUsedBytes(text: string): number | null {
  const field = (name: string): number | null => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : null;
  };
  const total = field('MemTotal');
  const available = field('MemAvailable') ?? field('MemFree');
  if (total === null || available === null) return null;
  return Math.max(0, total - available);
}

export interface ByteCounters {
  read: number;
  written: number;
}

/** Receive and transmit byte totals over every interface but loopback. */
export function parseNetDev(text: string): ByteCounters {
  let read = 0;
  let written = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    read += fields[0] ?? 0;
    written += fields[8] ?? 0;
  }
  return { read, written };
}

const PARTITION = /^(sd[a-z]+\d+|vd[a-z]+\d+|xvd[a-z]+\d+|hd[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$/;

/** Bytes read and written on whole disks (sectors in /proc/diskstats are 512 bytes). */
export function parseDiskstats(text: string): ByteCounters {
  let read = 0;
  let written = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields[2];
    if (!name || isVirtualBlockDevice(name) || PARTITION.test(name)) continue;
    read += Number(fields[5] ?? 0) * 512;
    written += Number(fields[9] ?? 0) * 512;
  }
  return { read, written };
}

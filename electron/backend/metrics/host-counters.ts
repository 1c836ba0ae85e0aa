import { readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import { parseDiskstats, parseMeminfo, parseNetDev, type ByteCounters } from '../../../agents-runtime/src/wire';

/** Raw cumulative counters and gauges; the sampler turns counters into rates. */
export interface HostCounters {
  cpuBusyMs: number;
  cpuTotalMs: number;
  memoryUsedBytes: number | null;
  load1m: number;
  net: ByteCounters | null;
  disk: ByteCounters | null;
}

export type CounterReader = () => Promise<HostCounters>;

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/**
 * Linux: three small /proc reads a tick, no process spawned (systeminformation spawns a
 * tool every second for disk I/O), parsed by the runtime's parsers so this machine's
 * figures count memory, disks and networks as a managed host's do.
 */
export function linuxCounterReader(procRoot = '/proc'): CounterReader {
  const read = (file: string) => readFile(`${procRoot}/${file}`, 'utf8').catch(() => null);
  return async () => {
    const [meminfo, netdev, diskstats] = await Promise.all([read('meminfo'), read('net/dev'), read('diskstats')]);
    const cpu = cpuTimes();
    return {
      cpuBusyMs: cpu.busy,
      cpuTotalMs: cpu.total,
      memoryUsedBytes: meminfo ? usedMemoryBytes(meminfo) : null,
      load1m: os.loadavg()[0] ?? 0,
      net: netdev ? parseNetDev(netdev) : null,
      disk: diskstats ? parseDiskstats(diskstats) : null,
    };
  };
}

/** MemTotal - MemAvailable; null when the text has no MemTotal (nothing to judge by). */
function usedMemoryBytes(meminfo: string): number | null {
  const memory = parseMeminfo(meminfo);
  return memory.totalBytes > 0 ? memory.usedBytes : null;
}

/** macOS and Windows: systeminformation, which knows each OS's own counters. */
export function portableCounterReader(): CounterReader {
  return async () => {
    const cpu = cpuTimes();
    const [mem, nets, disk] = await Promise.all([
      si.mem().catch(() => null),
      si.networkStats('*').catch(() => null),
      si.fsStats().catch(() => null),
    ]);
    return {
      cpuBusyMs: cpu.busy,
      cpuTotalMs: cpu.total,
      memoryUsedBytes: mem ? mem.total - mem.available : null,
      load1m: os.loadavg()[0] ?? 0,
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

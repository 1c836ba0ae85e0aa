import { readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import { parseDiskstats, parseMeminfoUsedBytes, parseNetDev, type ByteCounters } from './proc-parsers';

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

/** Linux: three small /proc reads a tick, no process spawned. */
export function linuxCounterReader(procRoot = '/proc'): CounterReader {
  const read = (file: string) => readFile(`${procRoot}/${file}`, 'utf8').catch(() => null);
  return async () => {
    const [meminfo, netdev, diskstats] = await Promise.all([read('meminfo'), read('net/dev'), read('diskstats')]);
    const cpu = cpuTimes();
    return {
      cpuBusyMs: cpu.busy,
      cpuTotalMs: cpu.total,
      memoryUsedBytes: meminfo ? parseMeminfoUsedBytes(meminfo) : null,
      load1m: os.loadavg()[0] ?? 0,
      net: netdev ? parseNetDev(netdev) : null,
      disk: diskstats ? parseDiskstats(diskstats) : null,
    };
  };
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
            .reduce((acc, n) => ({ read: acc.read + n.rx_bytes, written: acc.written + n.tx_bytes }), { read: 0, written: 0 })
        : null,
      // fsStats counts bytes (rx/wx); it is unsupported on Windows, where disk stays unknown.
      disk: disk && typeof disk.rx === 'number' ? { read: disk.rx, written: disk.wx } : null,
    };
  };
}

export function defaultCounterReader(): CounterReader {
  return process.platform === 'linux' ? linuxCounterReader() : portableCounterReader();
}

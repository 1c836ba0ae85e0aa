import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linuxCounterReader } from '../../../electron/backend/metrics/host-counters';

// The Linux counter reader on a fixture /proc: the runtime's parsers, as this machine's sampler uses them.
describe('/proc counters of the machine the app runs on', () => {
  let proc = '';
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(proc, file)), { recursive: true });
    writeFileSync(path.join(proc, file), text);
  };
  const read = async () => {
    const reader = linuxCounterReader(proc);
    try {
      return await reader();
    } finally {
      reader.close?.();
    }
  };

  beforeEach(() => {
    proc = mkdtempSync(path.join(os.tmpdir(), 'sutazai-proc-'));
  });
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  it('computes used memory as total minus available', async () => {
    write('meminfo', 'MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\n');
    expect((await read()).memoryUsedBytes).toBe((16000000 - 6000000) * 1024);
    write('meminfo', 'MemTotal: 10 kB\nMemFree: 4 kB\n');
    expect((await read()).memoryUsedBytes).toBe(6 * 1024);
    write('meminfo', 'garbage');
    expect((await read()).memoryUsedBytes).toBeNull();
  });

  it('reads CPU time from /proc/stat as the runtime does (busy is all but idle and iowait), in ms, each core by its number', async () => {
    write(
      'stat',
      ['cpu  100 10 50 800 40 5 5 0 7 0', 'cpu0 60 5 30 400 20 3 2 0 7 0', 'cpu1 40 5 20 400 20 2 3 0 0 0', 'intr 12345'].join('\n'),
    );
    const counters = await read();
    // user nice system irq softirq steal = 170 ticks busy of 1010 (guest is inside user already).
    expect(counters.cpuBusyMs).toBe(170 * 10);
    expect(counters.cpuTotalMs).toBe(1010 * 10);
    expect(counters.cores).toEqual([
      { busyMs: 100 * 10, totalMs: 520 * 10 },
      { busyMs: 70 * 10, totalMs: 490 * 10 },
    ]);
  });

  it('falls back to the operating system’s CPU times when /proc/stat cannot be read or has no cpu line', async () => {
    expect((await read()).cores).toHaveLength(os.cpus().length);
    write('stat', 'intr 1\n');
    const counters = await read();
    expect(counters.cores).toHaveLength(os.cpus().length);
    expect(counters.cpuTotalMs).toBeGreaterThan(0);
  });

  it('sums network bytes over every interface but loopback', async () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0',
      '  eth0: 1000 5 0 0 0 0 0 0 200 3 0 0 0 0 0 0',
      '  wlan0: 30 1 0 0 0 0 0 0 4 1 0 0 0 0 0 0',
    ].join('\n');
    write('net/dev', text);
    expect((await read()).net).toEqual({ readBytes: 1030, writeBytes: 204 });
  });

  it('counts whole disks only, in 512-byte sectors', async () => {
    const text = [
      ' 253       0 vda 100 0 8 0 50 0 16 0 0 0 0',
      ' 253       1 vda1 100 0 8 0 50 0 16 0 0 0 0',
      '   7       0 loop0 9 0 999 0 9 0 999 0 0 0 0',
      ' 259       0 nvme0n1 1 0 2 0 1 0 4 0 0 0 0',
      ' 259       1 nvme0n1p1 1 0 2 0 1 0 4 0 0 0 0',
      ' 254       0 dm-0 1 0 1000 0 1 0 1000 0 0 0 0',
    ].join('\n');
    write('diskstats', text);
    expect((await read()).disk).toEqual({ readBytes: (8 + 2) * 512, writeBytes: (16 + 4) * 512 });
  });

  it('reads the space of the real filesystems in self/mounts, as the runtime chooses them; a failed statfs leaves its mount out', async () => {
    write(
      'self/mounts',
      [
        '/dev/sda1 / ext4 rw 0 0',
        'proc /proc proc rw 0 0',
        'tmpfs /run tmpfs rw 0 0',
        '/dev/sdb1 /mnt/my\\040disk xfs rw 0 0',
        '/dev/sdc1 /gone ext4 rw 0 0',
        // A bind mount of a device already listed repeats its numbers: left out.
        '/dev/sda1 /srv/bind ext4 rw 0 0',
      ].join('\n'),
    );
    const asked: string[] = [];
    const statfs = async (mount: string) => {
      asked.push(mount);
      if (mount === '/gone') throw new Error('ENOENT');
      return { bsize: 4096, blocks: 1000, bfree: mount === '/' ? 250 : 1000 };
    };
    const counters = await linuxCounterReader(proc, statfs)();
    expect(asked.sort()).toEqual(['/', '/gone', '/mnt/my disk']);
    expect(counters.filesystems).toEqual([
      { mount: '/', usedBytes: 750 * 4096, totalBytes: 1000 * 4096 },
      { mount: '/mnt/my disk', usedBytes: 0, totalBytes: 1000 * 4096 },
    ]);
  });

  it('reads the mount table and each filesystem once per interval and gives that reading to every tick in between', async () => {
    write('self/mounts', '/dev/sda1 / ext4 rw 0 0\n');
    let now = 1_000_000;
    let bfree = 250;
    const asked: string[] = [];
    const statfs = async (mount: string) => {
      asked.push(mount);
      return { bsize: 4096, blocks: 1000, bfree };
    };
    const read = linuxCounterReader(proc, statfs, { filesystemsEveryMs: 10_000, now: () => now });
    const used = async () => (await read()).filesystems?.map((fs) => fs.usedBytes);
    expect(await used()).toEqual([750 * 4096]);
    // Within the interval: the same reading, without a statfs or a look at the mount table.
    bfree = 100;
    write('self/mounts', '/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data xfs rw 0 0\n');
    now += 9_999;
    expect(await used()).toEqual([750 * 4096]);
    expect(asked).toEqual(['/']);
    // Once it has passed: read again, a new mount included.
    now += 1;
    expect(await used()).toEqual([900 * 4096, 900 * 4096]);
    expect(asked).toEqual(['/', '/', '/data']);
    // The other figures are read every tick all the while.
    write('meminfo', 'MemTotal: 10 kB\nMemFree: 4 kB\n');
    expect((await read()).memoryUsedBytes).toBe(6 * 1024);
    write('meminfo', 'MemTotal: 10 kB\nMemFree: 1 kB\n');
    expect((await read()).memoryUsedBytes).toBe(9 * 1024);
  });

  it('keeps its /proc files open from tick to tick, reads each again in place, and lets them go when closed', async () => {
    write('stat', 'cpu  100 0 0 900 0 0 0 0 0 0\ncpu0 100 0 0 900 0 0 0 0 0 0\n');
    write('meminfo', 'MemTotal: 10 kB\nMemAvailable: 4 kB\n');
    write('net/dev', 'h1\nh2\n  eth0: 10 0 0 0 0 0 0 0 20 0 0 0 0 0 0 0\n');
    write('diskstats', ' 253 0 vda 1 0 8 0 1 0 16 0 0 0 0\n');
    const intoProc = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(proc);
        } catch {
          return false; // the directory's own descriptor, closed once listed
        }
      }).length;
    const reader = linuxCounterReader(proc, async () => ({ bsize: 4096, blocks: 1, bfree: 1 }));
    try {
      expect((await reader()).memoryUsedBytes).toBe(6 * 1024);
      // stat, meminfo, net/dev, diskstats (self/mounts is missing here): held open between ticks.
      expect(intoProc()).toBe(4);
      // Rewritten in place, as procfs makes its text anew on every read: the next tick reads the new text through the same files.
      write('meminfo', 'MemTotal: 10 kB\nMemAvailable: 1 kB\n');
      write('stat', 'cpu  300 0 0 900 0 0 0 0 0 0\ncpu0 300 0 0 900 0 0 0 0 0 0\n');
      const second = await reader();
      expect(second.memoryUsedBytes).toBe(9 * 1024);
      expect(second.cpuBusyMs).toBe(300 * 10);
      expect(intoProc()).toBe(4);
    } finally {
      reader.close?.();
    }
    expect(intoProc()).toBe(0);
  });

  it('reads the memory total, swap, the three load averages and each core with the overall CPU times', async () => {
    write('meminfo', 'MemTotal:       16000000 kB\nMemAvailable:    6000000 kB\nSwapTotal: 2000 kB\nSwapFree: 500 kB\n');
    const counters = await read();
    expect(counters.memoryTotalBytes).toBe(16000000 * 1024);
    expect(counters.swap).toEqual({ usedBytes: 1500 * 1024, totalBytes: 2000 * 1024 });
    for (const load of [counters.load1m, counters.load5m, counters.load15m]) expect(load).toBeGreaterThanOrEqual(0);
    expect(counters.cores.length).toBe(os.cpus().length);
    // One reading of every core: the cores add up to the machine's total.
    expect(counters.cores.reduce((n, core) => n + core.totalMs, 0)).toBe(counters.cpuTotalMs);
    expect(counters.cores.every((core) => core.busyMs <= core.totalMs)).toBe(true);
  });

  it('leaves a figure unknown when its file cannot be read', async () => {
    const counters = await read();
    expect(counters).toMatchObject({ memoryUsedBytes: null, memoryTotalBytes: null, swap: null, net: null, disk: null, filesystems: null });
    expect(counters.cpuTotalMs).toBeGreaterThan(0);
  });
});

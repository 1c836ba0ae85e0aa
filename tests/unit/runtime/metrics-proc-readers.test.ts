// The runtime's /proc parsers on fixture text, and the samplers on a fixture /proc tree.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostSampler } from '../../../agents-runtime/src/metrics/host-sampler';
import {
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  parseUptimeSeconds,
} from '../../../agents-runtime/src/linux/proc-parsers';
import { parseMounts } from '../../../agents-runtime/src/linux/mounts';
import { busyPercent, parsePidStat, parseStatusRssBytes, readFilesystems } from '../../../agents-runtime/src/metrics/proc-readers';
import { createProcessSampler } from '../../../agents-runtime/src/metrics/process-sampler';
import { detectPageSize } from '../../../agents-runtime/src/metrics/proc-readers';

const STAT = `cpu  1000 0 500 8000 500 0 0 0 0 0
cpu0 600 0 200 3900 300 0 0 0 0 0
cpu1 400 0 300 4100 200 0 0 0 0 0
intr 12345 0 0
ctxt 999
btime 1700000000
`;

const MEMINFO = `MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    6000000 kB
Buffers:          100000 kB
Active(anon):      10000 kB
SwapTotal:       2000000 kB
SwapFree:        1500000 kB
HugePages_Total:       0
`;

const DISKSTATS = `   7       0 loop0 10 0 100 0 0 0 0 0 0 0 0
 259       0 nvme0n1 100 0 2000 0 50 0 1000 0 0 0 0
 259       1 nvme0n1p1 90 0 1800 0 40 0 800 0 0 0 0
   8       0 sda 10 0 200 0 5 0 100 0 0 0 0
   8       1 sda1 10 0 200 0 5 0 100 0 0 0 0
 179       0 mmcblk0 1 0 4 0 1 0 8 0 0 0 0
 179       1 mmcblk0p1 1 0 4 0 1 0 8 0 0 0 0
 254       0 vda 3 0 6 0 1 0 2 0 0 0 0
 253       0 dm-0 1000 0 99999 0 1000 0 99999 0 0 0 0
  11       0 sr0 1 0 99999 0 0 0 0 0 0 0 0
`;

const NETDEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999     100    0    0    0     0          0         0   999999     100    0    0    0     0       0          0
  eth0:    1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
wlan0:      500       5    0    0    0     0          0         0      700       7    0    0    0     0       0          0
`;

const MOUNTS = `proc /proc proc rw,relatime 0 0
/dev/vda1 / ext4 rw,relatime 0 0
tmpfs /run tmpfs rw 0 0
/dev/vda1 /srv/bind ext4 rw,relatime 0 0
/dev/sdb1 /mnt/my\\040disk xfs rw 0 0
server:/export /nfs nfs4 rw 0 0
overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0
`;

describe('metrics /proc parsers', () => {
  it('/proc/stat: total and per core, idle and iowait as idle', () => {
    const s = parseProcStat(STAT);
    expect(s.total).toEqual({ busy: 1500, total: 10000 });
    expect(s.cores).toEqual([
      { busy: 800, total: 5000 },
      { busy: 700, total: 5000 },
    ]);
    const later = parseProcStat(STAT.replace('cpu0 600 0 200 3900', 'cpu0 650 0 250 3950'));
    expect(busyPercent(s.cores[0]!, later.cores[0]!)).toBeCloseTo((100 / 150) * 100);
    expect(busyPercent(s.cores[1]!, later.cores[1]!)).toBe(0); // no time passed on cpu1
  });

  it('/proc/meminfo: used = total - available, swap', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({
      totalBytes: 8000000 * 1024,
      usedBytes: 2000000 * 1024,
      swapTotalBytes: 2000000 * 1024,
      swapUsedBytes: 500000 * 1024,
    });
    // Before MemAvailable (kernel < 3.14) free memory stands in.
    expect(parseMeminfo('MemTotal: 100 kB\nMemFree: 40 kB\n').usedBytes).toBe(60 * 1024);
    // A key only where a line starts with it, its number after the colon and a blank: else as if absent.
    expect(parseMeminfo('X: 1\nMemTotal:\t 70 kB\nNotSwapTotal: 9 kB\nSwapFree: 2 kB\n')).toEqual({
      totalBytes: 70 * 1024,
      usedBytes: 0,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
    });
    expect(parseMeminfo('MemTotal: 100 kB\nMemAvailable: n/a\nMemFree:40 kB\nSwapTotal: 8 kB\nSwapFree: 3 kB').usedBytes).toBe(0);
    expect(parseMeminfo('garbage').totalBytes).toBe(0);
  });

  it('/proc/loadavg and /proc/uptime', () => {
    expect(parseLoadavg('0.52 0.89 2.77 1/345 12345\n')).toEqual({ one: 0.52, five: 0.89, fifteen: 2.77 });
    expect(parseLoadavg('garbage')).toEqual({ one: 0, five: 0, fifteen: 0 });
    expect(parseUptimeSeconds('12345.67 2345.67\n')).toBe(12345.67);
  });

  it('/proc/diskstats: whole disks only, 512-byte sectors', () => {
    // nvme0n1 + sda + mmcblk0 + vda; no partitions, loop, dm or sr.
    expect(parseDiskstats(DISKSTATS)).toEqual({ readBytes: (2000 + 200 + 4 + 6) * 512, writeBytes: (1000 + 100 + 8 + 2) * 512 });
  });

  it('/proc/net/dev: every interface but lo', () => {
    expect(parseNetDev(NETDEV)).toEqual({ readBytes: 1500, writeBytes: 2700 });
  });

  it('/proc/self/mounts: real filesystems, one per device, octal escapes decoded', () => {
    expect(parseMounts(MOUNTS).map((m) => m.mount)).toEqual(['/', '/mnt/my disk']);
    expect(parseMounts('overlay / overlay rw 0 0\n').map((m) => m.mount)).toEqual(['/']);
  });

  it('statfs of those mounts: used = blocks - free, failures skipped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-proc-'));
    try {
      fs.mkdirSync(path.join(dir, 'self'));
      fs.writeFileSync(path.join(dir, 'self', 'mounts'), MOUNTS);
      const statfs = (mount: string) => {
        if (mount === '/mnt/my disk') throw new Error('EACCES');
        return { bsize: 4096, blocks: 1000, bfree: 250 };
      };
      expect(readFilesystems(dir, statfs)).toEqual([{ mount: '/', usedBytes: 750 * 4096, totalBytes: 1000 * 4096 }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('/proc/<pid>/stat: comm with spaces and parentheses, utime+stime, threads, pgrp', () => {
    const text = '4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 6 0 98765 1000000 500 18446744073709551615\n';
    expect(parsePidStat(text)).toEqual({
      pid: 4242,
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      cpuTicks: 200,
      threads: 6,
      startTicks: 98765,
      rssPages: 500,
    });
    expect(parsePidStat('12 (x) S 1 2')).toBeNull();
  });

  it('/proc/<pid>/stat: the comm closes at the last ")" of its 64 bytes, whatever fields that look alike it holds', () => {
    // As long as the kernel prints (a kernel worker's name); a user process can name itself at most 15 bytes.
    const comm = `) R 7 7 7 0 -1 0 0 0 0 0 999 999 ${'x'.repeat(30)}`.padEnd(63, ')');
    expect(comm).toHaveLength(63);
    const tail = ' S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 6 0 98765 1000000 500 18446744073709551615 ' + '1 '.repeat(28);
    expect(parsePidStat(`4242 (${comm})${tail}\n`)).toMatchObject({
      pid: 4242,
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      cpuTicks: 200,
      rssPages: 500,
    });
    // Without its closing ')' within those bytes the line is not a stat line.
    expect(parsePidStat(`4242 (${'y'.repeat(80)})${tail}\n`)).toBeNull();
  });

  it('/proc/<pid>/status: VmRSS in bytes, 0 without one (kernel thread)', () => {
    expect(parseStatusRssBytes('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t11\n')).toBe(51200 * 1024);
    expect(parseStatusRssBytes('Name:\tkthreadd\n')).toBe(0);
  });
});

/** A fixture /proc the samplers can read. */
class FakeProc {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-fakeproc-'));
  write(rel: string, text: string): void {
    const file = path.join(this.root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  process(pid: number, opts: { pgrp: number; ticks: number; threads: number; start: number; rssKb: number; fds: number }): void {
    // Field 24 (rss) in 4 KiB pages; the samplers below are made with pageSizeBytes 4096.
    this.write(
      `${pid}/stat`,
      `${pid} (p${pid}) S 1 ${opts.pgrp} ${opts.pgrp} 0 -1 0 0 0 0 0 ${opts.ticks} 0 0 0 20 0 ${opts.threads} 0 ${opts.start} 0 ${opts.rssKb / 4} 0\n`,
    );
    this.write(`${pid}/status`, `Name:\tp${pid}\nTgid:\t${pid}\nVmRSS:\t${opts.rssKb} kB\n`);
    fs.rmSync(path.join(this.root, String(pid), 'fd'), { recursive: true, force: true });
    fs.mkdirSync(path.join(this.root, String(pid), 'fd'));
    for (let i = 0; i < opts.fds; i++) fs.writeFileSync(path.join(this.root, String(pid), 'fd', String(i)), '');
  }
  remove(pid: number): void {
    fs.rmSync(path.join(this.root, String(pid)), { recursive: true, force: true });
  }
  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

describe('samplers on a fixture /proc', () => {
  let proc: FakeProc;
  beforeEach(() => {
    proc = new FakeProc();
  });
  afterEach(() => proc.cleanup());

  it('host: percentages and per-second rates from the difference of two readings', () => {
    proc.write('stat', STAT);
    proc.write('meminfo', MEMINFO);
    proc.write('loadavg', '1.5 1.0 0.5 1/100 42\n');
    proc.write('diskstats', DISKSTATS);
    proc.write('net/dev', NETDEV);
    proc.write('self/mounts', '/dev/vda1 / ext4 rw 0 0\n');
    const sampler = createHostSampler({ procRoot: proc.root, statfs: () => ({ bsize: 1024, blocks: 100, bfree: 40 }) });
    const first = sampler.sample(0);
    expect(first).toMatchObject({ cpuPercent: 0, perCorePercent: [0, 0], diskReadBytesPerSec: 0, netRxBytesPerSec: 0 });
    proc.write('stat', 'cpu  1100 0 500 8050 550 0 0 0 0 0\ncpu0 700 0 200 3900 300 0 0 0 0 0\ncpu1 400 0 300 4000 200 0 0 0 0 0\n');
    proc.write('diskstats', DISKSTATS.replace('sda 10 0 200', 'sda 10 0 1200'));
    proc.write('net/dev', NETDEV.replace('eth0:    1000', 'eth0:    3000'));
    const second = sampler.sample(2000, [
      { index: 0, name: 'X', utilizationPercent: 5, memoryUsedBytes: 1, memoryTotalBytes: 2, temperatureC: 40 },
    ]);
    expect(second.cpuPercent).toBeCloseTo((100 / 200) * 100);
    expect(second.perCorePercent).toEqual([100, 0]);
    expect(second.loadOneMinute).toBe(1.5);
    expect(second.loadFifteenMinutes).toBe(0.5);
    expect(second.memoryTotalBytes).toBe(8000000 * 1024);
    expect(second.swapUsedBytes).toBe(500000 * 1024);
    expect(second.diskReadBytesPerSec).toBe((1000 * 512) / 2);
    expect(second.diskWriteBytesPerSec).toBe(0);
    expect(second.netRxBytesPerSec).toBe(1000);
    expect(second.filesystems).toEqual([{ mount: '/', usedBytes: 60 * 1024, totalBytes: 100 * 1024 }]);
    expect(second.gpus).toHaveLength(1);
    // A counter that went backwards (interface gone) reads 0, not a negative rate.
    proc.write('net/dev', NETDEV.replace('eth0:    1000', 'eth0:       0'));
    expect(sampler.sample(3000).netRxBytesPerSec).toBe(0);
  });

  it('process: summed over the group, exits do not go negative, births during the interval count', () => {
    proc.write('uptime', '1000.00 0\n');
    proc.process(500, { pgrp: 500, ticks: 1000, threads: 2, start: 50_000, rssKb: 1000, fds: 3 });
    proc.process(501, { pgrp: 500, ticks: 300, threads: 1, start: 60_000, rssKb: 500, fds: 2 });
    proc.process(900, { pgrp: 900, ticks: 99_999, threads: 9, start: 10, rssKb: 9, fds: 1 }); // someone else
    const sampler = createProcessSampler({ procRoot: proc.root, pageSizeBytes: 4096, fullScanEvery: 1, openFilesEvery: 1 });
    const info = [
      { instance: 'agent-1', process: 'agent', pid: 500, restarts: 3, operatorRestarts: 2, startedAtMs: 10_000 },
      { instance: 'agent-2', process: 'agent', pid: null, restarts: 1, startedAtMs: null },
    ];
    const first = sampler.sample(info, 70_000);
    expect(first[0]).toEqual({
      instance: 'agent-1',
      process: 'agent',
      pid: 500,
      cpuPercent: 0,
      rssBytes: 1500 * 1024,
      threads: 3,
      openFiles: 5,
      restarts: 3,
      operatorRestarts: 2,
      uptimeMs: 60_000,
    });
    expect(first[1]).toEqual({
      instance: 'agent-2',
      process: 'agent',
      pid: null,
      cpuPercent: 0,
      rssBytes: 0,
      threads: 0,
      openFiles: null,
      restarts: 1,
      operatorRestarts: 0, // not given: none
      uptimeMs: null,
    });

    // 2 s later (200 ticks): the leader used 150 ticks, 501 exited, 502 was born and used 50.
    proc.write('uptime', '1002.00 0\n');
    proc.process(500, { pgrp: 500, ticks: 1150, threads: 2, start: 50_000, rssKb: 1000, fds: 3 });
    proc.remove(501);
    proc.process(502, { pgrp: 500, ticks: 50, threads: 1, start: 100_050, rssKb: 100, fds: 1 });
    const second = sampler.sample(info, 72_000);
    expect(second[0]!.cpuPercent).toBeCloseTo(((150 + 50) / 200) * 100);
    expect(second[0]).toMatchObject({ threads: 3, rssBytes: 1100 * 1024, openFiles: 4, uptimeMs: 62_000 });
  });

  it('process: a pid that is not a group leader counts alone', () => {
    proc.write('uptime', '1000.00 0\n');
    // Whole pages (the kernel's rss field is a page count): 12 kB = 3 pages of 4 KiB.
    proc.process(700, { pgrp: 1, ticks: 10, threads: 4, start: 5, rssKb: 12, fds: 0 });
    proc.process(701, { pgrp: 1, ticks: 10, threads: 4, start: 5, rssKb: 12, fds: 0 });
    const [m] = createProcessSampler({ procRoot: proc.root, pageSizeBytes: 4096, fullScanEvery: 1, openFilesEvery: 1 }).sample(
      [{ instance: 'core-1', process: 'core', pid: 700, restarts: 0, startedAtMs: null }],
      1,
    );
    expect(m).toMatchObject({ pid: 700, threads: 4, rssBytes: 12 * 1024, openFiles: 0, uptimeMs: null });
  });

  it('process: between full scans, a member that exits is dropped, and a stopped instance is forgotten (its CPU is not carried to a later tick)', () => {
    proc.write('uptime', '1000.00 0\n');
    proc.process(500, { pgrp: 500, ticks: 100, threads: 1, start: 50_000, rssKb: 400, fds: 1 });
    proc.process(501, { pgrp: 500, ticks: 40, threads: 1, start: 60_000, rssKb: 100, fds: 1 });
    proc.process(600, { pgrp: 600, ticks: 10, threads: 1, start: 70_000, rssKb: 200, fds: 1 });
    const sampler = createProcessSampler({ procRoot: proc.root, pageSizeBytes: 4096, fullScanEvery: 1000, openFilesEvery: 1000 });
    const core = { instance: 'core-1', process: 'core', pid: 500, restarts: 0, startedAtMs: null };
    const agent = { instance: 'agent-1', process: 'agent', pid: 600 as number | null, restarts: 0, startedAtMs: null };
    sampler.sample([core, agent], 1); // the full scan: both groups known

    // 1 s (100 ticks) later, no scan: 501 has exited; the agent is stopped.
    proc.write('uptime', '1001.00 0\n');
    proc.process(500, { pgrp: 500, ticks: 110, threads: 1, start: 50_000, rssKb: 400, fds: 1 });
    proc.remove(501);
    const second = sampler.sample([core, { ...agent, pid: null }], 2);
    expect(second[0]).toMatchObject({ cpuPercent: 10, threads: 1, rssBytes: 400 * 1024 });
    expect(second[1]).toMatchObject({ pid: null, cpuPercent: 0 });

    // The agent runs again under the same pid (its process has used 50 ticks meanwhile): it is
    // looked at afresh, so none of that is put on this one tick; the core goes on as before.
    proc.write('uptime', '1002.00 0\n');
    proc.process(500, { pgrp: 500, ticks: 130, threads: 1, start: 50_000, rssKb: 400, fds: 1 });
    proc.process(600, { pgrp: 600, ticks: 60, threads: 1, start: 70_000, rssKb: 200, fds: 1 });
    const third = sampler.sample([core, agent], 3);
    expect(third[0]).toMatchObject({ cpuPercent: 20, threads: 1 });
    expect(third[1]).toMatchObject({ pid: 600, cpuPercent: 0, rssBytes: 200 * 1024 });
  });

  it('process: between full scans only known members are re-read; a new leader forces a scan; open files are recounted on schedule', () => {
    proc.write('uptime', '1000.00 0\n');
    proc.process(500, { pgrp: 500, ticks: 10, threads: 1, start: 50_000, rssKb: 400, fds: 3 });
    const sampler = createProcessSampler({ procRoot: proc.root, pageSizeBytes: 4096, fullScanEvery: 3, openFilesEvery: 2 });
    const info = [{ instance: 'core-1', process: 'core', pid: 500, restarts: 0, startedAtMs: null }];
    expect(sampler.sample(info, 1)[0]).toMatchObject({ rssBytes: 400 * 1024, openFiles: 3 }); // tick 1: full scan, count
    proc.process(501, { pgrp: 500, ticks: 0, threads: 1, start: 60_000, rssKb: 100, fds: 1 }); // forked after the scan
    proc.process(500, { pgrp: 500, ticks: 10, threads: 1, start: 50_000, rssKb: 400, fds: 7 });
    expect(sampler.sample(info, 2)[0]).toMatchObject({ rssBytes: 400 * 1024, threads: 1, openFiles: 3 }); // tick 2: known members, cached files
    expect(sampler.sample(info, 3)[0]).toMatchObject({ rssBytes: 400 * 1024, threads: 1, openFiles: 7 }); // tick 3: files recounted
    expect(sampler.sample(info, 4)[0]).toMatchObject({ rssBytes: 500 * 1024, threads: 2, openFiles: 8 }); // tick 4: full scan finds 501
    proc.remove(501);
    expect(sampler.sample(info, 5)[0]).toMatchObject({ rssBytes: 400 * 1024, threads: 1 }); // gone members drop at once
    // A restart: the new leader is not in the last scan, so this tick scans in full.
    proc.process(600, { pgrp: 600, ticks: 0, threads: 5, start: 70_000, rssKb: 40, fds: 2 });
    const restarted = [{ ...info[0]!, pid: 600 }];
    expect(sampler.sample(restarted, 6)[0]).toMatchObject({ pid: 600, rssBytes: 40 * 1024, threads: 5, openFiles: 2 });
  });

  it('process: new members are looked for every tick while few ids were handed out; on a host forking many, every listNewEvery ticks, none missed', () => {
    proc.write('uptime', '1000.00 0\n');
    proc.write('loadavg', '0.10 0.10 0.10 1/80 500\n');
    proc.process(500, { pgrp: 500, ticks: 10, threads: 1, start: 50_000, rssKb: 400, fds: 3 });
    const sampler = createProcessSampler({
      procRoot: proc.root,
      pageSizeBytes: 4096,
      fullScanEvery: 1_000_000,
      openFilesEvery: 1,
      listNewEvery: 3,
    });
    const info = [{ instance: 'core-1', process: 'core', pid: 500, restarts: 0, startedAtMs: null }];
    expect(sampler.sample(info, 1)[0]).toMatchObject({ threads: 1 }); // tick 1: full scan
    // A few new ids (tried one by one): the member forked meanwhile counts on the next tick.
    proc.process(503, { pgrp: 500, ticks: 0, threads: 1, start: 60_000, rssKb: 100, fds: 1 });
    proc.write('loadavg', '0.10 0.10 0.10 1/81 505\n');
    expect(sampler.sample(info, 2)[0]).toMatchObject({ threads: 2 }); // tick 2: looked (and listed nothing)
    // A busy host: hundreds of ids since the last tick. /proc is listed now (tick 3)...
    proc.write('loadavg', '0.10 0.10 0.10 1/81 900\n');
    expect(sampler.sample(info, 3)[0]).toMatchObject({ threads: 2 });
    // ...and not again before tick 6; a member forked now waits for that look, with its ids kept.
    proc.process(950, { pgrp: 500, ticks: 0, threads: 1, start: 70_000, rssKb: 100, fds: 1 });
    proc.write('loadavg', '0.10 0.10 0.10 1/82 1400\n');
    expect(sampler.sample(info, 4)[0]).toMatchObject({ threads: 2 });
    proc.write('loadavg', '0.10 0.10 0.10 1/82 1900\n');
    expect(sampler.sample(info, 5)[0]).toMatchObject({ threads: 2 });
    proc.write('loadavg', '0.10 0.10 0.10 1/82 2400\n');
    expect(sampler.sample(info, 6)[0]).toMatchObject({ threads: 3, rssBytes: 600 * 1024 }); // tick 6: found
    sampler.close();
  });

  it('page size for the stat rss field is derived from /proc/self (a power of two, 4 KiB on x64)', () => {
    const size = detectPageSize();
    expect(Math.log2(size) % 1).toBe(0);
    if (process.arch === 'x64') expect(size).toBe(4096);
    expect(detectPageSize(proc.root)).toBe(4096); // nothing to read there: the default
  });
});

/**
 * The metrics tick's kept-open /proc files (agents-runtime/src/metrics/proc-files.ts) and the
 * per-tick look at new pids (process-sampler.ts), on the real /proc with real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PidStatFiles, ProcTextFile } from '../../../agents-runtime/src/metrics/proc-files';
import { parseNewestPid, parsePidStat } from '../../../agents-runtime/src/metrics/proc-readers';
import { createProcessSampler } from '../../../agents-runtime/src/metrics/process-sampler';

const started: Array<{ child: ChildProcess; detached: boolean }> = [];

function start(command: string, args: string[], detached = false): ChildProcess {
  const child = spawn(command, args, { detached, stdio: ['pipe', 'ignore', 'ignore'] });
  started.push({ child, detached });
  return child;
}

/** Pids whose process group is `pgid`, from /proc now. */
function groupOf(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return parsePidStat(fs.readFileSync(`/proc/${n}/stat`, 'latin1'))?.pgrp === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

afterEach(() => {
  for (const { child, detached } of started.splice(0)) {
    try {
      // A detached leader's whole group: the sleeps it forked too.
      if (detached) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
});

describe('kept-open /proc files', () => {
  it('/proc/loadavg names the newest pid; text that does not read like it gives null', () => {
    expect(parseNewestPid('0.20 0.18 0.12 1/80 11206\n')).toBe(11206);
    expect(parseNewestPid('0.20 0.18 0.12\n')).toBeNull();
    const before = parseNewestPid(new ProcTextFile('/proc/loadavg').read()!)!;
    const child = start('sleep', ['30']);
    const after = parseNewestPid(fs.readFileSync('/proc/loadavg', 'utf8'))!;
    // In this pid namespace the newest pid moved to (or past) the child's.
    expect(after === child.pid || after !== before).toBe(true);
  });

  it('negative fields (priority, nice) and a comm with spaces and parentheses parse from bytes', () => {
    const text = '77 (a) b) c) R 1 77 77 0 -1 4194560 1 0 0 0 5 6 0 0 -2 -20 3 0 4444 1000 9 0\n';
    expect(parsePidStat(text)).toEqual({ pid: 77, state: 'R', ppid: 1, pgrp: 77, cpuTicks: 11, threads: 3, startTicks: 4444, rssPages: 9 });
    expect(parsePidStat('77 (a) R 1 77 x 0')).toBeNull();
  });

  it('a kept stat file reads the process anew each time, and null once it has exited (its file is closed)', async () => {
    const child = start('sleep', ['30']);
    await until('the child in /proc', () => fs.existsSync(`/proc/${child.pid}/stat`));
    const files = new PidStatFiles();
    const first = files.read(child.pid!);
    expect(first).toMatchObject({ pid: child.pid, ppid: process.pid });
    expect(files.size).toBe(1);
    expect(files.read(child.pid!)).toMatchObject({ pid: child.pid, startTicks: first!.startTicks });
    expect(files.size).toBe(1);
    child.kill('SIGKILL');
    await once(child, 'exit'); // reaped: the pid is free
    expect(files.read(child.pid!)).toBeNull();
    expect(files.size).toBe(0);
  });

  it('a sweep closes the files not read since the previous sweep', async () => {
    const a = start('sleep', ['30']);
    const b = start('sleep', ['30']);
    await until('both children in /proc', () => fs.existsSync(`/proc/${a.pid}/stat`) && fs.existsSync(`/proc/${b.pid}/stat`));
    const files = new PidStatFiles();
    files.read(a.pid!);
    files.read(b.pid!);
    files.sweep();
    expect(files.size).toBe(2);
    files.read(a.pid!);
    files.sweep();
    expect(files.size).toBe(1);
    files.closeAll();
    expect(files.size).toBe(0);
  });

  it('a sweep still closes an unread file when another was read and then lost in the same round (the count of reads is kept exact)', async () => {
    const a = start('sleep', ['30']);
    const b = start('sleep', ['30']);
    const c = start('sleep', ['30']);
    const all = [a, b, c];
    await until('the children in /proc', () => all.every((child) => fs.existsSync(`/proc/${child.pid}/stat`)));
    const files = new PidStatFiles();
    for (const child of all) files.read(child.pid!);
    files.sweep();
    // This round: a is read and then exits (its file is dropped on the failed read), b is read twice, c not at all.
    expect(files.read(a.pid!)).not.toBeNull();
    a.kill('SIGKILL');
    await once(a, 'exit');
    expect(files.read(a.pid!)).toBeNull();
    files.read(b.pid!);
    files.read(b.pid!);
    expect(files.size).toBe(2);
    files.sweep();
    // Two reads counted (a's withdrawn when it was dropped, b's twice counted once) against two files: c must be found unread.
    expect(files.size).toBe(1);
    expect(files.read(b.pid!)).toMatchObject({ pid: b.pid });
    files.closeAll();
  });
  it('a process forked into a watched group counts on the next tick, without a full scan', async () => {
    // The leader forks a `sleep` into its own group for every line it reads.
    const leader = start('/bin/sh', ['-c', 'while read l; do sleep 30 & done'], true);
    await until('the leader in /proc', () => groupOf(leader.pid!).length === 1);
    // listNewEvery 1: on a busy machine more than a few ids go by between two ticks (see the option).
    const sampler = createProcessSampler({ fullScanEvery: 1_000_000, openFilesEvery: 1, listNewEvery: 1 });
    const info = [{ instance: 'core-1', process: 'core', pid: leader.pid!, restarts: 0, startedAtMs: null }];
    expect(sampler.sample(info, 1)[0]).toMatchObject({ threads: 1 }); // the first tick scans in full
    expect(sampler.sample(info, 2)[0]).toMatchObject({ threads: 1 });
    leader.stdin!.write('fork\n');
    await until('the forked sleep in the group', () => groupOf(leader.pid!).length === 2);
    expect(sampler.sample(info, 3)[0]).toMatchObject({ threads: 2 });
    leader.stdin!.write('fork\n');
    await until('a second sleep in the group', () => groupOf(leader.pid!).length === 3);
    expect(sampler.sample(info, 4)[0]).toMatchObject({ threads: 3 });
    sampler.close();
  });

  it("a thread started in a watched process is not taken for a new member (thread ids come from the pids' counter)", async () => {
    // Python starts one sleeping thread per line it reads: a new id in the same group, but a thread.
    const leader = start(
      'python3',
      [
        '-u',
        '-c',
        'import sys, threading, time\nfor l in sys.stdin:\n    threading.Thread(target=time.sleep, args=(300,), daemon=True).start()',
      ],
      true,
    );
    const threadsOf = (pid: number): number => Number(/^Threads:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    await until('the leader in /proc', () => fs.existsSync(`/proc/${leader.pid}/status`));
    const sampler = createProcessSampler({ fullScanEvery: 1_000_000, openFilesEvery: 1 });
    const info = [{ instance: 'core-1', process: 'core', pid: leader.pid!, restarts: 0, startedAtMs: null }];
    const before = threadsOf(leader.pid!);
    expect(sampler.sample(info, 1)[0]).toMatchObject({ threads: before });
    leader.stdin!.write('thread\n');
    await until('the new thread', () => threadsOf(leader.pid!) === before + 1);
    // Counted once, as the process's thread count: not again as a member of its own.
    expect(sampler.sample(info, 2)[0]).toMatchObject({ threads: before + 1 });
    expect(groupOf(leader.pid!)).toEqual([leader.pid]);
    sampler.close();
  });
});

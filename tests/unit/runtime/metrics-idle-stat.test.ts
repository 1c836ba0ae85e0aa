/**
 * The metrics tick's reuse of an idle member's /proc/<pid>/stat (agents-runtime/src/metrics/
 * proc-files.ts readUnlessIdle), on the real /proc with real processes: reused only while the
 * process has not run (one thread, schedstat unchanged) and never for more than
 * STAT_AT_LEAST_EVERY ticks in a row; what the sampler reports for an idle group is what a
 * fresh read of /proc says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  IDLE_AFTER_LOOKS,
  IDLE_LOOK_EVERY,
  PidStatFiles,
  STAT_AT_LEAST_EVERY,
  STAT_AT_LEAST_EVERY_LONG_IDLE,
} from '../../../agents-runtime/src/metrics/proc-files';
import { detectPageSize, parsePidStat, type PidStat } from '../../../agents-runtime/src/metrics/proc-readers';
import { createProcessSampler } from '../../../agents-runtime/src/metrics/process-sampler';

const started: ChildProcess[] = [];

function start(command: string, args: string[], detached = false): ChildProcess {
  const child = spawn(command, args, { detached, stdio: ['pipe', 'ignore', 'ignore'] });
  started.push(child);
  return child;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const statNow = (pid: number) => parsePidStat(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
const schedNow = (pid: number): string => fs.readFileSync(`/proc/${pid}/schedstat`, 'latin1');
const threadsOf = (pid: number): number => Number(/^Threads:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** Waits until the process sits asleep (state S) with the same schedstat twice over 50 ms: it is not running. */
async function settled(pid: number): Promise<void> {
  await until(`pid ${pid} asleep`, () => statNow(pid)?.state === 'S');
  let last = '';
  await until(`pid ${pid} idle`, () => {
    const now = schedNow(pid);
    const same = now === last;
    last = now;
    return same;
  });
}

afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        // gone already
      }
    }
  }
});

describe("an idle member's stat is reused, a running one's is read", () => {
  it('open files are not recounted while a member has not run since the last count; once it has run, they are', async () => {
    // One single-threaded shell in its own group: it opens fd 5 when told to on stdin, then waits again.
    const shell = start('/bin/sh', ['-c', 'read go; exec 5</etc/hostname; read stop'], true);
    const pid = shell.pid!;
    await settled(pid);
    const sampler = createProcessSampler({ fullScanEvery: 1_000_000, openFilesEvery: 1 });
    const info = [{ instance: 'core-1', process: 'core', pid, restarts: 0, startedAtMs: null }];
    const fdDir = `/proc/${pid}/fd`;
    const readdir = vi.spyOn(fs, 'readdirSync');
    const countsOfIt = (): number => readdir.mock.calls.filter(([dir]) => String(dir) === fdDir).length;
    try {
      // The first looks open its files and take its schedstat: counted each time.
      let before = 0;
      for (let tick = 1; tick <= 3; tick += 1) before = sampler.sample(info, tick)[0]!.openFiles!;
      expect(before).toBe(fs.readdirSync(fdDir).length);
      const counted = countsOfIt();
      for (let tick = 4; tick <= 8; tick += 1) expect(sampler.sample(info, tick)[0]!.openFiles).toBe(before);
      expect(countsOfIt()).toBe(counted); // asleep: counted every tick by schedule, yet not once read again

      shell.stdin!.write('go\n');
      await until('fd 5 open', () => fs.existsSync(`${fdDir}/5`));
      await settled(pid);
      expect(sampler.sample(info, 9)[0]!.openFiles).toBe(before + 1);
      expect(countsOfIt()).toBe(counted + 1);
    } finally {
      readdir.mockRestore();
      sampler.close();
    }
  });

  it('a sleeping single-threaded process: its last stat, equal to a fresh read, until STAT_AT_LEAST_EVERY ticks have gone by', async () => {
    const child = start('sleep', ['60']);
    await until('the child in /proc', () => fs.existsSync(`/proc/${child.pid}/stat`));
    await settled(child.pid!);
    const files = new PidStatFiles();
    const first = files.read(child.pid!)!;
    const previous = files.readUnlessIdle(child.pid!, first)!; // the first look records its schedstat: a read
    expect(previous).not.toBe(first);
    for (let reuse = 1; reuse < STAT_AT_LEAST_EVERY; reuse += 1) {
      const again = files.readUnlessIdle(child.pid!, previous);
      expect(again).toBe(previous);
      expect(again).toEqual(statNow(child.pid!)); // what the kernel says now
    }
    const fresh = files.readUnlessIdle(child.pid!, previous);
    expect(fresh).not.toBe(previous); // read in full: RSS can fall without the process running
    expect(fresh).toEqual(previous);
    expect(files.readUnlessIdle(child.pid!, fresh!)).toBe(fresh); // and reused again after
    files.closeAll();
  });

  it('a process that ran since is read anew', async () => {
    const child = start('/bin/sh', ['-c', 'while read l; do :; done']);
    await until('the child in /proc', () => fs.existsSync(`/proc/${child.pid}/stat`));
    await settled(child.pid!);
    const files = new PidStatFiles();
    const first = files.readUnlessIdle(child.pid!, files.read(child.pid!)!)!;
    expect(files.readUnlessIdle(child.pid!, first)).toBe(first);
    const before = schedNow(child.pid!);
    child.stdin!.write('wake up\n');
    await until('the child to run', () => schedNow(child.pid!) !== before);
    const after = files.readUnlessIdle(child.pid!, first);
    expect(after).not.toBe(first);
    expect(after).toMatchObject({ pid: child.pid, startTicks: first.startTicks });
    files.closeAll();
  });

  it('a member idle for IDLE_AFTER_LOOKS looks is looked at every IDLE_LOOK_EVERY ticks; woken, it is seen on its turn with the ticks passed over, then every tick', async () => {
    const child = start('/bin/sh', ['-c', 'while read l; do :; done']);
    await until('the child in /proc', () => fs.existsSync(`/proc/${child.pid}/stat`));
    await settled(child.pid!);
    const pid = child.pid!;
    const files = new PidStatFiles();
    let previous = files.read(pid)!;
    /** One tick of the sampler: a look or a pass, then the sweep that ends the tick. */
    const tick = (): { stat: PidStat; window: number } => {
      const stat = files.readUnlessIdle(pid, previous)!;
      const window = files.lookWindow(pid);
      files.sweep();
      return { stat, window };
    };
    for (let i = 0; i <= IDLE_AFTER_LOOKS; i += 1) expect(tick().window).toBe(1); // looked at every tick while it becomes long idle
    // Long idle: three ticks in four are passed over, so the looks that follow cover IDLE_LOOK_EVERY ticks.
    const windows = Array.from({ length: 3 * IDLE_LOOK_EVERY }, () => tick().window);
    expect(windows).toContain(IDLE_LOOK_EVERY);
    expect(Math.max(...windows)).toBe(IDLE_LOOK_EVERY);
    expect(files.readUnlessIdle(pid, previous)).toBe(previous); // still the stat from before: it has not run
    files.sweep();

    const before = schedNow(pid);
    child.stdin!.write('wake up\n');
    await until('the child to run', () => schedNow(pid) !== before);
    let seen: { stat: PidStat; window: number; after: number } | undefined;
    for (let t = 1; t <= IDLE_LOOK_EVERY && seen === undefined; t += 1) {
      const got = tick();
      if (got.stat !== previous) seen = { ...got, after: t };
    }
    // Seen on its turn, within IDLE_LOOK_EVERY ticks, as a fresh read covering the ticks since its last look.
    expect(seen).toBeDefined();
    expect(seen!.stat).toMatchObject({ pid, startTicks: previous.startTicks });
    expect(seen!.stat.cpuTicks).toBeGreaterThanOrEqual(previous.cpuTicks);
    expect(seen!.window).toBeGreaterThanOrEqual(seen!.after);
    expect(seen!.window).toBeLessThanOrEqual(IDLE_LOOK_EVERY);
    // It ran: looked at every tick again.
    previous = seen!.stat;
    for (let i = 0; i < IDLE_LOOK_EVERY; i += 1) {
      const got = tick();
      expect(got.window).toBe(1);
      previous = got.stat;
    }
    files.closeAll();
  });

  it('once long idle, its stat is read in full every STAT_AT_LEAST_EVERY_LONG_IDLE ticks, and equals a fresh read', async () => {
    const child = start('sleep', ['60']);
    await until('the child in /proc', () => fs.existsSync(`/proc/${child.pid}/stat`));
    await settled(child.pid!);
    const pid = child.pid!;
    const files = new PidStatFiles();
    let previous = files.read(pid)!;
    /** The ticks (1-based) at which a fresh stat came back. */
    const fresh: number[] = [];
    const first = 1 + STAT_AT_LEAST_EVERY;
    for (let tick = 1; tick <= first + 2 * STAT_AT_LEAST_EVERY_LONG_IDLE; tick += 1) {
      const stat = files.readUnlessIdle(pid, previous)!;
      files.sweep();
      if (stat !== previous) fresh.push(tick);
      expect(stat).toEqual(statNow(pid));
      previous = stat;
    }
    // The first look, then every STAT_AT_LEAST_EVERY until long idle, then every STAT_AT_LEAST_EVERY_LONG_IDLE.
    expect(fresh).toEqual([1, first, first + STAT_AT_LEAST_EVERY_LONG_IDLE, first + 2 * STAT_AT_LEAST_EVERY_LONG_IDLE]);
    files.closeAll();
  });

  it('a process with more than one thread is always read (its other threads may run while the first sleeps)', async () => {
    const child = start('python3', [
      '-u',
      '-c',
      'import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\ntime.sleep(60)',
    ]);
    await until('the second thread', () => fs.existsSync(`/proc/${child.pid}/status`) && threadsOf(child.pid!) === 2);
    await settled(child.pid!);
    const files = new PidStatFiles();
    let previous = files.read(child.pid!)!;
    expect(previous.threads).toBe(2);
    for (let i = 0; i < 3; i += 1) {
      const next = files.readUnlessIdle(child.pid!, previous)!;
      expect(next).not.toBe(previous);
      previous = next;
    }
    files.closeAll();
  });

  it('a process that exited reads null and its files are closed', async () => {
    const child = start('sleep', ['60']);
    await until('the child in /proc', () => fs.existsSync(`/proc/${child.pid}/stat`));
    await settled(child.pid!);
    const files = new PidStatFiles();
    const first = files.readUnlessIdle(child.pid!, files.read(child.pid!)!)!;
    expect(files.readUnlessIdle(child.pid!, first)).toBe(first);
    child.kill('SIGKILL');
    await once(child, 'exit'); // reaped: the pid is free
    expect(files.readUnlessIdle(child.pid!, first)).toBeNull();
    expect(files.size).toBe(0);
  });

  it("the sampler's figures for an idle group are a fresh read's on every tick (RSS, threads, no CPU)", async () => {
    // A leader with two sleeping members in its own group, as the supervisor starts an instance.
    const leader = start('/bin/sh', ['-c', 'sleep 60 & sleep 60 & wait'], true);
    const members = (): number[] =>
      fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .filter((pid) => {
          try {
            return statNow(pid)?.pgrp === leader.pid;
          } catch {
            return false;
          }
        });
    await until('three members', () => members().length === 3);
    for (const pid of members()) await settled(pid);
    const pageSize = detectPageSize();
    const sampler = createProcessSampler({ fullScanEvery: 1_000_000, openFilesEvery: 1 });
    const info = [{ instance: 'core-1', process: 'core', pid: leader.pid!, restarts: 0, startedAtMs: null }];
    for (let tick = 1; tick <= STAT_AT_LEAST_EVERY + 2; tick += 1) {
      const [m] = sampler.sample(info, tick);
      const now = members().map((pid) => statNow(pid)!);
      expect(m).toMatchObject({
        pid: leader.pid,
        threads: now.reduce((sum, s) => sum + s.threads, 0),
        rssBytes: now.reduce((sum, s) => sum + s.rssPages * pageSize, 0),
        openFiles: expect.any(Number),
      });
      if (tick > 1) expect(m!.cpuPercent).toBe(0);
    }
    sampler.close();
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { tail } from '../../../agents-runtime/src/logs/log-tail';
import { LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import { LOGGER_ENV_KEY } from '../../../agents-runtime/src/logs/bash-stamper';
import { processGroupMembers, readProcStat, scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import type { ExitInfo, RunningProcess } from '../../../agents-runtime/src/supervisor/driver';
import { killMarkedProcesses, removeDefaultFifoDir } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-driver-');
const runtimeId = `driver-test-${process.pid}-${Date.now()}`;
const logs = new LogFiles(path.join(tmp.path, 'logs'));
const driver = new LinuxProcessDriver({ logs, runtimeId });
const rawDriver = new LinuxProcessDriver({ logs, runtimeId, timestamps: 'raw' });
const spec = (name: string, command: string, args: string[], graceMs = 2000) => ({
  name,
  command,
  args,
  env: {},
  stop: { signal: 'SIGTERM', graceMs },
});

afterAll(() => {
  killMarkedProcesses(runtimeId);
  removeDefaultFifoDir(runtimeId);
  tmp.remove();
});

const waitFor = makeWaitFor({ timeoutMs: 5000, pollMs: 25 });

function exitOf(proc: RunningProcess): Promise<ExitInfo> {
  return new Promise((resolve) => proc.onExit(resolve));
}

function openPipes(pid: number): string[] {
  const links: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      links.push(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return links.filter((l) => l.startsWith('pipe:') || l.startsWith('socket:'));
}

/**
 * openPipes of a member of group `pgid`, which forks short-lived children (a shell loop's
 * `sleep`): null when the member exited while it was looked at, or its pid names a process
 * outside the group by then (it must be in the group, with the same start time, before and
 * after the look, or it does not count).
 */
function openPipesOfMember(pid: number, pgid: number): string[] | null {
  const before = readProcStat(pid);
  if (before === null || before.pgid !== pgid) return null;
  let links: string[];
  try {
    links = openPipes(pid);
  } catch {
    return null; // its /proc directory is gone: it exited after the group was listed
  }
  const after = readProcStat(pid);
  return after !== null && after.pgid === pgid && before.startTicks === after.startTicks ? links : null;
}

function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

function sleepsIn(pgid: number): number[] {
  return processGroupMembers(pgid).filter((pid) => readProcStat(pid)?.comm === 'sleep');
}

describe('LinuxProcessDriver', () => {
  it('graceful stop leaves no descendant: a child that forks a grandchild', async () => {
    const proc = await driver.start(spec('forker', 'sh', ['-c', 'sleep 300 & sleep 300']), 'forker');
    expect(readProcStat(proc.pid)?.pgid).toBe(proc.pid);
    const before = await waitFor('two sleeps in the group', () =>
      sleepsIn(proc.pid).length === 2 ? processGroupMembers(proc.pid) : undefined,
    );
    expect(before.length).toBeGreaterThanOrEqual(3); // sh, two sleeps (the log stamper loops are not in the group)
    const exited = exitOf(proc);
    await driver.stop(proc, 'SIGTERM', 3000);
    expect(processGroupMembers(proc.pid)).toEqual([]);
    for (const pid of before) expect(readProcStat(pid)?.state ?? 'gone').toMatch(/gone|Z/);
    await exited;
  });

  it('SIGKILLs a group that ignores SIGTERM once the grace period is over', async () => {
    const proc = await rawDriver.start(spec('stubborn', 'sh', ['-c', 'trap "" TERM; sleep 300 & sleep 300 & wait']), 'stubborn');
    await waitFor('two sleeps', () => sleepsIn(proc.pid).length === 2);
    const exited = exitOf(proc);
    const t0 = Date.now();
    await driver.stop(proc, 'SIGTERM', 600);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(processGroupMembers(proc.pid)).toEqual([]);
    expect((await exited).signal).toBe('SIGKILL');
  });

  it('also stops a descendant that escaped the group with setsid', async () => {
    const proc = await rawDriver.start(spec('escaper', 'sh', ['-c', 'setsid sleep 301 & sleep 300']), 'escaper');
    const escaped = await waitFor('the setsid sleep', () =>
      scanProcessesByEnv('SUTAZAI_RUNTIME_INSTANCE', 'escaper').find(({ stat }) => stat.comm === 'sleep' && stat.pgid !== proc.pid),
    );
    await driver.stop(proc, 'SIGTERM', 2000);
    expect(processGroupMembers(proc.pid)).toEqual([]);
    expect(readProcStat(escaped.stat.pid)?.state ?? 'gone').toMatch(/gone|Z/);
  });

  it('a leader that exits on its own: the exit is reported at once, its setsid escapee is swept right after, a later run of the instance is left alone', async () => {
    const first = await driver.start(spec('daemonizer', 'sh', ['-c', 'setsid sleep 302 & sleep 0.3; exit 1']), 'daemonizer');
    // The scan's stat can be older than the cmdline read after it: taken while the forked shell had
    // not yet run setsid. So the stat is read again once the cmdline shows `sleep`, which setsid execs after
    // leaving the group.
    const sleeping = (seconds: string) => () => {
      const found = scanProcessesByEnv('SUTAZAI_RUNTIME_INSTANCE', 'daemonizer').find(
        ({ stat }) => cmdlineOf(stat.pid) === `sleep ${seconds}`,
      );
      const stat = found && readProcStat(found.stat.pid);
      return stat?.comm === 'sleep' ? { ...found, stat } : undefined;
    };
    const escaped = await waitFor('the setsid sleep', sleeping('302'));
    const second = await driver.start(spec('daemonizer', 'sh', ['-c', 'setsid sleep 303 & exec sleep 300']), 'daemonizer');
    const secondEscapee = await waitFor("the second run's setsid sleep", sleeping('303'));
    expect(secondEscapee.stat.pgid).not.toBe(second.pid);
    expect(await exitOf(first)).toEqual({ code: 1, signal: null });
    await waitFor("the first run's escapee swept", () => (readProcStat(escaped.stat.pid)?.state ?? 'gone').match(/gone|Z/));
    expect(readProcStat(secondEscapee.stat.pid)?.state).toMatch(/[SR]/);
    expect(readProcStat(second.pid)?.state).toMatch(/[SR]/);
    await driver.stop(second, 'SIGTERM', 2000);
    expect(readProcStat(secondEscapee.stat.pid)?.state ?? 'gone').toMatch(/gone|Z/);
  });

  it('refuses a command that does not exist, before spawning anything', async () => {
    await expect(driver.start(spec('typo', 'no-such-program-sutazai', []), 'typo')).rejects.toMatchObject({ code: 'COMMAND_NOT_FOUND' });
    await expect(driver.start(spec('typo', './missing/bin', []), 'typo')).rejects.toMatchObject({
      code: 'COMMAND_NOT_FOUND',
      remedy: expect.stringContaining('manifest'),
    });
    expect(scanProcessesByEnv('SUTAZAI_RUNTIME_INSTANCE', 'typo')).toEqual([]);
  });

  it('an unwritable log directory is LOG_DIR_NOT_WRITABLE with a remedy', async () => {
    fs.writeFileSync(path.join(tmp.path, 'not-a-dir'), '');
    const bad = new LinuxProcessDriver({ logs: new LogFiles(path.join(tmp.path, 'not-a-dir', 'logs')), runtimeId });
    await expect(bad.start(spec('x', 'sleep', ['1']), 'x')).rejects.toMatchObject({
      code: 'LOG_DIR_NOT_WRITABLE',
      remedy: expect.any(String),
    });
  });

  // Each stamper (bash-stamper.ts, the Node shim, the log collector) must give the same log and the same exit.
  for (const timestamps of ['bash', 'node', 'collector'] as const) {
    it(`${timestamps} stamper: stdout and stderr with timestamps and stream marks, the exit status, complete logs at exit`, async () => {
      const stamped = new LinuxProcessDriver({ logs, runtimeId, timestamps });
      expect(stamped.timestamps).toBe(timestamps);
      const name = `talker-${timestamps}`;
      const proc = await stamped.start(spec(name, 'sh', ['-c', 'echo hello; echo oops >&2; printf partial; exit 3']), name);
      expect(await exitOf(proc)).toEqual({ code: 3, signal: null });
      // The exit is reported only once the group (stamper included) is gone: the log is whole by then.
      const lines = tail(logs, name, 10);
      expect(lines.map((l) => [l.stream, l.text]).sort()).toEqual([
        ['err', 'oops'],
        ['out', 'hello'],
        ['out', 'partial'],
      ]);
      for (const l of lines) expect(Date.now() - Date.parse(l.time!)).toBeLessThan(60_000);

      const killed = await stamped.start(spec(`selfkill-${timestamps}`, 'sh', ['-c', 'kill -TERM $$']), `selfkill-${timestamps}`);
      expect(await exitOf(killed)).toEqual({ code: null, signal: 'SIGTERM' });
    });
  }

  it('bash stamper: the program is spawned itself, its two loggers live outside its group and end with it, a partial line is written after 0.5 s of silence, BASH_ENV reaches the program', async () => {
    const stamped = new LinuxProcessDriver({ logs, runtimeId, timestamps: 'bash' });
    const envFile = path.join(tmp.path, 'bash-env.sh');
    fs.writeFileSync(envFile, 'echo sourced-by-wrapper\n');
    const proc = await stamped.start(
      { ...spec('prompt', 'sh', ['-c', 'echo "env=$BASH_ENV"; printf "waiting..."; exec sleep 300']), env: { BASH_ENV: envFile } },
      'prompt',
    );
    await waitFor('the exec', () => readProcStat(proc.pid)?.comm === 'sleep');
    const lines = await waitFor('the partial line', () => {
      const l = tail(logs, 'prompt', 10);
      return l.some((x) => x.text === 'waiting...') ? l : undefined;
    });
    expect(lines.map((l) => l.text)).toEqual([`env=${envFile}`, 'waiting...']);
    // Two loggers, the daemon's children in sessions of their own, outside the program's group.
    const loggers = scanProcessesByEnv(LOGGER_ENV_KEY, `${runtimeId}/prompt`);
    expect(loggers).toHaveLength(2);
    for (const { stat } of loggers) {
      expect(stat.ppid).toBe(process.pid);
      expect(stat.pgid).not.toBe(proc.pid);
    }
    expect(processGroupMembers(proc.pid)).toEqual([proc.pid]);
    await stamped.stop(proc, 'SIGTERM', 2000);
    expect(processGroupMembers(proc.pid)).toEqual([]);
    // They end with the program (end-of-file) and the stop waited for them.
    expect(scanProcessesByEnv(LOGGER_ENV_KEY, `${runtimeId}/prompt`)).toEqual([]);
  });

  it('"auto" picks the log collector when mkfifo is there, else bash when a bash 5 is, else the Node shim, and "bash" without one is CONFIG_INVALID', () => {
    expect(new LinuxProcessDriver({ logs, runtimeId }).timestamps).toBe('collector');
    const noMkfifo = ['/nonexistent/mkfifo'];
    expect(new LinuxProcessDriver({ logs, runtimeId, mkfifoCandidates: noMkfifo }).timestamps).toBe('bash');
    const noBash = ['/nonexistent/bash', '/bin/false'];
    expect(new LinuxProcessDriver({ logs, runtimeId, mkfifoCandidates: noMkfifo, bashCandidates: noBash }).timestamps).toBe('node');
    expect(() => new LinuxProcessDriver({ logs, runtimeId, bashCandidates: noBash, timestamps: 'bash' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', remedy: expect.stringContaining('node') }),
    );
  });

  it('the child keeps running and logging when it has no pipe to the daemon', async () => {
    const proc = await driver.start(spec('ticker', 'sh', ['-c', 'while true; do echo tick; sleep 0.05; done']), 'ticker');
    await waitFor('the shell under the shim', () => processGroupMembers(proc.pid).length >= 2);
    // No member of the group shares a pipe or socket with the daemon (the shim's own pipes to its child are fine).
    // Pipes this process inherited from its own parent (a CI runner's, say) are not the daemon's: Node cannot close them.
    const inherited = new Set(openPipes(process.ppid));
    const ours = new Set(openPipes(process.pid).filter((p) => !inherited.has(p)));
    const looked: number[] = [];
    for (const pid of processGroupMembers(proc.pid)) {
      const pipes = openPipesOfMember(pid, proc.pid);
      if (pipes === null) continue;
      looked.push(pid);
      expect(pipes.filter((p) => ours.has(p))).toEqual([]);
    }
    // The group's leader lives for the whole test: it is always among those looked at.
    expect(looked).toContain(proc.pid);
    await waitFor('ticks', () => tail(logs, 'ticker', 3).length === 3);
    await driver.stop(proc, 'SIGTERM', 2000);
  });

  it('re-adopts by pid and start time, refuses a wrong start time, and sees an adopted exit by polling', async () => {
    const proc = await rawDriver.start(spec('adoptee', 'sleep', ['300']), 'adoptee');
    const other = new LinuxProcessDriver({ logs, runtimeId });
    expect(other.adopt('adoptee', proc.pid, `${proc.startTime}9`)).toBeNull();
    const adopted = other.adopt('adoptee', proc.pid, proc.startTime);
    expect(adopted?.pid).toBe(proc.pid);
    expect(other.discover().find((d) => d.instance === 'adoptee')).toEqual({
      instance: 'adoptee',
      pid: proc.pid,
      startTime: proc.startTime,
    });
    const exited = exitOf(adopted!);
    process.kill(proc.pid, 'SIGKILL');
    await expect(exited).resolves.toEqual({ code: null, signal: null });
  });

  it("an adopted process's cleanup after its exit leaves a later run of the instance alone (it carries the same instance marker outside the old group)", async () => {
    const first = await rawDriver.start(spec('readopted', 'sh', ['-c', 'sleep 300 & exec sleep 301']), 'readopted');
    await waitFor('two sleeps', () => sleepsIn(first.pid).length === 2);
    const adopted = new LinuxProcessDriver({ logs, runtimeId }).adopt('readopted', first.pid, first.startTime)!;
    // As when a second handle of the same process reports its exit last: the next run is already up.
    const next = await rawDriver.start(spec('readopted', 'sleep', ['302']), 'readopted');
    const exited = exitOf(adopted);
    process.kill(first.pid, 'SIGKILL');
    await exited;
    expect(processGroupMembers(first.pid)).toEqual([]);
    expect(readProcStat(next.pid)?.state).toMatch(/[SR]/);
    await rawDriver.stop(next, 'SIGTERM', 2000);
  });

  it('stopping an adopted process kills its whole group', async () => {
    const proc = await rawDriver.start(spec('adopt-stop', 'sh', ['-c', 'sleep 300 & sleep 300']), 'adopt-stop');
    await waitFor('two sleeps', () => sleepsIn(proc.pid).length === 2);
    const adopted = new LinuxProcessDriver({ logs, runtimeId }).adopt('adopt-stop', proc.pid, proc.startTime)!;
    await new LinuxProcessDriver({ logs, runtimeId }).stop(adopted, 'SIGTERM', 2000);
    expect(processGroupMembers(proc.pid)).toEqual([]);
  });

  it("drops an ended instance's spawn plan when the instance is removed (it never reaches stop)", async () => {
    const own = new LinuxProcessDriver({ logs, runtimeId });
    const proc = await own.start(spec('plan-gone', 'true', []), 'plan-gone');
    await exitOf(proc);
    expect(own.hasPlan('plan-gone')).toBe(true);
    own.removeFifosExcept(new Set(['someone-else']));
    expect(own.hasPlan('plan-gone')).toBe(false);
  });
});

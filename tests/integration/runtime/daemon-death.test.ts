import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIME_ID_ENV } from '../../../agents-runtime/src/process/process-driver';
import { readProcStat, scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { killMarkedProcesses, removeDefaultFifoDir } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(import.meta.dirname, '../../..');
const tmp = makeTempDir('sutazai-daemon-death-');
const runtimeId = `death-test-${process.pid}-${Date.now()}`;
const daemons: ChildProcess[] = [];

interface Event {
  event: string;
  instance?: string;
  pid?: number;
}

/** Starts the mini daemon; `until` resolves on the first event matching `stop`, bounded. */
function runDaemon(stop: (e: Event) => boolean, timeoutMs = 20_000): Promise<{ child: ChildProcess; events: Event[] }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'tests/support/runtime-mini-daemon.ts',
      '--state',
      path.join(tmp.path, 'state.json'),
      '--logs',
      path.join(tmp.path, 'logs'),
      '--id',
      runtimeId,
      '--count',
      '3',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemons.push(child);
  const events: Event[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`daemon did not reach the expected event in ${timeoutMs} ms; events ${JSON.stringify(events)} stderr ${stderr}`)),
      timeoutMs,
    );
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const e = JSON.parse(line) as Event;
        events.push(e);
        if (stop(e)) {
          clearTimeout(timer);
          resolve({ child, events });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited early (${code}); events ${JSON.stringify(events)} stderr ${stderr}`));
    });
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The sleeps this test's runtime runs: leaders (shims) and their `sleep` children. */
function runningSleeps(): Array<{ pid: number; pgid: number; instance: string }> {
  return scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)
    .filter(({ stat }) => stat.comm === 'sleep')
    .map(({ stat, env }) => ({ pid: stat.pid, pgid: stat.pgid, instance: env.get('SUTAZAI_RUNTIME_INSTANCE') ?? '?' }));
}

afterAll(async () => {
  for (const d of daemons) await killHard(d);
  killMarkedProcesses(runtimeId);
  removeDefaultFifoDir(runtimeId);
  tmp.remove();
});

describe('kill -9 of the daemon', () => {
  it('ten kills in a row end with exactly the manifest processes, each once, re-adopted not restarted', async () => {
    const first = await runDaemon((e) => e.event === 'ready');
    const startedFirst = first.events.filter((e) => e.event === 'started').map((e) => e.pid);
    expect(startedFirst).toHaveLength(3);
    const leaders = new Set(startedFirst);
    await killHard(first.child);

    let started = 0;
    for (let round = 0; round < 10; round += 1) {
      // Most rounds die once the daemon is up; some die right after their first adoption,
      // in the middle of recovering.
      const early = round % 3 === 1;
      const run = await runDaemon((e) => (early ? e.event === 'adopted' : e.event === 'ready'));
      started += run.events.filter((e) => e.event === 'started').length;
      await killHard(run.child);
      expect(runningSleeps()).toHaveLength(3);
    }

    const last = await runDaemon((e) => e.event === 'ready');
    started += last.events.filter((e) => e.event === 'started').length;
    const adopted = last.events.filter((e) => e.event === 'adopted').map((e) => e.pid);

    const sleeps = runningSleeps();
    expect(sleeps).toHaveLength(3);
    expect(new Set(sleeps.map((s) => s.instance))).toEqual(new Set(['sleeper-1', 'sleeper-2', 'sleeper-3']));
    // Each sleep sits in the group of one of the first daemon's leaders: nothing restarted.
    expect(new Set(sleeps.map((s) => s.pgid))).toEqual(leaders);
    expect(new Set(adopted)).toEqual(leaders);
    expect(started).toBe(0);
    for (const pid of leaders) expect(readProcStat(pid!)?.pgid).toBe(pid);
    await killHard(last.child);
  });

  it('restarts an instance whose process died while no daemon was running, without duplicating the others', async () => {
    const victim = runningSleeps().find((s) => s.instance === 'sleeper-2');
    expect(victim).toBeDefined();
    process.kill(-victim!.pgid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (runningSleeps().some((s) => s.instance === 'sleeper-2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const run = await runDaemon((e) => e.event === 'ready');
    expect(run.events.filter((e) => e.event === 'started').map((e) => e.instance)).toEqual(['sleeper-2']);
    expect(
      run.events
        .filter((e) => e.event === 'adopted')
        .map((e) => e.instance)
        .sort(),
    ).toEqual(['sleeper-1', 'sleeper-3']);
    // The new shim starts its `sleep` a moment after the daemon reports it started.
    const until = Date.now() + 5000;
    while (runningSleeps().length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(
      runningSleeps()
        .map((s) => s.instance)
        .sort(),
    ).toEqual(['sleeper-1', 'sleeper-2', 'sleeper-3']);
    await killHard(run.child);
  });
});

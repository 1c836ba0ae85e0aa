/**
 * `timestamps: collector` (agents-runtime/src/logs/log-collector.ts): one collector process
 * per runtime instead of two stamper loops per instance, with what the loops protected kept:
 * the programs never depend on the collector or the daemon to live, lines written while no
 * collector runs wait in the FIFOs and are not lost, the last lines of a crash are in the log
 * when the exit is reported, partial lines are written after silence, long lines are cut.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOGGER_ENV_KEY } from '../../../agents-runtime/src/logs/bash-stamper';
import { COLLECTOR_ENV_KEY } from '../../../agents-runtime/src/logs/log-collector';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { tail } from '../../../agents-runtime/src/logs/log-tail';
import { MAX_LINE_BYTES } from '../../../agents-runtime/src/logs/stamped-lines';
import { LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import {
  isSameProcess,
  processGroupMembers,
  processStartTime,
  readProcStat,
  scanProcessesByEnv,
} from '../../../agents-runtime/src/process/proc-identity';
import type { ExitInfo, RunningProcess } from '../../../agents-runtime/src/supervisor/driver';
import { killMarkedProcesses } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const root = path.resolve(import.meta.dirname, '../../..');
const tmp = makeTempDir('sutazai-log-collector-');
const runtimeId = `collector-test-${process.pid}-${Date.now()}`;
const logs = new LogFiles(path.join(tmp.path, 'logs'));
const fifoDir = path.join(tmp.path, 'fifos');
const driver = new LinuxProcessDriver({ logs, runtimeId, timestamps: 'collector', collector: { fifoDir } });
const daemons: ChildProcess[] = [];
const waitFor = makeWaitFor({ timeoutMs: 15_000, pollMs: 25 });

const spec = (name: string, script: string) => ({
  name,
  command: 'sh',
  args: ['-c', script],
  env: {},
  stop: { signal: 'SIGTERM', graceMs: 2000 },
});

/** Collector processes of runtime `id`; not their own children (run from source, tsx's esbuild service inherits the marker). */
function collectorsOf(id: string): number[] {
  const marked = scanProcessesByEnv(COLLECTOR_ENV_KEY, id).map(({ stat }) => stat);
  const pids = new Set(marked.map((stat) => stat.pid));
  return marked.filter((stat) => !pids.has(stat.ppid)).map((stat) => stat.pid);
}

function killAll(id: string): void {
  killMarkedProcesses(id);
  for (const pid of collectorsOf(id)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

afterAll(() => {
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  killAll(runtimeId);
  killAll(`${runtimeId}-d`);
  tmp.remove();
});

function exitOf(proc: RunningProcess): Promise<ExitInfo> {
  return new Promise((resolve) => proc.onExit(resolve));
}

const numbers = (name: string, files = logs): number[] =>
  tail(files, name, 100_000).flatMap((l) => (l.stream === 'out' && /^n=\d+$/.test(l.text) ? [Number(l.text.slice(2))] : []));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('log collector (timestamps: collector)', () => {
  it('one collector serves every instance of the runtime; it is in no instance group, and no process is started per instance', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `many-${i + 1}`);
    const procs = await Promise.all(
      names.map((name) => driver.start(spec(name, 'echo "hello from $SUTAZAI_RUNTIME_INSTANCE"; exec sleep 300'), name)),
    );
    for (const name of names) await waitFor(`${name}'s line`, () => tail(logs, name, 5).find((l) => l.text === `hello from ${name}`));
    const collectors = collectorsOf(runtimeId);
    expect(collectors).toHaveLength(1);
    const collector = readProcStat(collectors[0]!)!;
    expect(collector.pgid).toBe(collector.pid); // its own session and group: signals to an instance's group never reach it
    expect(scanProcessesByEnv(LOGGER_ENV_KEY, `${runtimeId}/many-1`)).toEqual([]);
    for (const proc of procs) {
      await waitFor('the exec', () => readProcStat(proc.pid)?.comm === 'sleep');
      expect(processGroupMembers(proc.pid)).toEqual([proc.pid]);
    }
    for (const proc of procs) await driver.stop(proc, 'SIGTERM', 2000);
    expect(collectorsOf(runtimeId)).toEqual(collectors);
  });

  it('stdout and stderr stamped and marked, the last lines of a crash (a partial one too) in the log when the exit is reported', async () => {
    const proc = await driver.start(
      spec('crasher', 'i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo "n=$i"; done; echo oops >&2; printf "last words"; kill -9 $$'),
      'crasher',
    );
    const before = Date.now();
    expect(await exitOf(proc)).toEqual({ code: null, signal: 'SIGKILL' });
    const lines = tail(logs, 'crasher', 1000);
    expect(numbers('crasher')).toEqual(range(1, 500));
    expect(lines.filter((l) => l.stream !== 'out' || !/^n=/.test(l.text)).map((l) => [l.stream, l.text])).toEqual([
      ['err', 'oops'],
      ['out', 'last words'],
    ]);
    for (const l of lines) expect(Math.abs(Date.parse(l.time!) - before)).toBeLessThan(60_000);
    // The next run of the same instance uses the same FIFOs and appends to the same log.
    const again = await driver.start(spec('crasher', 'echo "n=501"'), 'crasher');
    expect(await exitOf(again)).toEqual({ code: 0, signal: null });
    expect(numbers('crasher')).toEqual(range(1, 501));
  });

  it('a partial line is written after silence while the program runs on; a long line is cut at 16 KiB', async () => {
    const prompt = await driver.start(spec('prompt', 'printf "waiting..."; exec sleep 300'), 'prompt');
    await waitFor('the partial line', () => tail(logs, 'prompt', 5).find((l) => l.text === 'waiting...'));
    expect(isSameProcess(prompt.pid, prompt.startTime)).toBe(true);
    await driver.stop(prompt, 'SIGTERM', 2000);

    const long = await driver.start(spec('long', `head -c ${MAX_LINE_BYTES * 2 + 100} /dev/zero | tr '\\0' x; echo; echo after`), 'long');
    expect(await exitOf(long)).toEqual({ code: 0, signal: null });
    expect(tail(logs, 'long', 10).map((l) => l.text.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES, 100, 5]);
  });

  it('kill -9 of the collector: the program lives on, and what it wrote while none ran reaches the log from the next one, every line once, in order', async () => {
    const go = path.join(tmp.path, 'go');
    const wrote = path.join(tmp.path, 'wrote');
    const proc = await driver.start(
      spec(
        'survivor',
        `i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "n=$i"; done; ` +
          `while [ ! -e ${go} ]; do sleep 0.02; done; ` +
          `while [ $i -lt 300 ]; do i=$((i+1)); echo "n=$i"; done; touch ${wrote}; exec sleep 300`,
      ),
      'survivor',
    );
    await waitFor('the first 100 lines', () => numbers('survivor').length === 100);
    const [first] = collectorsOf(runtimeId);
    // Stopped, then killed: the program writes its next 200 lines while no collector reads.
    process.kill(first!, 'SIGSTOP');
    const stoppedAt = Date.now();
    fs.writeFileSync(go, '');
    await waitFor('the program to write them', () => fs.existsSync(wrote));
    process.kill(first!, 'SIGKILL');
    const second = await waitFor('the next collector', () => collectorsOf(runtimeId).find((pid) => pid !== first));
    expect(second).not.toBe(first);
    await waitFor('all 300 lines', () => numbers('survivor').length >= 300);
    expect(numbers('survivor')).toEqual(range(1, 300));
    expect(isSameProcess(proc.pid, proc.startTime)).toBe(true);
    // Stamped when read: those lines carry the new collector's time, after the stop.
    const late = tail(logs, 'survivor', 200).filter((l) => Number(l.text.slice(2)) > 100);
    expect(late.every((l) => Date.parse(l.time!) >= stoppedAt - 5)).toBe(true);
    await driver.stop(proc, 'SIGTERM', 2000);
  });

  it('kill -9 of the daemon: the program and the collector live on and lines keep coming; once the program ends too, the collector exits', async () => {
    const id = `${runtimeId}-d`;
    const dLogs = new LogFiles(path.join(tmp.path, 'd-logs'));
    const daemon = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/support/collector-daemon.ts',
        ...['--logs', dLogs.dir, '--fifos', path.join(tmp.path, 'd-fifos'), '--id', id, '--instance', 'ticker'],
        ...['--script', 'i=0; while :; do i=$((i+1)); echo "n=$i"; sleep 0.02; done'],
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    daemons.push(daemon);
    let out = '';
    daemon.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const pid = await waitFor(
      'the started line',
      () => (/"pid":(\d+)/.exec(out) ? Number(/"pid":(\d+)/.exec(out)![1]) : undefined),
      30_000,
    );
    const startTime = processStartTime(pid)!;
    await waitFor('first lines', () => numbers('ticker', dLogs).length >= 5);
    const [collector] = collectorsOf(id);
    expect(collector).toBeDefined();

    daemon.kill('SIGKILL');
    await new Promise((resolve) => daemon.once('exit', resolve));
    const atDeath = numbers('ticker', dLogs).length;
    await waitFor('lines after the daemon died', () => numbers('ticker', dLogs).length >= atDeath + 20);
    expect(isSameProcess(pid, startTime)).toBe(true);
    expect(collectorsOf(id)).toEqual([collector]);
    const seen = numbers('ticker', dLogs);
    expect(seen).toEqual(range(1, seen.length));

    // Nothing writes any more and no daemon is connected: the collector has nothing to do and goes.
    process.kill(-pid, 'SIGKILL');
    await waitFor('the collector to exit', () => collectorsOf(id).length === 0);
  });
});

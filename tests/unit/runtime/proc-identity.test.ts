import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  formatStartTime,
  isSameProcess,
  parseEnviron,
  parseProcStat,
  processStartTime,
  readProcStat,
  scanProcessesByEnv,
  scanProcessesByEnvAsync,
} from '../../../agents-runtime/src/process/proc-identity';

const tailFields = (start: string) =>
  `S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${start} 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`;

describe('parseProcStat', () => {
  it('reads pid, pgid and field 22 (start time)', () => {
    expect(parseProcStat(`123 (sleep) ${tailFields('98765')}`)).toMatchObject({
      pid: 123,
      comm: 'sleep',
      state: 'S',
      ppid: 1,
      pgid: 42,
      sid: 42,
      startTicks: '98765',
    });
  });
  it('survives a comm with spaces and parentheses', () => {
    expect(parseProcStat(`7 (my (evil) name) 1) ${tailFields('555')}`)).toMatchObject({
      pid: 7,
      comm: 'my (evil) name) 1',
      pgid: 42,
      startTicks: '555',
    });
  });
  it('rejects truncated or garbled text', () => {
    expect(parseProcStat('7 (x) S 1 2')).toBeNull();
    expect(parseProcStat('garbage')).toBeNull();
    expect(parseProcStat(`x (y) ${tailFields('1')}`)).toBeNull();
  });
});

describe('process identity', () => {
  it('names this process by boot id and start ticks, and refuses a different start time', () => {
    const mine = processStartTime(process.pid);
    expect(mine).toMatch(/^[^:]+:\d+$/);
    expect(isSameProcess(process.pid, mine!)).toBe(true);
    expect(isSameProcess(process.pid, formatStartTime('1'))).toBe(false);
    expect(isSameProcess(2 ** 22 + 12345, mine!)).toBe(false);
  });
  it('parses an environ block', () => {
    expect(parseEnviron('A=1\0B=x=y\0\0').get('B')).toBe('x=y');
  });
  it('finds marked processes by their environment, the blocking and the non-blocking scan alike', async () => {
    const marker = `proc-identity-${process.pid}-${Date.now()}`;
    const child = spawn('sleep', ['30'], { env: { ...process.env, SUTAZAI_TEST_MARK: marker }, stdio: 'ignore' });
    try {
      await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
      const found = scanProcessesByEnv('SUTAZAI_TEST_MARK', marker);
      expect(found.map(({ stat }) => stat.pid)).toEqual([child.pid]);
      expect(found[0]!.env.get('SUTAZAI_TEST_MARK')).toBe(marker);
      const foundAsync = await scanProcessesByEnvAsync('SUTAZAI_TEST_MARK', marker);
      // The same process by the same identity; its run state (R, S) may change between the two reads.
      const identity = (list: typeof found) =>
        list.map(({ stat, env }) => ({ pid: stat.pid, pgid: stat.pgid, startTicks: stat.startTicks, env }));
      expect(identity(foundAsync)).toEqual(identity(found));
      // A prefix of the value is not the value.
      expect(await scanProcessesByEnvAsync('SUTAZAI_TEST_MARK', marker.slice(0, -1))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the non-blocking scan from a start time reads only processes started then or later (an escapee starts after its run)', async () => {
    const marker = `proc-identity-from-${process.pid}-${Date.now()}`;
    const child = spawn('sleep', ['30'], { env: { ...process.env, SUTAZAI_TEST_MARK: marker }, stdio: 'ignore' });
    try {
      await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
      const ticks = readProcStat(child.pid!)!.startTicks;
      const pids = async (startedFrom: string) =>
        (await scanProcessesByEnvAsync('SUTAZAI_TEST_MARK', marker, { startedFrom })).map(({ stat }) => stat.pid);
      expect(await pids(ticks)).toEqual([child.pid]);
      expect(await pids('0')).toEqual([child.pid]);
      // One tick later (and a bound longer than 2^53, compared as decimal strings) leaves it out.
      expect(await pids(String(BigInt(ticks) + 1n))).toEqual([]);
      expect(await pids('90071992547409930')).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

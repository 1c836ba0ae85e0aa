import { describe, expect, it } from 'vitest';
import { adoptOrStart } from '../../../agents-runtime/src/process/adopt-or-start';
import type { RunningProcess } from '../../../agents-runtime/src/supervisor/driver';

const alive = new Map<number, string>([
  [100, 't100'],
  [200, 't200'],
  [300, 't300'],
  [400, 't400'],
]);
const isAlive = (pid: number, t: string) => alive.get(pid) === t;
const adopt = (_i: string, pid: number, startTime: string): RunningProcess | null =>
  isAlive(pid, startTime) ? { pid, startTime, onExit: () => undefined } : null;

describe('adoptOrStart', () => {
  it('adopts live instances, starts dead ones, and never reuses a pid whose start time changed', () => {
    const plan = adoptOrStart({
      wanted: ['a', 'b', 'c'],
      saved: { a: { pid: 100, startTime: 't100' }, b: { pid: 200, startTime: 'old' } },
      adopt,
      isAlive,
    });
    expect([...plan.adopted.keys()]).toEqual(['a']);
    expect(plan.toStart).toEqual(['b', 'c']);
  });

  it('finds what a daemon started but never saved, and adopts only one per instance', () => {
    const plan = adoptOrStart({
      wanted: ['a', 'b'],
      saved: {},
      adopt,
      isAlive,
      discover: () => [
        { instance: 'a', pid: 100, startTime: 't100' },
        { instance: 'a', pid: 300, startTime: 't300' },
        { instance: 'gone', pid: 400, startTime: 't400' },
      ],
    });
    expect(plan.adopted.get('a')?.pid).toBe(100);
    expect(plan.extra).toEqual([{ instance: 'a', pid: 300 }]);
    expect(plan.toStart).toEqual(['b']);
    expect([...plan.unwanted.keys()]).toEqual(['gone']);
  });

  it('one pid never serves two instances', () => {
    const plan = adoptOrStart({
      wanted: ['a', 'b'],
      saved: { a: { pid: 100, startTime: 't100' }, b: { pid: 100, startTime: 't100' } },
      adopt,
      isAlive,
    });
    expect([...plan.adopted.keys()]).toEqual(['a']);
    expect(plan.toStart).toEqual(['b']);
  });
});

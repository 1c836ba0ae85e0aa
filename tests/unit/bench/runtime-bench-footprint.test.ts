import { describe, expect, it } from 'vitest';
import { membersOf, parseSmapsRollup, parseStat, processTree, sumRollups, type Rollup } from '../../bench/runtime-bench-footprint';

const ROLLUP = `55d1c9a4d000-7ffc5a3f5000 ---p 00000000 00:00 0                          [rollup]
Rss:               48212 kB
Pss:               31007 kB
Pss_Anon:          22104 kB
Pss_File:           8903 kB
Pss_Shmem:             0 kB
Shared_Clean:      17120 kB
Shared_Dirty:          0 kB
Private_Clean:      1024 kB
Private_Dirty:     30068 kB
Referenced:        48212 kB
Anonymous:         30068 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

describe('parseSmapsRollup', () => {
  it('reads RSS, PSS and USS (private clean + dirty) in kB, not PSS_Anon for PSS', () => {
    expect(parseSmapsRollup(ROLLUP)).toEqual({ rssKb: 48212, pssKb: 31007, ussKb: 31092 });
  });

  it('gives null when a total is missing', () => {
    expect(parseSmapsRollup(ROLLUP.replace(/^Pss: .*\n/m, ''))).toBeNull();
    expect(parseSmapsRollup('')).toBeNull();
  });
});

describe('parseStat', () => {
  it('reads ppid, own and reaped-children ticks, counting fields after the last parenthesis', () => {
    const stat = '4242 (sutazai (log) x) S 17 4242 4242 0 -1 4194560 300 0 0 0 11 7 5 3 20 0 1 0 12345 9000000 500 18446744073709551615';
    expect(parseStat(stat)).toEqual({ ppid: 17, ticks: 18, childTicks: 8 });
  });

  it('gives null for text that is not a stat line', () => {
    expect(parseStat('no parenthesis here')).toBeNull();
    expect(parseStat('1 (x) S 0')).toBeNull();
  });
});

describe('processTree', () => {
  // 1 -> 10 -> (11, 12 -> 13); 20 elsewhere; 30 is 10's child that the reader saw.
  const parents = new Map([
    [1, 0],
    [10, 1],
    [11, 10],
    [12, 10],
    [13, 12],
    [20, 1],
    [30, 10],
  ]);

  it('gives the root and every descendant, however deep, and nothing beside', () => {
    expect(processTree([10], parents).sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 30]);
  });

  it('gives nothing for a root that is gone', () => {
    expect(processTree([99], parents)).toEqual([]);
  });

  it('splits the tree into the footprint and the supervised programs, adding marked helpers that left it', () => {
    const members = membersOf(10, [20, 77], new Set([11, 13]), parents);
    expect(members.footprint.sort((a, b) => a - b)).toEqual([10, 12, 20, 30]);
    expect(members.programs.sort((a, b) => a - b)).toEqual([11, 13]);
  });
});

describe('sumRollups', () => {
  it('sums PSS, RSS and USS over the processes and counts the ones that were gone', () => {
    const table = new Map<number, Rollup>([
      [1, { rssKb: 100, pssKb: 60, ussKb: 40 }],
      [2, { rssKb: 50, pssKb: 20, ussKb: 5 }],
    ]);
    expect(sumRollups([1, 2, 3], (pid) => table.get(pid) ?? null)).toEqual({ rssKb: 150, pssKb: 80, ussKb: 45, counted: 2, missed: 1 });
  });
});

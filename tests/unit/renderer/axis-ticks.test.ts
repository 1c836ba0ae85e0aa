import { describe, expect, it } from 'vitest';
import { minuteTicks, niceTicks } from '../../../renderer/src/metrics/axis-ticks';

describe('niceTicks', () => {
  it('covers the maximum with round decimal steps', () => {
    expect(niceTicks(3.7)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(0.3, { floor: 0.1 })).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(85)).toEqual([0, 25, 50, 75, 100]);
  });

  it('never collapses to a single tick for an idle series', () => {
    expect(niceTicks(0)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('steps bytes in the unit the top falls in', () => {
    const GiB = 1024 ** 3;
    expect(niceTicks(15.5 * GiB, { binary: true })).toEqual([0, 5, 10, 15, 20].map((n) => n * GiB));
    expect(niceTicks(900 * 1024, { binary: true })).toEqual([0, 250, 500, 750, 1000].map((n) => n * 1024));
  });

  it('keeps to the requested number of intervals', () => {
    for (const max of [1, 7, 13, 99, 1234, 987654]) {
      const ticks = niceTicks(max);
      expect(ticks.length - 1).toBeLessThanOrEqual(4);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
    }
  });
});

describe('minuteTicks', () => {
  it('places ticks on whole minutes inside the window', () => {
    const start = Date.UTC(2025, 0, 1, 10, 0, 30);
    const ticks = minuteTicks(start, start + 5 * 60_000);
    expect(ticks).toHaveLength(5);
    expect(ticks[0]).toBe(Date.UTC(2025, 0, 1, 10, 1, 0));
    expect(ticks.every((t) => t % 60_000 === 0)).toBe(true);
  });

  it('leaves out ticks too close to either edge for their label to fit', () => {
    // 10:00:50 to 10:05:50: 10:01 lies 10 s from the start, 10:05 lies 50 s from the end.
    const start = Date.UTC(2025, 0, 1, 10, 0, 50);
    const ticks = minuteTicks(start, start + 5 * 60_000, { edgeMs: 25_000 });
    expect(ticks.map((t) => new Date(t).getUTCMinutes())).toEqual([2, 3, 4, 5]);
    const late = minuteTicks(start - 40_000, start - 40_000 + 5 * 60_000, { edgeMs: 25_000 });
    // 10:00:10 to 10:05:10: 10:05 lies 10 s from the end.
    expect(late.map((t) => new Date(t).getUTCMinutes())).toEqual([1, 2, 3, 4]);
  });
});

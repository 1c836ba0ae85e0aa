import { describe, expect, it } from 'vitest';
import { Downsampler } from '../../../electron/backend/metrics/downsample';

describe('Downsampler', () => {
  it('keeps the exact mean, min and max of each aligned bucket', () => {
    const out = new Downsampler(10_000);
    // Seconds 0..29 with value = second: buckets [0,10s), [10s,20s), [20s,30s).
    for (let s = 0; s < 30; s++) out.add(s * 1000, s, s, s, 1);
    expect(out.finish()).toEqual([
      [0, 4.5, 0, 9],
      [10_000, 14.5, 10, 19],
      [20_000, 24.5, 20, 29],
    ]);
  });

  it('aligns buckets to the step, not to the first sample', () => {
    const out = new Downsampler(60_000);
    out.add(119_000, 1, 1, 1, 1);
    out.add(120_000, 3, 3, 3, 1);
    expect(out.finish()).toEqual([
      [60_000, 1, 1, 1],
      [120_000, 3, 3, 3],
    ]);
  });

  it('weights rollup cells by their counts and keeps their extremes', () => {
    const out = new Downsampler(3_600_000);
    out.add(0, 10, 0, 100, 59);
    out.add(60_000, 70, 70, 70, 1);
    expect(out.finish()).toEqual([[0, 11, 0, 100]]);
  });

  it('makes no point for a bucket without data, never a zero', () => {
    const out = new Downsampler(1000);
    out.add(0, 5, 5, 5, 1);
    out.add(5000, 6, 6, 6, 1);
    expect(out.finish()).toEqual([
      [0, 5, 5, 5],
      [5000, 6, 6, 6],
    ]);
    expect(new Downsampler(1000).finish()).toEqual([]);
  });

  it('refuses cells out of time order and a bad step', () => {
    const out = new Downsampler(1000);
    out.add(5000, 1, 1, 1, 1);
    expect(() => out.add(1000, 1, 1, 1, 1)).toThrow(RangeError);
    expect(() => new Downsampler(0)).toThrow(RangeError);
  });
});

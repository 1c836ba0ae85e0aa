import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../../agents-runtime/src/metrics/ring-buffer';

const at = (atMs: number) => ({ atMs });

describe('metrics ring buffer', () => {
  it('defaults to 900 samples (15 minutes at 1 s)', () => {
    expect(new RingBuffer().capacity).toBe(900);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });

  it('keeps the newest `capacity` items, oldest overwritten first', () => {
    const ring = new RingBuffer<{ atMs: number }>(3);
    for (let t = 1; t <= 5; t++) ring.push(at(t * 1000));
    expect(ring.size).toBe(3);
    expect(ring.toArray().map((s) => s.atMs)).toEqual([3000, 4000, 5000]);
    expect(ring.oldest()?.atMs).toBe(3000);
    expect(ring.newest()?.atMs).toBe(5000);
  });

  it('since(ms) returns every item at or after ms, across the wrap point', () => {
    const ring = new RingBuffer<{ atMs: number }>(5);
    for (let t = 1; t <= 8; t++) ring.push(at(t * 1000)); // holds 4000..8000, head mid-array
    expect(ring.since(0).map((s) => s.atMs)).toEqual([4000, 5000, 6000, 7000, 8000]);
    expect(ring.since(6000).map((s) => s.atMs)).toEqual([6000, 7000, 8000]);
    expect(ring.since(6001).map((s) => s.atMs)).toEqual([7000, 8000]);
    expect(ring.since(9000)).toEqual([]);
    expect(new RingBuffer(3).since(0)).toEqual([]);
  });

  it('refuses an item older than the newest (the search needs order); equal times are kept', () => {
    const ring = new RingBuffer<{ atMs: number }>(4);
    expect(ring.push(at(2000))).toBe(true);
    expect(ring.push(at(1000))).toBe(false);
    expect(ring.push(at(2000))).toBe(true);
    expect(ring.since(2000)).toHaveLength(2);
  });

  it('wraps many times over without losing order', () => {
    const ring = new RingBuffer<{ atMs: number }>(7);
    for (let t = 0; t < 1000; t++) ring.push(at(t));
    expect(ring.toArray().map((s) => s.atMs)).toEqual([993, 994, 995, 996, 997, 998, 999]);
    expect(ring.since(997).map((s) => s.atMs)).toEqual([997, 998, 999]);
  });
});

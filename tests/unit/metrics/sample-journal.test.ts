import { describe, expect, it } from 'vitest';
import { decodeJournal, JournalBuffer } from '../../../electron/backend/metrics/sample-journal';

describe('metric journal buffer', () => {
  it('packs records as (series id, second, value) triples in the order added', () => {
    const buffer = new JournalBuffer();
    buffer.add(3, 60_000, 1.5);
    buffer.add(4, 61_000, -0);
    expect(buffer.size).toBe(2);
    expect(Array.from(decodeJournal(buffer.toBytes()))).toEqual([3, 60_000, 1.5, 4, 61_000, -0]);
  });

  it('grows for a burst, and gives the room back once commits are small again', () => {
    const buffer = new JournalBuffer();
    const initial = buffer.capacity;
    for (let i = 0; i < 100_000; i++) buffer.add(1, i * 1000, i);
    expect(buffer.capacity).toBeGreaterThanOrEqual(100_000);
    buffer.clear();
    const afterBurst = buffer.capacity;
    for (let commit = 0; commit < 20; commit++) {
      buffer.add(1, commit * 1000, commit);
      buffer.clear();
    }
    expect(afterBurst).toBeGreaterThanOrEqual(100_000); // the clear after the burst itself keeps what it just used
    expect(afterBurst).toBeLessThan(100_000 * 2);
    expect(buffer.capacity).toBe(initial);
    buffer.add(2, 0, 7);
    expect(Array.from(decodeJournal(buffer.toBytes()))).toEqual([2, 0, 7]);
  });

  it('keeps its room while commits stay large', () => {
    const buffer = new JournalBuffer();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10_000; i++) buffer.add(1, i, i);
      buffer.clear();
    }
    expect(buffer.capacity).toBeGreaterThanOrEqual(10_000);
  });
});

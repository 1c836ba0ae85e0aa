import { describe, expect, it } from 'vitest';
import { mergeRollups, summarizeSlots } from '../../../electron/backend/metrics/rollup';
import { emptyChunk } from '../../../electron/backend/metrics/sample-chunk-codec';

describe('rollups', () => {
  it('summarizes only the seconds that have samples', () => {
    const slots = emptyChunk();
    slots[0] = 4;
    slots[10] = -2;
    slots[59] = 10;
    expect(summarizeSlots(slots)).toEqual({ mean: 4, min: -2, max: 10, count: 3 });
  });

  it('has no summary for a minute without samples', () => {
    expect(summarizeSlots(emptyChunk())).toBeNull();
  });

  it('merges rollups weighting each mean by its count', () => {
    const merged = mergeRollups([
      { mean: 10, min: 5, max: 15, count: 60 },
      { mean: 40, min: 40, max: 40, count: 1 },
      { mean: 999, min: 999, max: 999, count: 0 },
    ]);
    expect(merged).toEqual({ mean: (10 * 60 + 40) / 61, min: 5, max: 40, count: 61 });
    expect(mergeRollups([])).toBeNull();
  });
});

/** Mean, extremes and sample count over one period: what every coarser tier stores. */
export interface Rollup {
  mean: number;
  min: number;
  max: number;
  count: number;
}

/** A rollup placed at the start of its period. */
export interface Cell extends Rollup {
  t: number;
}

/** The rollup of a chunk's present seconds, or null when every second is missing. */
export function summarizeSlots(slots: Float64Array): Rollup | null {
  let sum = 0;
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  // Indexed: the flush calls this once a minute per series, too seldom for the loop to be
  // optimized, and an iterator over a typed array makes an object per value until it is.
  for (let i = 0; i < slots.length; i++) {
    const value = slots[i] as number;
    if (Number.isNaN(value)) continue;
    sum += value;
    count++;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return count === 0 ? null : { mean: sum / count, min, max, count };
}

/** Combines rollups weighting each mean by its count, so a sparse period weighs less. */
export function mergeRollups(parts: readonly Rollup[]): Rollup | null {
  let weighted = 0;
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const part of parts) {
    if (part.count <= 0) continue;
    weighted += part.mean * part.count;
    count += part.count;
    if (part.min < min) min = part.min;
    if (part.max > max) max = part.max;
  }
  return count === 0 ? null : { mean: weighted / count, min, max, count };
}

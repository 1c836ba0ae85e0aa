import type { MetricPoint } from '../../contract';

/**
 * Folds time-ordered cells into buckets aligned to `stepMs` (bucket start = floor(t/step)
 * * step). Each point keeps the count-weighted mean and the true min and max of its
 * bucket, so a spike survives downsampling. A bucket with no cells yields no point.
 */
export class Downsampler {
  private readonly points: MetricPoint[] = [];
  private bucket = Number.NaN;
  private weighted = 0;
  private count = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(private readonly stepMs: number) {
    if (!(Number.isInteger(stepMs) && stepMs > 0)) throw new RangeError(`stepMs must be a positive integer, got ${stepMs}`);
  }

  /** Cells must come in non-decreasing time order. */
  add(t: number, mean: number, min: number, max: number, count: number): void {
    const bucket = Math.floor(t / this.stepMs);
    if (bucket !== this.bucket) {
      if (bucket < this.bucket) throw new RangeError(`cells must be added in time order (${t} after bucket ${this.bucket})`);
      this.emit();
      this.bucket = bucket;
    }
    this.weighted += mean * count;
    this.count += count;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  finish(): MetricPoint[] {
    this.emit();
    return this.points;
  }

  private emit(): void {
    if (this.count > 0) {
      this.points.push([this.bucket * this.stepMs, this.weighted / this.count, this.min, this.max]);
    }
    this.weighted = 0;
    this.count = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }
}

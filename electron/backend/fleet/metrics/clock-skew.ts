/**
 * How far a host's clock is from this machine's, from the samples it streams: each live
 * sample gives (its time - when it arrived) = skew - delay, so the largest of the recent
 * ones is the one that waited least and the best estimate (NTP's minimum-delay filter).
 * Backfilled samples waited long and never win once a live one has come.
 */
export class ClockSkewEstimator {
  private readonly offsets: number[] = [];

  /** `window`: how many recent samples the estimate is the best of. */
  constructor(private readonly window = 30) {
    if (!(Number.isInteger(window) && window > 0)) throw new RangeError(`window must be a positive integer, got ${window}`);
  }

  /** Records one sample; returns the estimate, ms (positive: the host's clock is ahead). */
  add(sampleAtMs: number, receivedAtMs: number): number {
    this.offsets.push(sampleAtMs - receivedAtMs);
    if (this.offsets.length > this.window) this.offsets.shift();
    return this.estimate() as number;
  }

  estimate(): number | null {
    return this.offsets.length === 0 ? null : Math.round(Math.max(...this.offsets));
  }
}

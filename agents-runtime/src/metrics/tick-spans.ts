/**
 * How long each of the last few sampler ticks was, so that CPU a long-idle member used over a
 * look window of several ticks (proc-files.ts: it is looked at one tick in IDLE_LOOK_EVERY) is
 * spread by time, not by tick count. Ticks are not all alike: a second while someone watches
 * the metrics, 5 s while nobody does, and a /metrics scrape's sample in between. CPU used over
 * 15 s of unwatched ticks and then looked at on a 1 s tick (a watcher came) showed at four
 * times its rate when split evenly over the window's four ticks, up to more than the
 * member can use; its share of this tick is this tick's span over the window's.
 */
export class TickSpans {
  private readonly spans: Float64Array;
  private recorded = 0;

  /** `most`: the longest window asked for (IDLE_LOOK_EVERY). */
  constructor(most: number) {
    this.spans = new Float64Array(Math.max(1, most));
  }

  /** This tick's span (uptime clock ticks since the tick before; 0 for the first). */
  record(span: number): void {
    this.spans[this.recorded % this.spans.length] = span;
    this.recorded += 1;
  }

  /**
   * The part of what a member used over its last `window` ticks (this one included) that
   * falls to this tick: this tick's span over the window's, or 1 / window when the spans are
   * not known (fewer ticks recorded, or none of them long).
   */
  shareOfThisTick(window: number): number {
    if (window <= 1) return 1;
    const n = Math.min(window, this.spans.length, this.recorded);
    let sum = 0;
    for (let i = 1; i <= n; i += 1) sum += this.spans[(this.recorded - i) % this.spans.length]!;
    const current = this.recorded > 0 ? this.spans[(this.recorded - 1) % this.spans.length]! : 0;
    return n === window && sum > 0 ? current / sum : 1 / window;
  }
}

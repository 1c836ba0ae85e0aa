import { describe, expect, it } from 'vitest';
import { IDLE_LOOK_EVERY } from '../../../agents-runtime/src/metrics/proc-files';
import { TickSpans } from '../../../agents-runtime/src/metrics/tick-spans';

describe('TickSpans: a look window spread by time', () => {
  it('gives a 1 s tick after three 5 s ticks a sixteenth of the window, not a quarter', () => {
    const spans = new TickSpans(IDLE_LOOK_EVERY);
    for (const span of [500, 500, 500, 100]) spans.record(span);
    expect(spans.shareOfThisTick(4)).toBeCloseTo(100 / 1600, 12);
    // A member that ran all 16 s on one core (1600 clock ticks) shows 100 % of this 1 s tick, never 400 %.
    expect((1600 * spans.shareOfThisTick(4)) / 100).toBeCloseTo(1, 12);
    expect(spans.shareOfThisTick(1)).toBe(1);
    expect(spans.shareOfThisTick(2)).toBeCloseTo(100 / 600, 12);
  });

  it('splits evenly over ticks alike, as before', () => {
    const spans = new TickSpans(IDLE_LOOK_EVERY);
    for (let i = 0; i < 10; i += 1) spans.record(100);
    expect(spans.shareOfThisTick(4)).toBeCloseTo(1 / 4, 12);
  });

  it('falls back to an even split when the window reaches past what is recorded, or its spans are zero', () => {
    const spans = new TickSpans(IDLE_LOOK_EVERY);
    spans.record(100);
    expect(spans.shareOfThisTick(3)).toBeCloseTo(1 / 3, 12);
    const zeros = new TickSpans(IDLE_LOOK_EVERY);
    for (let i = 0; i < 4; i += 1) zeros.record(0);
    expect(zeros.shareOfThisTick(4)).toBeCloseTo(1 / 4, 12);
  });
});

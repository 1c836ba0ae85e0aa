import { describe, expect, it } from 'vitest';
import type { BackoffSpec, CrashLoopSpec } from '../../../agents-runtime/src/manifest/manifest-schema';
import { backoffDelay, RestartTracker, restartWanted } from '../../../agents-runtime/src/supervisor/backoff';

const backoff: BackoffSpec = { initialMs: 1000, factor: 2, maxMs: 30_000, jitter: 0, resetAfterMs: 60_000 };
const crashLoop: CrashLoopSpec = { afterRestarts: 3, withinMs: 10_000, retryEveryMs: 300_000 };
const middle = (): number => 0.5;

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay and stops at the cap', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 20].map((attempt) => backoffDelay(backoff, attempt, middle));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('spreads each delay by at most ±jitter, using the injected random source', () => {
    const spec = { ...backoff, jitter: 0.25 };
    expect(backoffDelay(spec, 2, () => 0)).toBe(3000);
    expect(backoffDelay(spec, 2, () => 0.5)).toBe(4000);
    expect(backoffDelay(spec, 2, () => 0.999999)).toBe(5000);
  });

  it('never exceeds the cap, even with jitter', () => {
    const spec = { ...backoff, jitter: 1 };
    for (const r of [0, 0.3, 0.7, 0.999]) expect(backoffDelay(spec, 10, () => r)).toBeLessThanOrEqual(30_000);
  });
});

describe('restartWanted', () => {
  it('follows systemd Restart= semantics', () => {
    expect(restartWanted('always', true)).toBe(true);
    expect(restartWanted('always', false)).toBe(true);
    expect(restartWanted('on-failure', false)).toBe(true);
    expect(restartWanted('on-failure', true)).toBe(false);
    expect(restartWanted('never', false)).toBe(false);
  });
});

describe('RestartTracker', () => {
  it('backs off further on each failure', () => {
    const tracker = new RestartTracker(backoff, { ...crashLoop, afterRestarts: 100 }, middle);
    const delays = [0, 1, 2, 3].map((i) => tracker.recordFailure(i * 100_000, null));
    expect(delays.map((d) => d.delayMs)).toEqual([1000, 2000, 4000, 8000]);
    expect(tracker.restarts).toBe(4);
  });

  it('starts the backoff over after a stable run of reset_after_ms', () => {
    const tracker = new RestartTracker(backoff, { ...crashLoop, afterRestarts: 100 }, middle);
    tracker.recordFailure(0, null);
    tracker.recordFailure(1000, 500);
    expect(tracker.recordFailure(2000, 1500)).toMatchObject({ kind: 'backoff', delayMs: 4000 });
    // ran from 10_000 to 69_999: just short of stable
    expect(tracker.recordFailure(69_999, 10_000)).toMatchObject({ delayMs: 8000 });
    // ran for exactly 60 s: stable, so back to the initial delay
    expect(tracker.recordFailure(200_000, 140_000)).toMatchObject({ kind: 'backoff', delayMs: 1000, attempt: 1 });
  });

  it('enters crash-loop when failures within the window exceed after_restarts, and stays until stable', () => {
    const tracker = new RestartTracker(backoff, crashLoop, middle);
    expect(tracker.recordFailure(0, null).kind).toBe('backoff');
    expect(tracker.recordFailure(1000, null).kind).toBe('backoff');
    expect(tracker.recordFailure(2000, null).kind).toBe('backoff');
    expect(tracker.recordFailure(3000, null)).toEqual({ kind: 'crash-loop', delayMs: 300_000, failuresInWindow: 4 });
    expect(tracker.inCrashLoop).toBe(true);
    // the long retry fails again: still a crash loop, although the window has passed
    expect(tracker.recordFailure(310_000, null)).toMatchObject({ kind: 'crash-loop', delayMs: 300_000 });
    // a stable run forgives it
    expect(tracker.recordFailure(700_000, 620_000)).toMatchObject({ kind: 'backoff', delayMs: 1000 });
    expect(tracker.inCrashLoop).toBe(false);
  });

  it('does not count failures that fell out of the window', () => {
    const tracker = new RestartTracker(backoff, { ...crashLoop, afterRestarts: 2 }, middle);
    tracker.recordFailure(0, null);
    tracker.recordFailure(5_000, null);
    // the first failure is 10 s old: two in the window, not three
    expect(tracker.recordFailure(10_000, null).kind).toBe('backoff');
    expect(tracker.recordFailure(11_000, null).kind).toBe('crash-loop');
  });

  it('forgets everything on reset (an operator start)', () => {
    const tracker = new RestartTracker(backoff, { ...crashLoop, afterRestarts: 1 }, middle);
    tracker.recordFailure(0, null);
    expect(tracker.recordFailure(1, null).kind).toBe('crash-loop');
    tracker.reset();
    expect(tracker.recordFailure(2, null)).toMatchObject({ kind: 'backoff', delayMs: 1000 });
  });
});

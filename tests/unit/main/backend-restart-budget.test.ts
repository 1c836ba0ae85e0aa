import { describe, expect, it } from 'vitest';
import { decideRestart, DEFAULT_RESTART_POLICY } from '../../../electron/main/backend-restart-budget';

const policy = { burst: 3, intervalMs: 60_000 };

/** Feeds a series of crash times through the policy the way BackendProcess does. */
function replay(crashTimes: number[]) {
  let restarts: readonly number[] = [];
  return crashTimes.map((now) => {
    const decision = decideRestart(restarts, now, policy);
    if (decision.action === 'restart') restarts = decision.restarts;
    return decision.action;
  });
}

describe('backend restart budget', () => {
  it('defaults to three restarts a minute', () => {
    expect(DEFAULT_RESTART_POLICY).toEqual({ burst: 3, intervalMs: 60_000 });
  });

  it('restarts after a first crash and records when', () => {
    expect(decideRestart([], 1_000, policy)).toEqual({ action: 'restart', restarts: [1_000] });
  });

  it('gives up on the fourth crash inside one minute', () => {
    expect(replay([0, 10_000, 20_000, 30_000])).toEqual(['restart', 'restart', 'restart', 'give-up']);
    expect(decideRestart([0, 10_000, 20_000], 30_000, policy)).toEqual({ action: 'give-up', restartsInWindow: 3 });
  });

  it('restarts again once the oldest restart has left the window', () => {
    expect(replay([0, 10_000, 20_000, 60_000])).toEqual(['restart', 'restart', 'restart', 'restart']);
    expect(replay([0, 10_000, 20_000, 59_999])).toEqual(['restart', 'restart', 'restart', 'give-up']);
  });

  it('forgets restarts older than the window, so a crash a day is always restarted', () => {
    const day = 86_400_000;
    expect(replay([0, day, 2 * day, 3 * day, 4 * day])).toEqual(['restart', 'restart', 'restart', 'restart', 'restart']);
    expect(decideRestart([0, day, 2 * day], 3 * day, policy)).toEqual({ action: 'restart', restarts: [3 * day] });
  });

  it('follows a stricter policy when given one', () => {
    expect(decideRestart([5_000], 6_000, { burst: 1, intervalMs: 10_000 })).toEqual({ action: 'give-up', restartsInWindow: 1 });
    expect(decideRestart([], 6_000, { burst: 0, intervalMs: 10_000 }).action).toBe('give-up');
  });

  it('does not let a clock that stepped back count future restarts against it', () => {
    expect(decideRestart([100_000, 110_000, 120_000], 50_000, policy)).toEqual({ action: 'restart', restarts: [50_000] });
  });
});

/**
 * How often the backend may be restarted after dying on its own, in the spirit of
 * systemd's `StartLimitBurst=` within `StartLimitIntervalSec=`: a few restarts inside a
 * window are a hiccup, more are a crash loop that restarting will not fix.
 */
export interface RestartPolicy {
  /** Restarts allowed inside one window. */
  burst: number;
  /** Length of the window in milliseconds. */
  intervalMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({ burst: 3, intervalMs: 60_000 });

export type RestartDecision =
  /** Restart now; `restarts` is the new history to keep (times of restarts still in the window). */
  | { action: 'restart'; restarts: readonly number[] }
  /** The budget is spent: stop trying and tell the operator. */
  | { action: 'give-up'; restartsInWindow: number };

/**
 * Decides what to do when the backend has exited unexpectedly at `now`, given the times
 * of the restarts already made. Pure, so the policy is tested with plain numbers.
 */
export function decideRestart(
  previousRestarts: readonly number[],
  now: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const inWindow = previousRestarts.filter((at) => at <= now && now - at < policy.intervalMs);
  if (inWindow.length >= policy.burst) return { action: 'give-up', restartsInWindow: inWindow.length };
  return { action: 'restart', restarts: [...inWindow, now] };
}

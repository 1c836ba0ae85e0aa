/**
 * How long to wait before the next try after `attempt` failures in a row (0 for the first
 * retry): doubling from `initialMs`, capped at `maxMs`, and jittered down by up to half
 * so that links cut by the same outage do not all knock again in the same instant.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(capped * (1 - random() / 2));
}

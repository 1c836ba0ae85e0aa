import type { BackoffSpec, CrashLoopSpec, RestartPolicy } from '../manifest/manifest-schema';

/** A number in [0, 1), like Math.random; injected so tests can pin the jitter. */
export type RandomSource = () => number;

/**
 * Delay before restart number `attempt` (0-based): initial × factor^attempt, spread by
 * ±jitter, and never above the cap (systemd's RestartSec with RestartSteps/RestartMaxDelaySec).
 */
export function backoffDelay(spec: BackoffSpec, attempt: number, random: RandomSource): number {
  const base = Math.min(spec.maxMs, spec.initialMs * spec.factor ** Math.max(0, attempt));
  const spread = 1 + spec.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(spec.maxMs, Math.round(base * spread)));
}

/** Whether the restart policy restarts a process that stopped this way (systemd's Restart=). */
export function restartWanted(policy: RestartPolicy, cleanExit: boolean): boolean {
  if (policy === 'always') return true;
  if (policy === 'on-failure') return !cleanExit;
  return false;
}

export type RestartDecision =
  { kind: 'backoff'; delayMs: number; attempt: number } | { kind: 'crash-loop'; delayMs: number; failuresInWindow: number };

/**
 * Counts failures of one instance and decides how long to wait before the next start.
 * More than `afterRestarts` failures within `withinMs` is a crash loop (systemd's
 * StartLimitBurst within StartLimitIntervalSec): the wait becomes `retryEveryMs`, and
 * stays so for every failure until the process runs stably for `resetAfterMs` or the
 * operator starts it by hand.
 */
export class RestartTracker {
  private attempt = 0;
  private failures: number[] = [];
  private looping = false;
  private total = 0;

  constructor(
    private readonly backoff: BackoffSpec,
    private readonly crashLoop: CrashLoopSpec,
    private readonly random: RandomSource = Math.random,
    /** Restarts counted before this tracker (a daemon restart or manifest update kept the instance). */
    initialRestarts = 0,
  ) {
    this.total = initialRestarts;
  }

  /**
   * Records a failure at `now`. `runningSince` is when the process became running, or
   * null when it never did; a run of at least `resetAfterMs` forgives earlier failures.
   */
  recordFailure(now: number, runningSince: number | null): RestartDecision {
    if (runningSince !== null && now - runningSince >= this.backoff.resetAfterMs) this.reset();
    this.total += 1;
    this.failures = this.failures.filter((at) => now - at < this.crashLoop.withinMs);
    this.failures.push(now);
    if (this.looping || this.failures.length > this.crashLoop.afterRestarts) {
      this.looping = true;
      return { kind: 'crash-loop', delayMs: this.crashLoop.retryEveryMs, failuresInWindow: this.failures.length };
    }
    const delayMs = backoffDelay(this.backoff, this.attempt, this.random);
    this.attempt += 1;
    return { kind: 'backoff', delayMs, attempt: this.attempt };
  }

  /** Forgets the failures: after a stable run, or when the operator starts the instance. */
  reset(): void {
    this.attempt = 0;
    this.failures = [];
    this.looping = false;
  }

  get inCrashLoop(): boolean {
    return this.looping;
  }

  /** Failures since the supervisor was created; shown as the restart count. */
  get restarts(): number {
    return this.total;
  }
}

import type { Outcome, OutcomeCounts, PreflightCheck } from '../../../electron/contract';

export { countOutcomes, type OutcomeCounts } from '../../../electron/contract';

/** "2 fail, 1 warn, 5 pass": worst first, zero counts left out; "no checks" when empty. */
export function describeCounts(counts: OutcomeCounts): string {
  const parts = (['fail', 'warn', 'pass'] as const).filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${o}`);
  return parts.length === 0 ? 'no checks' : parts.join(', ');
}

/** Failures first, then warnings, then passes; the order within each stays the analyzers'. */
export function worstFirst<T extends Pick<PreflightCheck, 'outcome'>>(checks: readonly T[]): T[] {
  const rank: Record<Outcome, number> = { fail: 0, warn: 1, pass: 2 };
  return checks
    .map((check, index) => ({ check, index }))
    .sort((a, b) => rank[a.check.outcome] - rank[b.check.outcome] || a.index - b.index)
    .map(({ check }) => check);
}

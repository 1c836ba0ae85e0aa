import type { Outcome } from '../../../electron/contract';

const LABELS: Record<Outcome, string> = { pass: 'Pass', warn: 'Warn', fail: 'Fail' };

/** A preflight verdict: green pass, amber warn, red fail, with the word, never colour alone. */
export function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return (
    <span className={`badge outcome outcome-${outcome}`} data-outcome={outcome}>
      {LABELS[outcome]}
    </span>
  );
}

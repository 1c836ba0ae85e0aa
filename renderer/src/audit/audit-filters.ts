import { ACTIONS, type Action, type MethodParams } from '../../../electron/contract';
import { RANGE_CHOICES, type RangeChoice } from '../fleet/events/event-filters';

/** The Audit page's choices of time: the Events page's, without its custom range. */
export type AuditRangeChoice = Exclude<RangeChoice, 'custom'>;
type RangeChoiceEntry = (typeof RANGE_CHOICES)[number];
export const AUDIT_RANGE_CHOICES = RANGE_CHOICES.filter(
  (choice): choice is Extract<RangeChoiceEntry, { value: AuditRangeChoice }> => choice.value !== 'custom',
);

export const OUTCOME_CHOICES = [
  { value: '', label: 'Any outcome' },
  { value: 'ok', label: 'Succeeded' },
  { value: 'error', label: 'Failed or refused' },
  { value: 'refused', label: 'Refused' },
] as const;
export type OutcomeChoice = (typeof OUTCOME_CHOICES)[number]['value'];

/** What the operator chose; kept over a reload of the window. */
export interface AuditFilters {
  who: string;
  action: Action | '';
  target: string;
  outcome: OutcomeChoice;
  range: AuditRangeChoice;
}

export const NO_AUDIT_FILTERS: AuditFilters = { who: '', action: '', target: '', outcome: '', range: 'all' };

export function isAuditFiltered(filters: AuditFilters): boolean {
  return (
    filters.who.trim() !== '' || filters.action !== '' || filters.target.trim() !== '' || filters.outcome !== '' || filters.range !== 'all'
  );
}

/** A stored value back as filters, or null when it is not one (an older shape, a hand edit). */
export function restoreAuditFilters(stored: unknown): AuditFilters | null {
  if (stored === null || typeof stored !== 'object') return null;
  const s = stored as Record<string, unknown>;
  const valid =
    typeof s.who === 'string' &&
    (s.action === '' || (ACTIONS as readonly unknown[]).includes(s.action)) &&
    typeof s.target === 'string' &&
    OUTCOME_CHOICES.some((c) => c.value === s.outcome) &&
    AUDIT_RANGE_CHOICES.some((c) => c.value === s.range);
  return valid ? (s as unknown as AuditFilters) : null;
}

/** `audit.list`'s filter for the choice (newest first); a relative range counts back from `anchorMs`. */
export function auditListParams(filters: AuditFilters, anchorMs: number): Omit<MethodParams<'audit.list'>, 'after' | 'limit'> {
  const who = filters.who.trim();
  const target = filters.target.trim();
  const span = AUDIT_RANGE_CHOICES.find((c) => c.value === filters.range)?.ms ?? null;
  return {
    order: 'newest',
    ...(who !== '' ? { who } : {}),
    ...(filters.action !== '' ? { action: filters.action } : {}),
    ...(target !== '' ? { target } : {}),
    ...(filters.outcome !== '' ? { outcome: filters.outcome } : {}),
    ...(span !== null ? { fromMs: anchorMs - span } : {}),
  };
}

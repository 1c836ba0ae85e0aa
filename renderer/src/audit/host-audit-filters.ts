import type { MethodParams, RuntimeAuditEntry } from '../../../electron/contract';

/** What the runtime's log names as actions (agents-runtime/src/audit/call-audit.ts), and its own `audit` entries. */
export const RUNTIME_ACTION_CHOICES = [
  { value: '', label: 'Every action' },
  { value: 'control', label: 'control' },
  { value: 'scale', label: 'scale' },
  { value: 'manifest', label: 'manifest' },
  { value: 'manage-operators', label: 'access state pushed' },
  { value: 'view', label: 'view (refused)' },
  { value: 'logs', label: 'logs (refused)' },
  { value: 'audit', label: 'the log itself (segments dropped)' },
] as const;
export type RuntimeActionChoice = (typeof RUNTIME_ACTION_CHOICES)[number]['value'];

export const RUNTIME_OUTCOME_CHOICES = [
  { value: '', label: 'Any outcome' },
  { value: 'ok', label: 'Succeeded' },
  { value: 'error', label: 'Failed or refused' },
  { value: 'PERMISSION_DENIED', label: 'Refused by role or policy' },
] as const;
export type RuntimeOutcomeChoice = (typeof RUNTIME_OUTCOME_CHOICES)[number]['value'];

export interface HostAuditFilters {
  who: string;
  action: RuntimeActionChoice;
  target: string;
  outcome: RuntimeOutcomeChoice;
}

export const NO_HOST_AUDIT_FILTERS: HostAuditFilters = { who: '', action: '', target: '', outcome: '' };

/** `audit.hostLog`'s filters for the choice; empty fields ask nothing. */
export function hostAuditParams(filters: HostAuditFilters): Omit<MethodParams<'audit.hostLog'>, 'hostId' | 'before' | 'limit'> {
  const who = filters.who.trim();
  const target = filters.target.trim();
  return {
    ...(who !== '' ? { who } : {}),
    ...(filters.action !== '' ? { action: filters.action } : {}),
    ...(target !== '' ? { target } : {}),
    ...(filters.outcome !== '' ? { outcome: filters.outcome } : {}),
  };
}

/** Entries (newest first, as the pages come) as JSON lines, oldest first, each with its prevHash and hash. */
export function hostAuditExportText(newestFirst: readonly RuntimeAuditEntry[]): string {
  return newestFirst
    .slice()
    .reverse()
    .map((entry) => `${JSON.stringify(entry)}\n`)
    .join('');
}

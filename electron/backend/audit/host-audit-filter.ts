import type { MethodParams, MethodResult, RuntimeAuditEntry } from '../../contract';

/**
 * A page of a runtime's audit entries for the Audit page: newest first, filtered as
 * `audit.list` filters the control center's own (who, action, target, outcome, time), the
 * page after `before`. The entries are the host's: compared as text, never interpreted.
 */
export function filterHostAuditEntries(
  entries: readonly RuntimeAuditEntry[],
  params: MethodParams<'audit.hostLog'>,
): Omit<MethodResult<'audit.hostLog'>, 'verification'> {
  const who = params.who?.toLowerCase();
  const target = params.target?.toLowerCase();
  const matching = entries
    .filter(
      (entry) =>
        (who === undefined || `${entry.operator ?? ''}\n${entry.actor}`.toLowerCase().includes(who)) &&
        (params.action === undefined || entry.action === params.action) &&
        (target === undefined || `${entry.target ?? ''}\n${entry.method}`.toLowerCase().includes(target)) &&
        outcomeMatches(entry.outcome, params.outcome) &&
        (params.fromMs === undefined || entry.atMs >= params.fromMs) &&
        (params.toMs === undefined || entry.atMs < params.toMs),
    )
    .sort((a, b) => b.seq - a.seq);
  const from = params.before === undefined ? 0 : matching.findIndex((entry) => entry.seq < params.before!);
  // The contract's default, for a caller that did not go through its schema.
  const page = from === -1 ? [] : matching.slice(from, from + (params.limit ?? 100));
  const rest = from === -1 ? 0 : matching.length - from - page.length;
  return { entries: page, next: rest > 0 ? page.at(-1)!.seq : null, matched: matching.length };
}

function outcomeMatches(outcome: string, wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  if (wanted === 'error') return outcome !== 'ok';
  return outcome === wanted;
}

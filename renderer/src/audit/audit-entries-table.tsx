import { visibleText, type AuditVerification } from '../../../electron/contract';
import { formatDateTime } from '../format/time';
import { DataTable, type Column } from '../ui/data-table';
import { RelativeTime } from '../ui/relative-time';

/** What the control center's entries and a runtime's share: the chain's place, when, who, from where, on what. */
export interface ChainedAuditEntry {
  seq: number;
  atMs: number;
  operator: string | null;
  actor: string;
  peer: string;
  method: string;
  target: string | null;
  outcome: string;
}

/**
 * A table of hash-chained entries, the control center's or a runtime's: each row carries its
 * seq, method and outcome for the tests, and the row where the chain breaks is marked with why.
 */
export function AuditEntriesTable<E extends ChainedAuditEntry>({
  entries,
  columns,
  rowTestId,
  broken,
}: {
  entries: readonly E[];
  columns: Array<Column<E>>;
  rowTestId: string;
  broken: AuditVerification['broken'];
}) {
  return (
    <div className="card table-card">
      <DataTable
        className="audit-table"
        columns={columns}
        rows={entries}
        rowKey={(entry) => entry.seq}
        rowProps={(entry) => ({
          'data-testid': rowTestId,
          'data-seq': entry.seq,
          'data-method': entry.method,
          'data-outcome': entry.outcome,
          ...(entry.seq === broken?.seq
            ? { className: 'audit-row-broken', 'data-broken': broken.kind, title: `The chain breaks here: ${broken.message}` }
            : {}),
        })}
      />
    </div>
  );
}

/** The next page of older entries, while there is one. */
export function OlderEntriesButton({
  pages,
  testId,
}: {
  pages: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> };
  testId: string;
}) {
  if (!pages.hasNextPage) return null;
  return (
    <button
      type="button"
      className="button"
      disabled={pages.isFetchingNextPage}
      onClick={() => void pages.fetchNextPage()}
      data-testid={testId}
    >
      {pages.isFetchingNextPage ? 'Loading older entries…' : 'Show older entries'}
    </button>
  );
}

export function whenColumn<E extends ChainedAuditEntry>(): Column<E> {
  return {
    header: 'When',
    className: 'nowrap',
    cell: (entry) => (
      <>
        <span className="figure">{formatDateTime(entry.atMs)}</span>
        <div className="cell-sub">
          <RelativeTime ms={entry.atMs} /> · #{entry.seq}
        </div>
      </>
    ),
  };
}

/** The operator (if any), how the caller was known, and where the call came from. */
export function whoColumn<E extends ChainedAuditEntry>(cellTestId?: string): Column<E> {
  return {
    header: 'Who',
    ...(cellTestId !== undefined ? { cellProps: () => ({ 'data-testid': cellTestId }) } : {}),
    cell: (entry) => (
      <>
        {entry.operator !== null ? <strong>{visibleText(entry.operator)}</strong> : null}
        <div className={entry.operator !== null ? 'cell-sub mono' : 'mono'}>{visibleText(entry.actor)}</div>
        <div className="cell-sub" title="Where the call came from">
          from <span className="mono">{visibleText(entry.peer)}</span>
        </div>
      </>
    ),
  };
}

export function targetColumn<E extends ChainedAuditEntry>(cellTestId?: string): Column<E> {
  return {
    header: 'On',
    className: 'audit-target',
    ...(cellTestId !== undefined ? { cellProps: () => ({ 'data-testid': cellTestId }) } : {}),
    cell: (entry) => (entry.target === null ? <span className="muted">—</span> : visibleText(entry.target)),
  };
}

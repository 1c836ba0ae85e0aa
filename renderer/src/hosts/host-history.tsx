import { useFactsHistory } from '../api/queries';
import { Card } from '../ui/card';
import { DataTable, type Column } from '../ui/data-table';
import { EmptyState, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { formatDateTime } from '../format/time';
import { historyWithChanges, type HistoryEntry } from './facts-diff';

const SHOWN = 20;

function probesText(count: number): string {
  if (count === SHOWN) return `last ${SHOWN} probes`;
  return count === 1 ? '1 probe' : `${count} probes`;
}

function Changes({ entry }: { entry: HistoryEntry }) {
  if (entry.changes === null) return <span className="muted">First probe stored</span>;
  if (entry.changes.length === 0) return <span className="muted">No change</span>;
  return (
    <ul className="change-list">
      {entry.changes.map((change) => (
        <li key={change.field} data-field={change.field}>
          <span className="change-label">{change.label}</span> <span className="change-before">{change.before}</span>
          <span className="change-arrow" aria-label="changed to">
            {' → '}
          </span>
          <span className="change-after">{change.after}</span>
        </li>
      ))}
    </ul>
  );
}

const COLUMNS: Array<Column<HistoryEntry>> = [
  {
    header: 'Probed',
    className: 'nowrap',
    cell: (entry) => (
      <>
        <span className="figure">{formatDateTime(entry.probedAt)}</span>
        <div className="cell-sub">
          <RelativeTime ms={entry.probedAt} />
        </div>
      </>
    ),
  },
  { header: 'Changes from the probe before', cell: (entry) => <Changes entry={entry} /> },
];

/** The host's stored probes, newest first, each with what changed since the one before. */
export function HistoryCard({ hostId }: { hostId: number }) {
  // One more than shown, so the oldest row shown has a snapshot to compare with.
  const history = useFactsHistory(hostId, SHOWN + 1);
  return (
    <Card title="History" aside={history.data ? probesText(Math.min(history.data.length, SHOWN)) : undefined} testId="facts-history">
      <QueryState
        query={history}
        loadingLabel="Loading the history…"
        errorTitle="Could not load the history"
        isEmpty={(snapshots) => snapshots.length === 0}
        empty={<EmptyState title="No probes stored yet" />}
      >
        {(snapshots) => (
          <div className="table-scroll">
            <DataTable
              columns={COLUMNS}
              rows={historyWithChanges(snapshots, SHOWN)}
              rowKey={(entry) => entry.probedAt}
              rowProps={(entry) => ({ 'data-testid': 'facts-history-row', 'data-changes': entry.changes?.length ?? '' })}
            />
          </div>
        )}
      </QueryState>
    </Card>
  );
}

import { useInfiniteQuery, type InfiniteData, type UseQueryResult } from '@tanstack/react-query';
import { useState } from 'react';
import {
  ACTIONS,
  REFUSAL_CODES,
  visibleText,
  type Action,
  type ApiError,
  type AuditEntry,
  type AuditPage as AuditEntriesPage,
  type HostKeyHistoryEvent,
  type MethodResult,
} from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { apiKey, useApiQuery } from '../api/queries';
import { formatDateTime } from '../format/time';
import { DataTable, type Column } from '../ui/data-table';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { ToolbarSearch, ToolbarSelect } from '../ui/toolbar-field';
import { useDebouncedValue } from '../ui/use-debounced-value';
import { useRangeFilters } from '../ui/use-range-filters';
import {
  AUDIT_RANGE_CHOICES,
  auditListParams,
  isAuditFiltered,
  NO_AUDIT_FILTERS,
  OUTCOME_CHOICES,
  restoreAuditFilters,
  type AuditFilters,
  type AuditRangeChoice,
  type OutcomeChoice,
} from './audit-filters';
import { AuditEntriesTable, OlderEntriesButton, targetColumn, whenColumn, whoColumn } from './audit-entries-table';
import { actionWords, methodWords } from './audit-words';
import { HostRuntimeAudit } from './host-runtime-audit';

/**
 * The audit log: every action that changed something (hosts, keys, bundles, installs,
 * process controls, the vault, operators), who took it, from where, on what, and how it
 * ended; whether the log is still as appended; and every host-key decision and refusal.
 */
export function AuditPage() {
  const { filters, change, anchorMs } = useRangeFilters<AuditFilters>('audit.filters', NO_AUDIT_FILTERS, restoreAuditFilters);
  const who = useDebouncedValue(filters.who, 300);
  const target = useDebouncedValue(filters.target, 300);
  const params = auditListParams({ ...filters, who, target }, anchorMs);
  const client = useApiClient();
  const pages = useInfiniteQuery<AuditEntriesPage, ApiError, InfiniteData<AuditEntriesPage>, readonly unknown[], number | null>({
    queryKey: apiKey('audit.list', params),
    queryFn: ({ pageParam }) => client.call('audit.list', { ...params, ...(pageParam !== null ? { after: pageParam } : {}) }),
    initialPageParam: null,
    getNextPageParam: (last) => last.next,
    gcTime: 0,
  });
  const verification = useApiQuery('audit.verify', {}, { gcTime: 0 });
  const entries = pages.data?.pages.flatMap((page) => page.entries) ?? [];
  // The entry where the chain breaks is marked in the table too.
  const broken = verification.data?.broken ?? null;
  const refresh = () => {
    void pages.refetch();
    void verification.refetch();
  };

  return (
    <section className="page" data-testid="audit-page">
      <header className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="page-sub">
            Every action that changed something, newest first: hosts added, changed and removed, keys trusted, bundles imported, installs,
            upgrades, rollbacks and uninstalls, process controls, the vault and operators; with who took it, from where, on what, and how it
            ended (refused and failed actions too). Each entry is chained to the one before by its hash, so an entry edited, removed or
            reordered afterwards shows below.
          </p>
        </div>
        <button type="button" className="button" onClick={refresh} data-testid="audit-refresh">
          Refresh and verify again
        </button>
      </header>
      <nav className="audit-jump" aria-label="Further down this page">
        <span className="muted">Further down:</span>
        <button
          type="button"
          className="button button-small"
          onClick={() => scrollToHeading('audit-runtime-logs')}
          data-testid="audit-jump-runtime"
        >
          Runtime audit logs on hosts
        </button>
        <button type="button" className="link-button" onClick={() => scrollToHeading('audit-host-keys')}>
          Host keys
        </button>
      </nav>
      <ChainStatus verification={verification} />
      <AuditFilterBar filters={filters} onChange={change} />
      {pages.isError ? <ErrorNotice title="Could not load the audit log" error={pages.error} onRetry={() => void pages.refetch()} /> : null}
      {pages.isPending ? (
        <LoadingState label="Loading the audit log…" />
      ) : entries.length === 0 ? (
        pages.isError ? null : isAuditFiltered(filters) ? (
          <EmptyState title="No entry matches these filters">
            <button type="button" className="button" onClick={() => change(NO_AUDIT_FILTERS)}>
              Clear the filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="Nothing recorded yet">
            Actions taken here, in another window or with the <span className="mono">sutazai</span> command appear here as they end.
          </EmptyState>
        )
      ) : (
        <div className="stack">
          <p className="toolbar-count" data-testid="audit-count">
            {entries.length === 1 ? 'One entry' : `${entries.length} entries`} shown{pages.hasNextPage ? ', older ones below' : ''}. Times
            are this computer’s local time.
          </p>
          <AuditEntriesTable entries={entries} columns={ENTRY_COLUMNS} rowTestId="audit-row" broken={broken} />
          <OlderEntriesButton pages={pages} testId="audit-older" />
        </div>
      )}
      <HostRuntimeAudit />
      <HostKeyHistory />
    </section>
  );
}

/** The page's router owns the URL's hash, so a section is reached by scrolling, not by an anchor link. */
function scrollToHeading(id: string): void {
  document.getElementById(id)?.scrollIntoView({ block: 'start' });
}

function ChainStatus({ verification }: { verification: UseQueryResult<MethodResult<'audit.verify'>, ApiError> }) {
  if (verification.isPending) return <LoadingState label="Verifying the audit log’s chain…" />;
  if (verification.isError)
    return <ErrorNotice title="Could not verify the audit log" error={verification.error} onRetry={() => void verification.refetch()} />;
  const { entries, head, broken } = verification.data;
  if (broken !== null)
    return (
      <div className="notice notice-error" role="alert" data-testid="audit-chain" data-state="broken" data-seq={broken.seq}>
        <div className="notice-body">
          <p className="notice-title">
            The audit log is not as it was appended: entry {broken.seq} was {broken.kind}.
          </p>
          <p className="notice-message">{broken.message}</p>
          <p className="notice-remedy">
            Someone with access to the data directory’s files changed it. Keep this data directory as evidence, restore it from a backup you
            trust, and find out who could write its files.
          </p>
        </div>
      </div>
    );
  return (
    <div className="notice" role="status" data-testid="audit-chain" data-state="intact" data-entries={entries}>
      <div className="notice-body">
        <p className="notice-title">
          {entries === 0
            ? 'Nothing recorded yet; the log is intact.'
            : `Every entry is as appended: ${entries === 1 ? 'one entry' : `${entries} entries`}, each chained to the one before.`}
        </p>
        {head !== null ? (
          <p className="notice-message">
            Newest entry {head.seq}, hash <span className="mono audit-hash">{head.hash}</span>. Note it down: a later check that still finds
            it proves nothing up to it was cut off.
          </p>
        ) : null}
      </div>
    </div>
  );
}

function AuditFilterBar({ filters, onChange }: { filters: AuditFilters; onChange: (next: Partial<AuditFilters>) => void }) {
  return (
    <div className="toolbar-group events-filters" role="group" aria-label="Filter the audit log">
      <ToolbarSearch
        label="Who"
        value={filters.who}
        placeholder="an operator, cli:, web:"
        maxLength={128}
        onChange={(who) => onChange({ who })}
        testId="audit-who"
      />
      <ToolbarSelect<Action | ''>
        label="Action"
        value={filters.action}
        choices={[{ value: '', label: 'Every action' }, ...ACTIONS.map((action) => ({ value: action, label: actionWords(action) }))]}
        onChange={(action) => onChange({ action })}
        testId="audit-action"
      />
      <ToolbarSearch
        label="Target"
        value={filters.target}
        placeholder="a host, install or process"
        onChange={(target) => onChange({ target })}
        testId="audit-target"
      />
      <ToolbarSelect<OutcomeChoice>
        label="Outcome"
        value={filters.outcome}
        choices={OUTCOME_CHOICES}
        onChange={(outcome) => onChange({ outcome })}
        testId="audit-outcome"
      />
      <ToolbarSelect<AuditRangeChoice>
        label="When"
        value={filters.range}
        choices={AUDIT_RANGE_CHOICES}
        onChange={(range) => onChange({ range })}
        testId="audit-range"
      />
    </div>
  );
}

const ENTRY_COLUMNS: Array<Column<AuditEntry>> = [
  whenColumn(),
  whoColumn('audit-who-cell'),
  {
    header: 'Action',
    cellProps: () => ({ 'data-testid': 'audit-action-cell' }),
    cell: (entry) => (
      <>
        {actionWords(entry.action)}
        <div className="cell-sub">{methodWords(entry.method)}</div>
      </>
    ),
  },
  targetColumn('audit-target-cell'),
  {
    header: 'Outcome',
    cellProps: (entry) => ({ 'data-testid': 'audit-outcome-cell', 'data-outcome': entry.outcome }),
    cell: (entry) =>
      entry.outcome === 'ok' ? (
        <span className="status status-ok">Succeeded</span>
      ) : (
        <>
          <span className={isRefusal(entry.outcome) ? 'status status-warn' : 'status status-fail'}>
            {isRefusal(entry.outcome) ? 'Refused' : 'Failed'}
          </span>
          <div className="cell-sub mono">{entry.outcome}</div>
        </>
      ),
  },
];

/** Outcomes that are a refusal to act (the contract's list: no sign-in, the role or an access policy, step-up...), not a failure of the action. */
const isRefusal = (outcome: string): boolean => (REFUSAL_CODES as readonly string[]).includes(outcome);

const KEY_EVENT_WORDS = { trusted: 'Trusted', retrusted: 'Trusted again (key changed)', refused: 'Refused (key did not match)' } as const;

/** Every host-key decision and refusal, newest first; kept, with the host's name, after the host is removed. */
function HostKeyHistory() {
  const [host, setHost] = useState('');
  const hostFilter = useDebouncedValue(host.trim(), 300);
  const events = useApiQuery('audit.hostKeys', { ...(hostFilter !== '' ? { host: hostFilter } : {}), limit: 100 }, { gcTime: 0 });
  return (
    <section className="stack" aria-labelledby="audit-host-keys" data-testid="audit-host-keys">
      <h2 id="audit-host-keys">Host keys</h2>
      <p className="page-sub">
        Each SSH host key trusted (first, or again after it changed) and each key refused because it did not match the one trusted, with who
        or what decided. Kept after the host is removed.
      </p>
      <div className="toolbar-group" role="group" aria-label="Filter the host keys">
        <ToolbarSearch label="Host" value={host} placeholder="a host’s name" onChange={setHost} testId="audit-host-keys-host" />
      </div>
      {events.isError ? (
        <ErrorNotice title="Could not load the host keys" error={events.error} onRetry={() => void events.refetch()} />
      ) : null}
      {events.isPending ? (
        <LoadingState label="Loading the host keys…" />
      ) : events.data === undefined || events.data.events.length === 0 ? (
        events.isError ? null : (
          <EmptyState title={hostFilter === '' ? 'No host key trusted or refused yet' : 'No host key event of such a host'} />
        )
      ) : (
        <div className="card table-card">
          <DataTable
            className="audit-table"
            columns={KEY_COLUMNS}
            rows={events.data.events}
            rowKey={(event) => event.id}
            rowProps={(event) => ({ 'data-testid': 'host-key-row', 'data-event': event.event, 'data-host-name': event.hostName })}
          />
          {events.data.next !== null ? <p className="muted">The 100 newest are shown; narrow by host for older ones.</p> : null}
        </div>
      )}
    </section>
  );
}

const KEY_COLUMNS: Array<Column<HostKeyHistoryEvent>> = [
  {
    header: 'When',
    className: 'nowrap',
    cell: (event) => (
      <>
        <span className="figure">{formatDateTime(event.atMs)}</span>
        <div className="cell-sub">
          <RelativeTime ms={event.atMs} />
        </div>
      </>
    ),
  },
  { header: 'Host', cell: (event) => <span className="host-name">{visibleText(event.hostName)}</span> },
  {
    header: 'Decision',
    cell: (event) => (
      <span className={event.event === 'refused' ? 'status status-fail' : 'status status-ok'}>{KEY_EVENT_WORDS[event.event]}</span>
    ),
  },
  {
    header: 'Key',
    className: 'audit-target',
    cell: (event) => (
      <>
        <span className="mono">{visibleText(event.fingerprint)}</span>
        <div className="cell-sub">
          {visibleText(event.keyType)}
          {event.previousFingerprint !== null ? (
            <>
              {' '}
              · trusted before: <span className="mono">{visibleText(event.previousFingerprint)}</span>
            </>
          ) : null}
        </div>
      </>
    ),
  },
  { header: 'By', cell: (event) => <span className="mono">{visibleText(event.source)}</span> },
];

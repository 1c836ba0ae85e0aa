import { useInfiniteQuery, type InfiniteData } from '@tanstack/react-query';
import { useId, useState } from 'react';
import {
  visibleText,
  type ApiError,
  type HostAuditVerification,
  type MethodParams,
  type MethodResult,
  type RuntimeAuditEntry,
} from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { formatDateTime } from '../format/time';
import { apiKey, useApiQuery } from '../api/queries';
import { type Column } from '../ui/data-table';
import { downloadFile } from '../ui/download-json-button';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { ToolbarSearch, ToolbarSelect } from '../ui/toolbar-field';
import { useDebouncedValue } from '../ui/use-debounced-value';
import {
  hostAuditParams,
  hostAuditExportText,
  NO_HOST_AUDIT_FILTERS,
  RUNTIME_ACTION_CHOICES,
  RUNTIME_OUTCOME_CHOICES,
  type HostAuditFilters,
} from './host-audit-filters';
import { AcceptHostReset } from './accept-host-reset';
import { AuditEntriesTable, OlderEntriesButton, targetColumn, whenColumn, whoColumn } from './audit-entries-table';

type HostLogPage = MethodResult<'audit.hostLog'>;

/**
 * Each host's runtime keeps its own audit log (every state-changing call it answered and every
 * call it refused, with the operator its token or certificate named). Chosen here by install and
 * host, read over SSH and verified at each load, filtered, and exported as JSON lines.
 */
export function HostRuntimeAudit() {
  const hostFieldId = useId();
  const installs = useApiQuery('installs.list', {});
  const [hostId, setHostId] = useState<number | null>(null);
  const [filters, setFilters] = useState<HostAuditFilters>(NO_HOST_AUDIT_FILTERS);
  const who = useDebouncedValue(filters.who, 300);
  const target = useDebouncedValue(filters.target, 300);
  const change = (next: Partial<HostAuditFilters>) => setFilters((current) => ({ ...current, ...next }));
  const hostName = installs.data?.flatMap((install) => install.hosts).find((host) => host.hostId === hostId)?.hostName ?? '';

  return (
    <section className="stack" aria-labelledby="audit-runtime-logs" data-testid="audit-runtime">
      <h2 id="audit-runtime-logs">Runtime audit logs on hosts</h2>
      <p className="page-sub">
        Each host’s runtime appends every call that changed something there (process controls, scale, the manifest, the access state pushed)
        and every call it refused, reads included, to its own hash-chained log, whoever made it: this control center, another one, or a
        client with a certificate. Choose a host to read its log over SSH; it is verified as it is read.
      </p>
      <div className="toolbar-group" role="group" aria-label="Choose a host">
        <div className="field">
          <label className="field-label" htmlFor={hostFieldId}>
            Host
          </label>
          <select
            id={hostFieldId}
            className="input"
            value={hostId === null ? '' : String(hostId)}
            onChange={(event) => setHostId(event.target.value === '' ? null : Number(event.target.value))}
            data-testid="audit-runtime-host"
          >
            <option value="">Choose a host…</option>
            {(installs.data ?? []).map((install) => (
              <optgroup key={install.name} label={`Install ${install.name}`}>
                {install.hosts
                  .filter((host) => host.state === 'installed')
                  .map((host) => (
                    <option key={host.hostId} value={host.hostId}>
                      {host.hostName}
                    </option>
                  ))}
              </optgroup>
            ))}
          </select>
        </div>
      </div>
      {installs.isError ? (
        <ErrorNotice title="Could not list the installs" error={installs.error} onRetry={() => void installs.refetch()} />
      ) : null}
      {hostId === null ? (
        installs.data !== undefined && installs.data.every((install) => install.hosts.every((host) => host.state !== 'installed')) ? (
          <EmptyState title="No host has a runtime installed yet">A host’s runtime keeps its log from its first start.</EmptyState>
        ) : null
      ) : (
        <>
          <HostAuditFilterBar filters={filters} onChange={change} />
          <HostAuditEntries hostId={hostId} hostName={hostName} params={hostAuditParams({ ...filters, who, target })} />
        </>
      )}
    </section>
  );
}

function HostAuditEntries({
  hostId,
  hostName,
  params,
}: {
  hostId: number;
  hostName: string;
  params: Omit<MethodParams<'audit.hostLog'>, 'hostId' | 'before' | 'limit'>;
}) {
  const client = useApiClient();
  const [exporting, setExporting] = useState<{ error: ApiError | null } | null>(null);
  const pages = useInfiniteQuery<HostLogPage, ApiError, InfiniteData<HostLogPage>, readonly unknown[], number | null>({
    queryKey: apiKey('audit.hostLog', { hostId, ...params, limit: 100 }),
    queryFn: ({ pageParam }) =>
      client.call('audit.hostLog', { hostId, ...params, limit: 100, ...(pageParam !== null ? { before: pageParam } : {}) }),
    initialPageParam: null,
    getNextPageParam: (last) => last.next,
    gcTime: 0,
  });
  const first = pages.data?.pages[0];
  const entries = pages.data?.pages.flatMap((page) => page.entries) ?? [];
  const broken = first?.verification.broken ?? null;

  /** Every matching entry, oldest first, one JSON object a line: the page asks for them a thousand at a time. */
  const exportLines = async () => {
    setExporting({ error: null });
    try {
      const all: RuntimeAuditEntry[] = [];
      let before: number | undefined;
      for (let page = 0; page < 1000; page += 1) {
        const result = await client.call('audit.hostLog', { hostId, ...params, limit: 1000, ...(before !== undefined ? { before } : {}) });
        all.push(...result.entries);
        if (result.next === null) break;
        before = result.next;
      }
      downloadFile(hostAuditExportText(all), `runtime-audit-${hostName || hostId}.jsonl`, 'application/x-ndjson');
      setExporting(null);
    } catch (error) {
      setExporting({ error: error as ApiError });
    }
  };

  if (pages.isPending) return <LoadingState label="Reading the runtime’s audit log over SSH…" />;
  if (pages.isError)
    return (
      <ErrorNotice
        title={`Could not read the runtime’s audit log on ${hostName}`}
        error={pages.error}
        onRetry={() => void pages.refetch()}
      />
    );
  return (
    <div className="stack">
      <HostChainStatus verification={first!.verification} />
      <AcceptHostReset hostId={hostId} verification={first!.verification} onAccepted={() => void pages.refetch()} />
      <div className="toolbar-group">
        <p className="toolbar-count" data-testid="audit-runtime-count">
          {first!.matched === 0
            ? 'No entry matches.'
            : `${entries.length} of ${first!.matched === 1 ? 'one matching entry' : `${first!.matched} matching entries`} shown, newest first.`}
        </p>
        <button type="button" className="button" onClick={() => void pages.refetch()} data-testid="audit-runtime-refresh">
          Read and verify again
        </button>
        <button
          type="button"
          className="button"
          disabled={exporting !== null && exporting.error === null}
          onClick={() => void exportLines()}
          data-testid="audit-runtime-export"
        >
          {exporting !== null && exporting.error === null ? 'Exporting…' : 'Export JSON lines'}
        </button>
      </div>
      {exporting?.error ? <ErrorNotice title="Could not export the runtime’s audit log" error={exporting.error} /> : null}
      {entries.length === 0 ? null : (
        <AuditEntriesTable entries={entries} columns={RUNTIME_COLUMNS} rowTestId="audit-runtime-row" broken={broken} />
      )}
      <OlderEntriesButton pages={pages} testId="audit-runtime-older" />
    </div>
  );
}

function HostChainStatus({ verification }: { verification: HostAuditVerification }) {
  const { broken, entries, head, kept, segments, file, remembered, rememberedError } = verification;
  if (rememberedError !== null && broken !== null)
    return (
      <div
        className="notice notice-error"
        role="alert"
        data-testid="audit-runtime-chain"
        data-state="truncated"
        data-code={rememberedError.code}
        data-seq={broken.seq}
      >
        <div className="notice-body">
          <p className="notice-title">
            {rememberedError.code === 'AUDIT_HOST_RUNTIME_REPLACED'
              ? `The runtime on ${visibleText(verification.host)} is another one, and its log does not hold the entry verified before.`
              : rememberedError.code === 'AUDIT_HOST_UNSEEN_DROPPED'
                ? `The runtime’s audit log on ${visibleText(verification.host)} dropped entries this control center never saw: it cannot be checked against the entry verified before.`
                : `The runtime’s audit log on ${visibleText(verification.host)} was cut off: it no longer holds the newest entry verified before.`}
          </p>
          <p className="notice-message">{visibleText(rememberedError.message)}</p>
          {head !== null ? (
            <p className="notice-message">
              Newest entry now {head.seq}, hash <span className="mono audit-hash">{head.hash}</span>.
            </p>
          ) : null}
          <p className="notice-remedy">{visibleText(rememberedError.remedy)}</p>
          <p className="muted mono">{rememberedError.code}</p>
        </div>
      </div>
    );
  if (broken !== null)
    return (
      <div className="notice notice-error" role="alert" data-testid="audit-runtime-chain" data-state="broken" data-seq={broken.seq}>
        <div className="notice-body">
          <p className="notice-title">
            The runtime’s audit log on {visibleText(verification.host)} is not as it was appended: entry {broken.seq} was {broken.kind}.
          </p>
          <p className="notice-message">{visibleText(broken.message)}</p>
          <p className="notice-remedy">
            Someone who could write <span className="mono">{visibleText(file)}</span> on that host (root or the runtime’s user) changed it.
            Keep the files as evidence and find out who could write them.
          </p>
        </div>
      </div>
    );
  return (
    <div className="notice" role="status" data-testid="audit-runtime-chain" data-state="intact" data-entries={entries}>
      <div className="notice-body">
        <p className="notice-title">
          Every entry is as appended: {entries === 1 ? 'one entry' : `${entries} entries`} in{' '}
          {segments === 1 ? 'one file' : `${segments} files`} (<span className="mono">{visibleText(file)}</span>
          {segments > 1 ? ' and the sealed ones beside it' : ''}), each chained to the one before.
        </p>
        {kept !== null ? (
          <p className="notice-message" data-testid="audit-runtime-kept">
            {visibleText(kept.message)}
          </p>
        ) : null}
        {head !== null ? (
          <p className="notice-message">
            Newest entry {head.seq}, hash <span className="mono audit-hash">{head.hash}</span>.
          </p>
        ) : null}
        <p className="notice-message" data-testid="audit-runtime-remembered">
          {remembered === null
            ? 'First read of this runtime’s log here: its newest entry is remembered, and every later read checks nothing up to it was cut off.'
            : `It still holds entry ${remembered.seq}, found intact ${formatDateTime(remembered.atMs)} (${visibleText(remembered.by)})${
                remembered.standing === 'dropped' ? ', since dropped by the keep cap as the log records' : ''
              }; the newest entry is remembered in its place.`}
        </p>
      </div>
    </div>
  );
}

function HostAuditFilterBar({ filters, onChange }: { filters: HostAuditFilters; onChange: (next: Partial<HostAuditFilters>) => void }) {
  return (
    <div className="toolbar-group audit-runtime-filters" role="group" aria-label="Filter the runtime's audit log">
      <ToolbarSearch
        label="Who"
        value={filters.who}
        placeholder="an operator, token:, certificate:"
        maxLength={128}
        onChange={(who) => onChange({ who })}
        testId="audit-runtime-who"
      />
      <ToolbarSelect
        label="Action"
        value={filters.action}
        choices={RUNTIME_ACTION_CHOICES}
        onChange={(action) => onChange({ action })}
        testId="audit-runtime-action"
      />
      <ToolbarSearch
        label="Target"
        value={filters.target}
        placeholder="a process, a method"
        onChange={(target) => onChange({ target })}
        testId="audit-runtime-target"
      />
      <ToolbarSelect
        label="Outcome"
        value={filters.outcome}
        choices={RUNTIME_OUTCOME_CHOICES}
        onChange={(outcome) => onChange({ outcome })}
        testId="audit-runtime-outcome"
      />
    </div>
  );
}

const RUNTIME_COLUMNS: Array<Column<RuntimeAuditEntry>> = [
  whenColumn(),
  whoColumn(),
  {
    header: 'Action',
    cell: (entry) => (
      <>
        {visibleText(entry.action).replace(/-/g, ' ')}
        <div className="cell-sub mono">{visibleText(entry.method)}</div>
      </>
    ),
  },
  targetColumn(),
  {
    header: 'Outcome',
    cellProps: (entry) => ({ 'data-outcome': entry.outcome }),
    cell: (entry) =>
      entry.outcome === 'ok' ? (
        <span className="status status-ok">Succeeded</span>
      ) : (
        <>
          <span className="status status-fail">Failed or refused</span>
          <div className="cell-sub mono">{visibleText(entry.outcome)}</div>
        </>
      ),
  },
];

import { useMemo } from 'react';
import type { Alert, FleetLink, HostSummary, InstallRecord } from '../../../electron/contract';
import { useApiQuery, useHostList } from '../api/queries';
import { formatBytes } from '../format/bytes';
import { formatPercent } from '../format/number';
import { ROLE_LABELS } from '../hosts/host-form';
import { useInstallChanges } from '../installs/use-install-changes';
import { hrefFor } from '../router/route';
import { DataTable, type Column } from '../ui/data-table';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { useNow } from '../ui/use-now';
import { useSessionState } from '../ui/use-session-state';
import {
  fleetRows,
  matchesFilter,
  memoryPercentPoints,
  SORT_KEYS,
  SORT_LABELS,
  sortRows,
  usageNow,
  type FleetRow,
  type HostUsage,
  type RowLookups,
  type SortKey,
} from './fleet-rows';
import { useFiringAlerts } from './use-fleet-alerts';
import { useFleetLinks } from './use-fleet-links';
import { useFleetProcesses, type ProcessCounts } from './use-fleet-processes';
import { ToolbarSearch, ToolbarSelect } from '../ui/toolbar-field';
import { Sparkline } from './sparkline';
import { useFleetUsage, USAGE_WINDOW_MS } from './use-fleet-usage';

export const LINK_CLASS: Record<FleetLink['state'], string> = {
  online: 'status status-ok',
  degraded: 'status status-warn',
  connecting: 'status status-pending',
  offline: 'status status-fail',
};

const STATE_CLASS: Record<FleetRow['state'], string> = {
  installed: 'status status-ok',
  installing: 'status status-pending',
  planned: 'status status-pending',
  failed: 'status status-fail',
};

/**
 * Every host of every recorded install on one screen: what it is, whether its install
 * went through, and its CPU and memory now with the last 15 minutes beside them; a filter
 * and an order that put the hosts needing a look first. Rows link to the host and the install.
 */
export function FleetOverviewPage() {
  const installs = useApiQuery('installs.list', {});
  const hosts = useHostList();
  useInstallChanges();
  return (
    <section className="page" data-testid="fleet-page">
      <header className="page-head">
        <div>
          <h1>Fleet</h1>
          <p className="page-sub">Every installed host at a glance: alerts, CPU, memory and disk now and over the last 15 minutes.</p>
        </div>
      </header>
      {installs.isError ? (
        <ErrorNotice title="Could not load the installs" error={installs.error} onRetry={() => void installs.refetch()} />
      ) : hosts.isError ? (
        <ErrorNotice title="Could not load the hosts" error={hosts.error} onRetry={() => void hosts.refetch()} />
      ) : !installs.data || !hosts.data ? (
        <LoadingState label="Loading the fleet…" />
      ) : installs.data.length === 0 ? (
        <EmptyState title="Nothing installed yet">
          The fleet is the hosts of your installs. <a href={hrefFor({ name: 'install' })}>The Install page</a> walks you through a first
          one.
        </EmptyState>
      ) : (
        <FleetTable installs={installs.data} hosts={hosts.data} />
      )}
    </section>
  );
}

function FleetTable({ installs, hosts }: { installs: InstallRecord[]; hosts: HostSummary[] }) {
  const rows = useMemo(() => fleetRows(installs, hosts), [installs, hosts]);
  const usage = useFleetUsage(useMemo(() => rows.map((r) => ({ hostId: r.hostId, gpuCount: r.gpuCount })), [rows]));
  const alerts = useFiringAlerts();
  const links = useFleetLinks();
  // Only hosts whose link is up are asked for their processes; the link says why the others are not.
  const reachable = useMemo(
    () => rows.map((r) => r.hostId).filter((id) => ['online', 'degraded'].includes(links.byHost.get(id)?.state ?? '')),
    [rows, links.byHost],
  );
  const processes = useFleetProcesses(reachable);
  const [filter, setFilter] = useSessionState('fleet.filter', '', (v) => (typeof v === 'string' ? v : null));
  const [sort, setSort] = useSessionState<SortKey>('fleet.sort', 'name', (v) => (SORT_KEYS.includes(v as SortKey) ? (v as SortKey) : null));
  const now = useNow(10_000);
  const lookups: RowLookups = {
    usage: (row) => usageNow(row, usage.byHost.get(row.hostId)),
    link: (row) => links.byHost.get(row.hostId),
    firing: (row) => alerts.byHost.get(row.hostId)?.length ?? 0,
    down: (row) => processes.byHost.get(row.hostId)?.unhealthy ?? null,
  };
  const shown = sortRows(
    rows.filter((r) => matchesFilter(r, filter, links.byHost.get(r.hostId))),
    sort,
    lookups,
  );
  const failedInstalls = rows.filter((r) => r.state === 'failed').length;
  const offline = rows.filter((r) => links.byHost.get(r.hostId)?.state === 'offline').length;
  // Links that wait for the vault: said once, with the way to open it, rather than on every line.
  const waiting = [...links.byHost.values()].filter((l) => l.state === 'offline' && l.reason?.code === 'SECRETS_LOCKED');
  const problems = [
    ...(offline > 0 ? [`${offline} offline`] : []),
    ...(failedInstalls > 0 ? [`${failedInstalls} whose install failed`] : []),
  ];
  return (
    <div className="stack">
      <div className="toolbar-group fleet-toolbar">
        <span className="toolbar-count" data-testid="fleet-count">
          {`${rows.length} hosts in ${installs.length} ${installs.length === 1 ? 'install' : 'installs'}`}
          {problems.length > 0 ? `: ${problems.join(', ')}` : ''}
          {shown.length !== rows.length ? ` · ${shown.length} shown` : ''}
        </span>
        <ToolbarSearch label="Filter" value={filter} placeholder="install, host, role, state" onChange={setFilter} testId="fleet-filter" />
        <ToolbarSelect
          label="Order"
          value={sort}
          choices={SORT_KEYS.map((key) => ({ value: key, label: SORT_LABELS[key] }))}
          onChange={setSort}
          testId="fleet-sort"
        />
      </div>
      {alerts.all.length > 0 ? <FiringAlerts alerts={alerts.all} /> : null}
      {alerts.query.isError ? (
        <ErrorNotice title="The alerts could not be read" error={alerts.query.error} onRetry={() => void alerts.query.refetch()} />
      ) : null}
      {waiting.length > 0 ? (
        <div data-testid="fleet-links-locked">
          <ErrorNotice
            title={`${waiting.length === 1 ? 'One link waits' : `${waiting.length} links wait`} for the sealed secrets to be unlocked`}
            error={waiting[0]!.reason}
          />
        </div>
      ) : null}
      {links.query.isError ? (
        <ErrorNotice title="The hosts' links could not be read" error={links.query.error} onRetry={() => void links.query.refetch()} />
      ) : null}
      {usage.failed.length > 0 ? (
        <ErrorNotice
          title={`The history of ${usage.failed.length === 1 ? 'one host' : `${usage.failed.length} hosts`} could not be read`}
          error={usage.failed[0]!.error}
        />
      ) : null}
      {shown.length === 0 ? (
        <EmptyState title="No host matches the filter">
          <button type="button" className="button" onClick={() => setFilter('')}>
            Clear the filter
          </button>
        </EmptyState>
      ) : (
        <div className="card table-card">
          <DataTable
            className="fleet-table"
            columns={columns(
              now,
              usage.byHost,
              lookups,
              { alerts: alerts.byHost, processes: processes.byHost },
              { links: links.query.isSuccess, gpus: rows.some((r) => r.gpuCount > 0) },
            )}
            rows={shown}
            rowKey={(row) => row.hostId}
            rowProps={(row) => ({
              'data-testid': 'fleet-row',
              'data-host-name': row.host,
              'data-install-name': row.install,
              'data-state': row.state,
            })}
          />
        </div>
      )}
    </div>
  );
}

function columns(
  nowMs: number,
  usage: Map<number, HostUsage>,
  lookups: RowLookups,
  known: { alerts: Map<number | null, Alert[]>; processes: Map<number, ProcessCounts> },
  show: { links: boolean; gpus: boolean },
): Array<Column<FleetRow>> {
  const fromMs = nowMs - USAGE_WINDOW_MS;
  const nowOf = lookups.usage;
  const all: Array<Column<FleetRow> & { only?: boolean }> = [
    {
      header: 'Host',
      cell: (row) => (
        <>
          <a className="host-name" href={hrefFor({ name: 'host', hostId: row.hostId })}>
            {row.host}
          </a>
          <div className="cell-sub">
            <a href={hrefFor({ name: 'installed', installName: row.install })}>{row.install}</a> · {ROLE_LABELS[row.role]} ·{' '}
            {row.state === 'installed' ? (
              <span className="mono" data-testid="fleet-release">
                {row.release ?? 'no release'}
              </span>
            ) : (
              <span className={STATE_CLASS[row.state]} data-testid="fleet-install-state">
                install {row.state}
              </span>
            )}
          </div>
        </>
      ),
    },
    {
      only: show.links,
      header: 'Link',
      cellProps: (row) => ({ 'data-testid': 'fleet-link', 'data-link-state': lookups.link(row)?.state ?? '' }),
      cell: (row) => <LinkCell link={lookups.link(row)} />,
    },
    {
      header: 'Alerts',
      cellProps: (row) => ({ 'data-testid': 'fleet-alerts', 'data-firing': lookups.firing(row) }),
      cell: (row) => <AlertsCell alerts={known.alerts.get(row.hostId) ?? []} />,
    },
    {
      only: show.links,
      header: 'Processes',
      cellProps: (row) => {
        const counts = known.processes.get(row.hostId);
        return {
          'data-testid': 'fleet-processes',
          'data-healthy': counts?.healthy ?? '',
          'data-unhealthy': counts?.unhealthy ?? '',
          'data-stopped': counts?.stopped ?? '',
        };
      },
      cell: (row) => <ProcessesCell counts={known.processes.get(row.hostId)} />,
    },
    {
      header: 'CPU',
      numeric: true,
      cellProps: (row) => ({ 'data-testid': 'fleet-cpu', 'data-value': nowOf(row).cpuPercent ?? '' }),
      cell: (row) => (
        <Usage
          figure={nowOf(row).cpuPercent}
          text={(v) => formatPercent(v, 0)}
          sparkline={
            <Sparkline
              points={usage.get(row.hostId)?.cpu ?? []}
              fromMs={fromMs}
              toMs={nowMs}
              max={100}
              label={`CPU of ${row.host} over the last 15 minutes`}
              testId="fleet-cpu-sparkline"
            />
          }
        />
      ),
    },
    {
      header: 'Memory',
      numeric: true,
      cellProps: (row) => ({ 'data-testid': 'fleet-memory', 'data-value': nowOf(row).memoryPercent ?? '' }),
      cell: (row) => (
        <Usage
          figure={nowOf(row).memoryPercent}
          text={(v) => formatPercent(v, 0)}
          title={row.memoryTotalBytes !== null ? `of ${formatBytes(row.memoryTotalBytes)}` : undefined}
          sparkline={
            <Sparkline
              points={(() => {
                const u = usage.get(row.hostId);
                return u ? memoryPercentPoints(row, u) : [];
              })()}
              fromMs={fromMs}
              toMs={nowMs}
              max={100}
              label={`Memory of ${row.host} over the last 15 minutes`}
              testId="fleet-memory-sparkline"
            />
          }
        />
      ),
    },
    {
      header: 'Disk (/)',
      numeric: true,
      cellProps: (row) => ({ 'data-testid': 'fleet-disk', 'data-value': nowOf(row).diskPercent ?? '' }),
      cell: (row) => (
        <Usage
          figure={nowOf(row).diskPercent}
          text={(v) => formatPercent(v, 0)}
          sparkline={
            <Sparkline
              points={usage.get(row.hostId)?.disk ?? []}
              fromMs={fromMs}
              toMs={nowMs}
              max={100}
              label={`Use of the root filesystem of ${row.host} over the last 15 minutes`}
              testId="fleet-disk-sparkline"
            />
          }
        />
      ),
    },
    {
      only: show.gpus,
      header: 'GPU',
      numeric: true,
      cellProps: (row) => ({ 'data-testid': 'fleet-gpu', 'data-value': nowOf(row).gpuPercent ?? '' }),
      cell: (row) => {
        const { gpuPercent, gpuIndex } = nowOf(row);
        if (row.gpuCount === 0) return <span className="muted">none</span>;
        return (
          <Usage
            figure={gpuPercent}
            text={(v) => `${formatPercent(v, 0)}${row.gpuCount > 1 ? ` (GPU ${gpuIndex})` : ''}`}
            sparkline={
              <Sparkline
                points={usage.get(row.hostId)?.gpus[gpuIndex ?? 0] ?? []}
                fromMs={fromMs}
                toMs={nowMs}
                max={100}
                label={`Utilisation of the busiest GPU of ${row.host} over the last 15 minutes`}
                testId="fleet-gpu-sparkline"
              />
            }
          />
        );
      },
    },
    {
      // With links, "seen" says when each runtime was last heard from.
      only: !show.links,
      header: 'Last sample',
      cell: (row) => <RelativeTime ms={nowOf(row).lastSampleMs} never="none in 15 min" testId="fleet-last-sample" />,
    },
  ];
  return all.filter((column) => column.only !== false);
}

/** The link's state in words, when the runtime was last heard from, and why it is down (whole on hover). */
function LinkCell({ link }: { link: FleetLink | undefined }) {
  if (!link) return <span className="muted">no link</span>;
  const why = link.reason && link.state !== 'online' ? link.reason : null;
  return (
    <>
      <span className={LINK_CLASS[link.state]}>{link.state}</span>
      <div className="cell-sub fleet-link-reason" title={why ? `${why.message} ${why.remedy}` : undefined}>
        {link.lastSeenMs === null ? (
          <span data-testid="fleet-last-seen">never seen</span>
        ) : (
          <>
            seen <RelativeTime ms={link.lastSeenMs} testId="fleet-last-seen" />
          </>
        )}
        {why ? <span data-testid="fleet-link-reason"> · {why.message}</span> : null}
      </div>
    </>
  );
}

/** Instances by health: running, meant to run but not, stopped on purpose. */
function ProcessesCell({ counts }: { counts: ProcessCounts | undefined }) {
  if (!counts) return <span className="muted">—</span>;
  return (
    <span className="fleet-processes">
      <span className="status status-ok">{counts.healthy} running</span>
      {counts.unhealthy > 0 ? <span className="status status-fail">{counts.unhealthy} down</span> : null}
      {counts.stopped > 0 ? <span className="status status-pending">{counts.stopped} stopped</span> : null}
    </span>
  );
}

const SEVERITY_RANK: Record<Alert['severity'], number> = { critical: 0, warning: 1, info: 2 };

/** The firing alerts, worst first, as sentences (Cockpit's health card: problems first). */
function FiringAlerts({ alerts }: { alerts: Alert[] }) {
  const worst = [...alerts].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.firingSinceMs! - b.firingSinceMs!);
  return (
    <div className="notice notice-error" role="status" data-testid="fleet-firing">
      <div className="notice-body">
        <p className="notice-title">{alerts.length === 1 ? 'One alert is firing' : `${alerts.length} alerts are firing`}</p>
        <ul className="plain-list">
          {worst.slice(0, 5).map((alert) => (
            <li key={alert.id} data-testid="fleet-firing-alert" data-rule={alert.rule}>
              <span className={alert.severity === 'critical' ? 'status status-fail' : 'status status-warn'}>{alert.severity}</span>{' '}
              {alert.summary}{' '}
              <span className="muted">
                since <RelativeTime ms={alert.firingSinceMs} />
              </span>
            </li>
          ))}
        </ul>
        {alerts.length > 5 ? (
          <p className="muted">and {alerts.length - 5} more; order by “Most alerts first” to find their hosts.</p>
        ) : null}
      </div>
    </div>
  );
}

function AlertsCell({ alerts }: { alerts: Alert[] }) {
  if (alerts.length === 0) return <span className="muted">none</span>;
  const critical = alerts.some((a) => a.severity === 'critical');
  return (
    <span className={critical ? 'status status-fail' : 'status status-warn'} title={alerts.map((a) => a.summary).join('\n')}>
      {alerts.length} firing
    </span>
  );
}

function Usage({
  figure,
  text,
  title,
  sparkline,
}: {
  figure: number | null;
  text: (value: number) => string;
  title?: string | undefined;
  sparkline: React.ReactNode;
}) {
  return (
    <div className="fleet-usage" title={title}>
      {sparkline}
      <span className="figure fleet-usage-figure">{figure === null ? <span className="muted">—</span> : text(figure)}</span>
    </div>
  );
}

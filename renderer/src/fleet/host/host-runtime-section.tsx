import { visibleText, type FleetInstance, type FleetLink, type FleetProcess } from '../../../../electron/contract';
import { useApiQuery } from '../../api/queries';
import { formatBytes } from '../../format/bytes';
import { formatPercent } from '../../format/number';
import { formatClock, formatDuration } from '../../format/time';
import { hrefFor } from '../../router/route';
import { Card } from '../../ui/card';
import { DataTable, type Column } from '../../ui/data-table';
import { ErrorNotice, LoadingState } from '../../ui/query-state';
import { RelativeTime } from '../../ui/relative-time';
import { LINK_CLASS } from '../fleet-overview-page';
import { useFleetLinks } from '../use-fleet-links';
import { HostChartsCard } from './host-charts';
import { ProcessControls } from './process-controls';

/** The live table is read again this often (and after every action). */
const TABLE_REFRESH_MS = 3_000;

/**
 * What an installed host's runtime says, on the host's own page (one page per host: the
 * facts and connection above, the runtime here): its link, its processes with their
 * controls, and its charts over a chosen range. Nothing for a host no install reached.
 */
export function HostRuntimeSection({ hostId, atMs }: { hostId: number; atMs?: number | undefined }) {
  const links = useFleetLinks();
  const link = links.byHost.get(hostId);
  if (!link) return null;
  return (
    <div className="host-runtime" data-testid="host-runtime">
      <LinkCard link={link} />
      <ProcessesCard hostId={hostId} online={link.state !== 'offline'} />
      <HostChartsCard hostId={hostId} processes atMs={atMs} />
    </div>
  );
}

function LinkCard({ link }: { link: FleetLink }) {
  const why = link.reason && link.state !== 'online' ? link.reason : null;
  return (
    <Card
      title="Runtime link"
      aside={<a href={hrefFor({ name: 'installed', installName: link.installName })}>Install: {link.installName}</a>}
    >
      <p data-testid="host-link" data-link-state={link.state}>
        <span className={LINK_CLASS[link.state]}>{link.state}</span> since <RelativeTime ms={link.sinceMs} />
        {' · '}
        {link.lastSeenMs === null ? (
          'never heard from'
        ) : (
          <>
            last heard from <RelativeTime ms={link.lastSeenMs} />
          </>
        )}
      </p>
      {why ? <ErrorNotice title="Why" error={why} /> : null}
    </Card>
  );
}

function ProcessesCard({ hostId, online }: { hostId: number; online: boolean }) {
  const table = useApiQuery('fleet.processes', { hostId }, { refetchInterval: TABLE_REFRESH_MS, enabled: online });
  return (
    <Card title="Processes" aside={table.data ? <span className="muted">as of {formatClock(table.data.atMs)}</span> : undefined}>
      {!online ? <p className="muted">The link is offline: the runtime cannot be asked. The table comes back when the link does.</p> : null}
      {online && table.isPending ? <LoadingState label="Asking the runtime…" /> : null}
      {table.isError ? <ErrorNotice title="Could not read the processes" error={table.error} onRetry={() => void table.refetch()} /> : null}
      {table.data ? (
        <div className="process-list" data-testid="process-table">
          {table.data.processes.map((process) => (
            <ProcessBlock key={process.name} hostId={hostId} process={process} />
          ))}
        </div>
      ) : null}
    </Card>
  );
}

const HEALTH_CLASS: Record<FleetInstance['health'], string> = {
  healthy: 'status status-ok',
  unhealthy: 'status status-fail',
  stopped: 'status status-pending',
};

function instanceColumns(hostId: number, process: string): Array<Column<FleetInstance>> {
  return [
    {
      header: 'Instance',
      cellProps: () => ({ 'data-testid': 'instance-name' }),
      cell: (i) => <a href={hrefFor({ name: 'fleet-process', hostId, process, instance: i.instance })}>{i.instance}</a>,
    },
    { header: 'Replica', numeric: true, cell: (i) => i.replica },
    { header: 'State', cellProps: () => ({ 'data-testid': 'instance-state' }), cell: (i) => i.state },
    { header: 'PID', numeric: true, cellProps: () => ({ 'data-testid': 'instance-pid' }), cell: (i) => i.pid ?? '—' },
    { header: 'Uptime', numeric: true, cell: (i) => (i.uptimeMs === null ? '—' : formatDuration(i.uptimeMs)) },
    { header: 'Restarts', numeric: true, cellProps: () => ({ 'data-testid': 'instance-restarts' }), cell: (i) => i.restarts },
    { header: 'CPU', numeric: true, cell: (i) => (i.cpuPercent === null ? '—' : formatPercent(i.cpuPercent, 1)) },
    { header: 'RSS', numeric: true, cell: (i) => (i.rssBytes === null ? '—' : formatBytes(i.rssBytes)) },
    {
      header: 'Health',
      cell: (i) => (
        <>
          <span className={HEALTH_CLASS[i.health]}>{i.health}</span>
          {i.lastError ? (
            <div className="cell-sub" title={visibleText(i.lastError.remedy)}>
              {visibleText(i.lastError.message)}
            </div>
          ) : null}
        </>
      ),
    },
  ];
}

function ProcessBlock({ hostId, process }: { hostId: number; process: FleetProcess }) {
  return (
    <section className="process-block" data-testid="process" data-process={process.name} data-replicas={process.replicas}>
      <header className="process-block-head">
        <h3 className="process-block-title">
          <a href={hrefFor({ name: 'fleet-process', hostId, process: process.name })}>{process.name}</a>{' '}
          <span className="muted">
            {process.replicas} replica{process.replicas === 1 ? '' : 's'}
          </span>
        </h3>
        <ProcessControls hostId={hostId} process={process} />
      </header>
      {process.instances.length === 0 ? (
        <p className="muted">No instance runs (scaled to 0).</p>
      ) : (
        <DataTable
          className="process-table"
          columns={instanceColumns(hostId, process.name)}
          rows={process.instances}
          rowKey={(i) => i.instance}
          rowProps={(i) => ({ 'data-testid': 'instance', 'data-instance': i.instance, 'data-state': i.state })}
        />
      )}
    </section>
  );
}

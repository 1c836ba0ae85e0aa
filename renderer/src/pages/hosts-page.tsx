import type { HostSummary } from '../../../electron/contract';
import { useHostList } from '../api/queries';
import { EmptyState, QueryState } from '../components/query-state';
import { RelativeTime } from '../components/relative-time';
import { formatBytes } from '../format/bytes';
import { hrefFor } from '../router/route';
import { navigate } from '../router/use-route';

function gpuText(count: number | null): string {
  if (count === null) return '—';
  return count === 0 ? 'None' : String(count);
}

function HostRow({ host }: { host: HostSummary }) {
  const href = hrefFor({ name: 'host', hostId: host.id });
  return (
    <tr
      className="row-link"
      data-testid="host-row"
      data-host-name={host.name}
      onClick={(event) => {
        // Let the link inside handle its own clicks (and middle or modified clicks).
        if ((event.target as Element).closest('a')) return;
        navigate({ name: 'host', hostId: host.id });
      }}
    >
      <td>
        <a className="host-name" href={href}>
          {host.name}
        </a>
        {host.address && host.address !== host.name ? <div className="cell-sub">{host.address}</div> : null}
      </td>
      <td>
        <span className={`badge badge-${host.kind}`}>{host.kind === 'local' ? 'Local' : 'SSH'}</span>{' '}
        <span className={host.lastProbedAt === null ? 'status status-pending' : 'status status-ok'}>
          {host.lastProbedAt === null ? 'Not probed' : 'Probed'}
        </span>
      </td>
      <td>{host.os ?? <span className="muted">—</span>}</td>
      <td className="cell-clip" title={host.cpuModel ?? undefined}>
        {host.cpuModel ?? <span className="muted">—</span>}
      </td>
      <td className="num">{host.cpuThreads ?? '—'}</td>
      <td className="num">{host.memoryBytes === null ? '—' : formatBytes(host.memoryBytes)}</td>
      <td className="num">{gpuText(host.gpuCount)}</td>
      <td>
        <RelativeTime ms={host.lastProbedAt} />
      </td>
    </tr>
  );
}

export function HostsPage() {
  const hosts = useHostList();
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Hosts</h1>
          <p className="page-sub">Machines this control center manages, with the hardware they last reported.</p>
        </div>
      </header>
      <QueryState
        query={hosts}
        loadingLabel="Loading hosts…"
        errorTitle="Could not load the hosts"
        isEmpty={(list) => list.length === 0}
        empty={
          <EmptyState title="No hosts yet">
            The local machine appears here once the backend has probed it.
          </EmptyState>
        }
      >
        {(list) => (
          <div className="card table-card">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind / status</th>
                  <th scope="col">OS</th>
                  <th scope="col">CPU model</th>
                  <th scope="col" className="num">
                    Threads
                  </th>
                  <th scope="col" className="num">
                    Memory
                  </th>
                  <th scope="col" className="num">
                    GPUs
                  </th>
                  <th scope="col">Last probed</th>
                </tr>
              </thead>
              <tbody>
                {list.map((host) => (
                  <HostRow key={host.id} host={host} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </section>
  );
}

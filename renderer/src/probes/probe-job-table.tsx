import { formatDuration } from '../format/time';
import { elapsedOf, isFinal, type ProbeHostRow, type ProbeJobView, type ProbeState } from './probe-progress';
import { hrefFor } from '../router/route';
import { VaultUnlockOffer } from '../vault/vault-unlock';

const STATE_TEXT: Record<ProbeState, string> = {
  queued: 'Queued',
  connecting: 'Connecting',
  probing: 'Probing',
  storing: 'Storing',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function StateBadge({ state }: { state: ProbeState }) {
  const running = !isFinal(state) && state !== 'queued';
  return (
    <span className={`badge probe-state probe-state-${state}`} data-testid="probe-state" data-state={state}>
      {running ? <span className="spinner spinner-small" aria-hidden="true" /> : null}
      {STATE_TEXT[state]}
    </span>
  );
}

function ProbeRow({ row, now }: { row: ProbeHostRow; now: number }) {
  return (
    <tr data-testid="probe-row" data-host-name={row.hostName} data-state={row.state}>
      <td>
        <a className="host-name" href={hrefFor({ name: 'host', hostId: row.hostId })}>
          {row.hostName}
        </a>
      </td>
      <td>
        <StateBadge state={row.state} />
      </td>
      <td className="num">{row.state === 'queued' ? <span className="muted">—</span> : formatDuration(elapsedOf(row, now))}</td>
      <td>
        {row.error ? (
          <div className="probe-error">
            <p className="notice-message">{row.error.message}</p>
            <p className="notice-remedy">{row.error.remedy}</p>
            <p className="notice-code">{row.error.code}</p>
            {row.error.code === 'SECRETS_LOCKED' ? <VaultUnlockOffer /> : null}
          </div>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

/** One row per host of a bulk probe: its state as it moves, how long it took, and why it failed. */
export function ProbeJobTable({ view, now }: { view: ProbeJobView; now: number }) {
  return (
    <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">State</th>
            <th scope="col" className="num">
              Elapsed
            </th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {view.hosts.map((row) => (
            <ProbeRow key={row.hostId} row={row} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

import type { InstallHealth } from '../../../electron/contract';
import { useApiAction } from '../api/use-api-action';
import { ErrorNotice } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';

/** Each host's runtime asked on demand (installs.health): reachable, and every process with its replicas running. */
export function InstallHealthPanel({ name }: { name: string }) {
  const health = useApiAction('installs.health');
  const result = health.state.status === 'success' ? health.state.result : null;
  return (
    <div className="stack" data-testid="install-health">
      <div className="actions">
        <button
          type="button"
          className="button"
          onClick={() => void health.run({ name })}
          disabled={health.pending}
          data-testid="install-health-check"
        >
          {health.pending ? 'Asking the runtimes…' : result ? 'Check health again' : 'Check health'}
        </button>
        {result ? (
          <span
            className={`badge ${result.healthy ? 'job-host-state-installed' : 'job-host-state-failed'}`}
            data-testid="install-health-state"
            data-healthy={String(result.healthy)}
          >
            {result.healthy ? 'Healthy' : 'Not healthy'} · <RelativeTime ms={result.checkedAt} />
          </span>
        ) : null}
      </div>
      {health.state.status === 'error' ? <ErrorNotice title="Could not ask the runtimes" error={health.state.error} /> : null}
      {result ? <HealthHosts health={result} /> : null}
    </div>
  );
}

function HealthHosts({ health }: { health: InstallHealth }) {
  return (
    <ul className="plain-list">
      {health.hosts.map((host) => (
        <li
          key={host.hostId}
          data-testid="install-health-host"
          data-host-name={host.host}
          data-healthy={String(host.healthy)}
          data-reachable={String(host.reachable)}
          data-via={host.via?.kind}
          title={host.via?.note}
        >
          <strong className="host-name">{host.host}</strong>{' '}
          {host.error ? (
            <ErrorNotice title={`${host.host} could not be asked`} error={host.error} />
          ) : (
            <span className="muted">
              {host.runtime ? `bundle ${host.runtime.bundleVersion}: ` : ''}
              {host.processes
                .map((p) => `${p.name} ${p.instances.filter((i) => i.state === 'running').length}/${p.replicas} running`)
                .join(', ') || 'no processes'}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

import type { InstallHealth } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { Card } from '../ui/card';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { formatDateTime, formatDuration } from '../format/time';
import { hrefFor } from '../router/route';
import { navigate } from '../router/use-route';
import type { WizardDraftHandle } from './use-wizard-draft';
import { WizardNav } from './wizard-nav';

function HostHealth({ host }: { host: InstallHealth['hosts'][number] }) {
  return (
    <section
      className="wizard-host"
      data-testid="wizard-health-host"
      data-host-name={host.host}
      data-healthy={String(host.healthy)}
      data-reachable={String(host.reachable)}
    >
      <header className="wizard-host-head">
        <h3 className="host-name">
          <a href={hrefFor({ name: 'host', hostId: host.hostId })}>{host.host}</a>
        </h3>
        {host.healthy ? (
          <span className="status status-ok">Healthy</span>
        ) : host.reachable ? (
          <span className="status status-warn">Not healthy</span>
        ) : (
          <span className="status status-fail">Unreachable</span>
        )}
        {host.runtime ? (
          <span className="muted">
            runtime {host.runtime.version}, bundle {host.runtime.bundleVersion}, up {formatDuration(host.runtime.uptimeMs)}
          </span>
        ) : null}
      </header>
      {host.error ? <ErrorNotice title={`The runtime on ${host.host} did not answer`} error={host.error} /> : null}
      {host.processes.length > 0 ? (
        <div className="table-scroll-flat">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Process</th>
                <th scope="col">Instance</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  PID
                </th>
                <th scope="col" className="num">
                  Restarts
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {host.processes.flatMap((process) =>
                process.instances.map((instance) => (
                  <tr
                    key={`${process.name}/${instance.instance}`}
                    data-testid="wizard-health-process"
                    data-process={process.name}
                    data-state={instance.state}
                  >
                    <td className="mono">{process.name}</td>
                    <td className="mono">{instance.instance}</td>
                    <td>
                      <span className={instance.state === 'running' ? 'status status-ok' : 'status status-warn'}>
                        {instance.state.replace('_', ' ')}
                      </span>
                    </td>
                    <td className="num">{instance.pid || '—'}</td>
                    <td className="num">{instance.restarts}</td>
                    <td className={instance.lastError ? '' : 'muted'}>{instance.lastError ?? '—'}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** Step 8: each machine's runtime asked now, through its SSH tunnel: reachable, and every process running. */
export function DoneStep({ wizard }: { wizard: WizardDraftHandle }) {
  const name = wizard.draft.installName;
  const health = useApiQuery('installs.health', { name }, { staleTime: 0, gcTime: 0 });
  const data = health.data;
  // The draft is done with; the install's own page is where it is watched from now on.
  const finish = async () => {
    await wizard.discard();
    navigate({ name: 'installed', installName: name });
  };
  return (
    <div className="stack" data-testid="wizard-done-step">
      <Card
        title={`The runtimes of ${name}`}
        aside={data ? `asked ${formatDateTime(data.checkedAt)}` : undefined}
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void health.refetch()}
            disabled={health.isFetching}
            data-testid="wizard-health-again"
          >
            {health.isFetching ? 'Asking…' : 'Check again'}
          </button>
        }
      >
        <div className="stack">
          {health.isError ? (
            <ErrorNotice title="The runtimes could not be asked" error={health.error} onRetry={() => void health.refetch()} />
          ) : null}
          {!data && health.isFetching ? <LoadingState label="Asking each machine’s runtime…" /> : null}
          {data ? (
            <div className="stack" data-testid="wizard-health" data-healthy={String(data.healthy)}>
              <p className={data.healthy ? 'key-panel key-panel-ok' : 'key-panel'} role="status">
                {data.healthy
                  ? `Done: every machine’s runtime answers, and every process runs with all its replicas.`
                  : 'Not every machine is healthy yet: a process may still be starting. Check again, or open the machine to see why.'}
              </p>
              {data.hosts.map((host) => (
                <HostHealth key={host.hostId} host={host} />
              ))}
            </div>
          ) : null}
        </div>
      </Card>
      <WizardNav onBack={() => void wizard.go('install')} nextLabel="Finish" onNext={() => void finish()}>
        <a className="button" href={hrefFor({ name: 'hosts' })}>
          Go to Hosts
        </a>
      </WizardNav>
    </div>
  );
}

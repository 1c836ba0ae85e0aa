import type { InstallRecord } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { EmptyState, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { ROLE_LABELS } from '../hosts/host-form';
import { InstallHealthPanel } from './install-health-panel';
import { currentRelease, runningText } from './install-view';
import { useInstallChanges } from './use-install-changes';
import { hrefFor } from '../router/route';

/** The recorded installs: what each runs and its hosts, with each host's role and current release; health on demand. */
export function InstallsPage() {
  const installs = useApiQuery('installs.list', {});
  useInstallChanges();
  return (
    <section className="page" data-testid="installs-page">
      <header className="page-head">
        <div>
          <h1>Installs</h1>
          <p className="page-sub">What was installed where: upgrade, roll back or remove an install from its page.</p>
        </div>
        <div className="actions">
          <a className="button" href={hrefFor({ name: 'install' })}>
            New install
          </a>
        </div>
      </header>
      <QueryState
        query={installs}
        loadingLabel="Loading installs…"
        errorTitle="Could not load the installs"
        isEmpty={(data) => data.length === 0}
        empty={<EmptyState title="Nothing installed yet">The Install page walks you through a first install.</EmptyState>}
      >
        {(data) => (
          <div className="stack">
            {data.map((install) => (
              <InstallSummary key={install.id} install={install} />
            ))}
          </div>
        )}
      </QueryState>
    </section>
  );
}

function InstallSummary({ install }: { install: InstallRecord }) {
  return (
    <section className="card" data-testid="install-row" data-install-name={install.name}>
      <header className="card-head card-head-actions">
        <h2>
          <a href={hrefFor({ name: 'installed', installName: install.name })} data-testid="install-link">
            {install.name}
          </a>
        </h2>
        <div className="card-head-side">
          <span className="card-aside">
            <span data-testid="install-running">{runningText(install)}</span> · updated <RelativeTime ms={install.updatedAt} />
          </span>
        </div>
      </header>
      <div className="card-body stack">
        <ul className="plain-list">
          {install.hosts.map((host) => (
            <li key={host.hostId} data-testid="install-row-host" data-host-name={host.hostName} data-release={currentRelease(host) ?? ''}>
              <span className="host-name">{host.hostName}</span> <span className="muted">{ROLE_LABELS[host.role]}</span>{' '}
              <span className="mono">{currentRelease(host) ?? 'no release yet'}</span> <span className="muted">({host.state})</span>
            </li>
          ))}
        </ul>
        <InstallHealthPanel name={install.name} />
      </div>
    </section>
  );
}

import { useState } from 'react';
import { ApiError, type InstallRecord } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { Card } from '../ui/card';
import { EmptyState, ErrorNotice, LoadingState, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { ROLE_LABELS } from '../hosts/host-form';
import { FollowedJob } from './followed-job';
import { InstallHealthPanel } from './install-health-panel';
import { InstallJobsTable } from './install-jobs-table';
import { RollbackDialog } from './rollback-dialog';
import { UninstallDialog } from './uninstall-dialog';
import { UpgradeCard } from './upgrade-card';
import { useInstallChanges } from './use-install-changes';
import { hrefFor } from '../router/route';
import { useAllowed } from '../operators/use-session';
import { canRollBack, currentRelease, rollbackChoices, runningText } from './install-view';
import { DeniedNote } from '../operators/denied-note';

type Dialog = { kind: 'rollback' | 'uninstall'; host?: string } | null;

/**
 * One recorded install: its hosts with their current and kept releases, the upgrade an
 * imported bundle offers, roll back and uninstall (per host or all), the job running or
 * opened with its live progress, and the install's recent jobs.
 */
export function InstalledPage({ installName, upgradeTo }: { installName: string; upgradeTo?: string }) {
  const record = useApiQuery('installs.get', { name: installName });
  const jobs = useApiQuery('installs.jobs', { name: installName, limit: 10 });
  const [opened, setOpened] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  useInstallChanges();
  const runningJob = jobs.data?.find((job) => job.state === 'running') ?? null;
  // A job just started or opened is followed; else the one running (a reloaded window picks it up).
  const followed = opened ?? runningJob?.jobId ?? null;
  const busy = runningJob !== null;
  // Rolling back and uninstalling are an admin's; disabled with the reason for the others (and where the install's policy refuses them).
  const rollingBack = useAllowed('rollback', { install: installName });
  const uninstalling = useAllowed('uninstall', { install: installName });
  const started = (jobId: string) => {
    setDialog(null);
    setOpened(jobId);
    void jobs.refetch();
  };
  const gone = record.isError && record.error instanceof ApiError && record.error.code === 'NOT_FOUND';
  // A failed read keeps the data read before: once the install is gone, nothing is offered on it.
  const install = gone ? null : (record.data ?? null);
  // The note names only what the page offers: roll back where a host keeps an earlier release.
  const offersRollback =
    install !== null &&
    (canRollBack(rollbackChoices(install)) || install.hosts.some((host) => canRollBack(rollbackChoices(install, host.hostName))));
  const changing = useAllowed(offersRollback ? ['rollback', 'uninstall'] : ['uninstall']);

  return (
    <section className="page" data-testid="installed-page" data-install-name={installName}>
      <header className="page-head">
        <div>
          <h1>{installName}</h1>
          <p className="page-sub">
            <a href={hrefFor({ name: 'installs' })}>Installs</a>
            {install ? <span data-testid="installed-running"> · {runningText(install)}</span> : null}
          </p>
        </div>
        {install ? (
          <div className="actions">
            {canRollBack(rollbackChoices(install)) ? (
              <button
                type="button"
                className="button"
                onClick={() => setDialog({ kind: 'rollback' })}
                disabled={busy || !rollingBack.allowed}
                title={rollingBack.reason ?? undefined}
                data-testid="install-rollback-all"
              >
                Roll back
              </button>
            ) : null}
            <button
              type="button"
              className="button button-danger-quiet"
              onClick={() => setDialog({ kind: 'uninstall' })}
              disabled={busy || !uninstalling.allowed}
              title={uninstalling.reason ?? undefined}
              data-testid="install-uninstall-all"
            >
              Uninstall
            </button>
          </div>
        ) : null}
      </header>
      {install ? <DeniedNote allowed={changing} testId="installed-denied" /> : null}
      {gone ? (
        <EmptyState title={`${installName} is not installed`}>
          It is not (or no longer) recorded: an uninstall that removed its last host forgets it.{' '}
          <a href={hrefFor({ name: 'installs' })}>See the installs</a>.
        </EmptyState>
      ) : (
        <QueryState query={record} loadingLabel="Loading the install…" errorTitle="Could not load the install">
          {(install) => (
            <>
              <UpgradeCard
                name={install.name}
                {...(upgradeTo !== undefined ? { preferred: upgradeTo } : {})}
                busy={busy}
                onStarted={started}
              />
              <Card
                title="Hosts"
                aside={`${install.hosts.length} ${install.hosts.length === 1 ? 'host' : 'hosts'}`}
                testId="installed-hosts"
              >
                <HostsTable install={install} busy={busy} onDialog={setDialog} />
              </Card>
              <Card title="Health" testId="installed-health">
                <InstallHealthPanel name={install.name} />
              </Card>
              {dialog?.kind === 'rollback' ? (
                <RollbackDialog
                  install={install}
                  {...(dialog.host !== undefined ? { host: dialog.host } : {})}
                  onClose={() => setDialog(null)}
                  onStarted={started}
                />
              ) : null}
              {dialog?.kind === 'uninstall' ? (
                <UninstallDialog
                  install={install}
                  {...(dialog.host !== undefined ? { host: dialog.host } : {})}
                  onClose={() => setDialog(null)}
                  onStarted={started}
                />
              ) : null}
            </>
          )}
        </QueryState>
      )}
      {followed !== null ? <FollowedJob key={followed} jobId={followed} onClose={() => setOpened(null)} /> : null}
      <section className="stack" aria-labelledby="install-jobs">
        <h2 id="install-jobs">Recent jobs</h2>
        {jobs.isError ? <ErrorNotice title="Could not load the jobs" error={jobs.error} onRetry={() => void jobs.refetch()} /> : null}
        {!jobs.data && !jobs.isError ? <LoadingState label="Loading jobs…" /> : null}
        {jobs.data && jobs.data.length === 0 ? (
          <EmptyState title="No job yet">Installs made with the command line are recorded without jobs.</EmptyState>
        ) : null}
        {jobs.data && jobs.data.length > 0 ? <InstallJobsTable jobs={jobs.data} onOpen={setOpened} /> : null}
      </section>
    </section>
  );
}

function HostsTable({ install, busy, onDialog }: { install: InstallRecord; busy: boolean; onDialog: (dialog: Dialog) => void }) {
  const rollingBack = useAllowed('rollback', { install: install.name });
  const uninstalling = useAllowed('uninstall', { install: install.name });
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Role</th>
          <th scope="col">Current</th>
          <th scope="col">Kept releases</th>
          <th scope="col">Place</th>
          <th scope="col" aria-label="Actions" />
        </tr>
      </thead>
      <tbody>
        {install.hosts.map((host) => (
          <tr
            key={host.hostId}
            data-testid="installed-host"
            data-host-name={host.hostName}
            data-release={currentRelease(host) ?? ''}
            data-state={host.state}
          >
            <td>
              <a className="host-name" href={hrefFor({ name: 'host', hostId: host.hostId })}>
                {host.hostName}
              </a>
              <div className="cell-sub">{host.state}</div>
            </td>
            <td>
              {ROLE_LABELS[host.role]}
              {host.gpu ? ', GPU agents' : ''}
            </td>
            <td className="mono" data-testid="installed-host-current">
              {currentRelease(host) ?? '—'}
            </td>
            <td>
              <span className="release-list">
                {host.releases
                  .filter((r) => r.state !== 'current')
                  .map((r) => (
                    <span
                      key={r.version}
                      className={`badge ${r.state === 'failed' ? 'job-host-state-failed' : ''}`}
                      data-testid="installed-host-release"
                      data-version={r.version}
                      data-state={r.state}
                      title={`${r.path}, since ${new Date(r.installedAt).toISOString()}`}
                    >
                      {r.version} {r.state}
                    </span>
                  ))}
              </span>
              {host.releases.length > 0 ? (
                <div className="cell-sub">
                  current since <RelativeTime ms={host.releases.find((r) => r.state === 'current')?.installedAt ?? null} never="—" />
                </div>
              ) : null}
            </td>
            <td className="cell-clip mono">{host.rootDir ?? '—'}</td>
            <td className="nowrap">
              <div className="actions">
                {canRollBack(rollbackChoices(install, host.hostName)) ? (
                  <button
                    type="button"
                    className="button"
                    onClick={() => onDialog({ kind: 'rollback', host: host.hostName })}
                    disabled={busy || !rollingBack.allowed}
                    title={rollingBack.reason ?? undefined}
                    data-testid="installed-host-rollback"
                  >
                    Roll back
                  </button>
                ) : null}
                <button
                  type="button"
                  className="button button-danger-quiet"
                  onClick={() => onDialog({ kind: 'uninstall', host: host.hostName })}
                  disabled={busy || !uninstalling.allowed}
                  title={uninstalling.reason ?? undefined}
                  data-testid="installed-host-uninstall"
                >
                  Uninstall
                </button>
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

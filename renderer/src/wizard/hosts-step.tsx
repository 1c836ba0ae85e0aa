import { useEffect, useState } from 'react';
import type { HostSummary } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { useHostList } from '../api/queries';
import { AddHostDialog } from '../hosts/add-host-dialog';
import { Card } from '../ui/card';
import { ProbeJobTable } from '../probes/probe-job-table';
import { EmptyState, ErrorNotice, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { useNow } from '../ui/use-now';
import { formatBytes } from '../format/bytes';
import { isJobFinished } from '../probes/probe-progress';
import { useProbeJob, useProbeJobs } from '../probes/probe-jobs-context';
import { hrefFor } from '../router/route';
import type { WizardDraftHandle } from './use-wizard-draft';
import { hostsProblem, rolesCoverHosts, rolesFor, toggleHost } from './wizard-draft';
import { WizardNav } from './wizard-nav';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';

/** The bulk probe of the chosen hosts, followed again after a reload (the draft keeps its id). */
function WizardProbe({ jobId }: { jobId: string }) {
  const jobs = useProbeJobs();
  const record = useProbeJob(jobId);
  const [gone, setGone] = useState(false);
  useEffect(() => {
    if (record) return;
    jobs.attach(jobId).catch(() => setGone(true));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- attach once per job, not on every progress update
  }, [jobId, jobs]);
  const finished = record ? isJobFinished(record.view) : true;
  const now = useNow(finished ? 60_000 : 250);
  if (gone || !record) return null;
  const { view } = record;
  return (
    <div className="stack" data-testid="wizard-probe" data-finished={String(finished)}>
      <div className="progress-block">
        <div
          className="progress"
          role="progressbar"
          aria-label="Hosts probed"
          aria-valuemin={0}
          aria-valuemax={view.total}
          aria-valuenow={view.finished}
        >
          <div className="progress-fill" style={{ width: `${view.total === 0 ? 100 : Math.round((view.finished / view.total) * 100)}%` }} />
        </div>
        <span className="progress-text figure">
          {view.finished} of {view.total} probed
        </span>
      </div>
      <ProbeJobTable view={view} now={now} />
    </div>
  );
}

function HostChoice({ host, chosen, onChoose }: { host: HostSummary; chosen: boolean; onChoose: (on: boolean) => void }) {
  return (
    <tr data-testid="wizard-host-option" data-host-name={host.name} className={chosen ? 'row-selected' : undefined}>
      <td className="col-check">
        <input
          type="checkbox"
          checked={chosen}
          onChange={(event) => onChoose(event.target.checked)}
          aria-label={`Install on ${host.name}`}
          data-testid="wizard-host-select"
        />
      </td>
      <td>
        <a className="host-name" href={hrefFor({ name: 'host', hostId: host.id })}>
          {host.name}
        </a>
        <div className="cell-sub mono">{`${host.user}@${host.address}:${host.port}`}</div>
      </td>
      <td>{host.hostKey ? <span className="status status-ok">Trusted</span> : <span className="status status-warn">Not trusted</span>}</td>
      <td className="cell-clip">{host.os ?? <span className="muted">—</span>}</td>
      <td className="num">{host.cpuThreads ?? '—'}</td>
      <td className="num">{host.memoryBytes === null ? '—' : formatBytes(host.memoryBytes)}</td>
      <td className="num">{host.gpuCount ?? '—'}</td>
      <td className="nowrap">
        <RelativeTime ms={host.lastProbedAt} never="Never probed" />
      </td>
    </tr>
  );
}

/** Step 2: the machines to install on, from the inventory or added here, probed with live progress. */
export function HostsStep({ wizard }: { wizard: WizardDraftHandle }) {
  const client = useApiClient();
  const hosts = useHostList();
  const jobs = useProbeJobs();
  const { draft } = wizard;
  const [adding, setAdding] = useState(false);
  const [probeError, setProbeError] = useState<unknown>(null);
  const [placing, setPlacing] = useState<{ pending: boolean; error: unknown }>({ pending: false, error: null });
  const probeRecord = useProbeJob(draft.probeJobId ?? '');
  const probing = draft.probeJobId !== null && probeRecord !== undefined && !isJobFinished(probeRecord.view);
  const list = hosts.data ?? [];
  const ssh = list.filter((h) => h.kind === 'ssh');
  const chosen = ssh.filter((h) => draft.hostIds.includes(h.id));
  const problem = probing ? 'Wait for the probe to finish.' : hostsProblem(chosen);
  // Adding a host is an admin's; an operator prepares the install from the hosts there are.
  const managing = useAllowed('manage-hosts');
  const probingAllowed = useAllowed('probe');
  const hostsActions = useAllowed(['manage-hosts', 'probe']);

  const probe = async () => {
    setProbeError(null);
    try {
      const jobId = await jobs.start(chosen.map((h) => ({ hostId: h.id, hostName: h.name })));
      wizard.update({ probeJobId: jobId });
    } catch (error) {
      setProbeError(error);
    }
  };

  // The roles are suggested from the facts when the hosts are settled; roles the operator set stay.
  const next = async () => {
    setPlacing({ pending: true, error: null });
    try {
      const placements = rolesCoverHosts(draft) ? [] : await client.call('installs.suggestPlacement', { hostIds: draft.hostIds });
      await wizard.go('preflight', { roles: rolesFor(draft, placements) });
    } catch (error) {
      setPlacing({ pending: false, error });
    }
  };

  return (
    <div className="stack" data-testid="wizard-hosts-step">
      <Card
        title="Machines to install on"
        aside={`${chosen.length} chosen`}
        actions={
          <>
            <button
              type="button"
              className="button"
              onClick={() => setAdding(true)}
              disabled={!managing.allowed}
              title={managing.reason ?? undefined}
              data-testid="wizard-add-host"
            >
              Add host
            </button>
            <button
              type="button"
              className="button"
              onClick={() => void probe()}
              disabled={chosen.length === 0 || probing || !probingAllowed.allowed}
              title={probingAllowed.reason ?? undefined}
              data-testid="wizard-probe-start"
            >
              {probing ? 'Probing…' : 'Probe chosen'}
            </button>
          </>
        }
      >
        <div className="stack">
          <DeniedNote allowed={hostsActions} testId="wizard-hosts-denied" />
          <QueryState
            query={hosts}
            loadingLabel="Loading hosts…"
            errorTitle="Could not load the hosts"
            isEmpty={() => ssh.length === 0}
            empty={
              <EmptyState title="No SSH host yet">
                Add the machines to install on; the core and agents run on machines reached over SSH.
              </EmptyState>
            }
          >
            {() => (
              <div className="table-scroll-flat">
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col" className="col-check">
                        <span className="visually-hidden">Chosen</span>
                      </th>
                      <th scope="col">Host</th>
                      <th scope="col">Host key</th>
                      <th scope="col">OS</th>
                      <th scope="col" className="num">
                        Threads
                      </th>
                      <th scope="col" className="num">
                        Memory
                      </th>
                      <th scope="col" className="num">
                        GPUs
                      </th>
                      <th scope="col">Probed</th>
                    </tr>
                  </thead>
                  <tbody>
                    {ssh.map((host) => (
                      <HostChoice
                        key={host.id}
                        host={host}
                        chosen={draft.hostIds.includes(host.id)}
                        onChoose={(on) => wizard.update(toggleHost(draft, host.id, on))}
                      />
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </QueryState>
          <p className="field-hint">
            This machine (“local”) is not offered: installs go to machines reached over SSH, with their host key confirmed.
          </p>
        </div>
      </Card>
      {probeError ? <ErrorNotice title="The probe did not start" error={probeError} onRetry={() => void probe()} /> : null}
      {draft.probeJobId ? (
        <Card title="Probe">
          <WizardProbe jobId={draft.probeJobId} />
        </Card>
      ) : null}
      {placing.error ? <ErrorNotice title="No placement could be suggested" error={placing.error} onRetry={() => void next()} /> : null}
      <WizardNav
        onBack={() => void wizard.go('bundle')}
        nextLabel="Next: preflight"
        onNext={() => void next()}
        problem={problem}
        pending={placing.pending}
      />
      {adding ? (
        <AddHostDialog
          hosts={list}
          onClose={() => setAdding(false)}
          onAdded={(host) => wizard.update(toggleHost(wizard.draft, host.id, true))}
        />
      ) : null}
    </div>
  );
}

import { useEffect, useRef, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ApiError, HostSummary, PreflightReport, PreflightSummary } from '../../../electron/contract';
import { apiKey, useHostList, useLatestPreflights, usePreflightProfiles } from '../api/queries';
import { useApiClient } from '../api/api-context';
import { AddHostDialog } from './add-host-dialog';
import { ImportDialog } from './import-dialog';
import { OutcomeBadge } from '../preflight/outcome-badge';
import { PreflightReportView } from '../preflight/preflight-report';
import { defaultProfile, ProfileSelect } from '../preflight/profile-select';
import { EmptyState, ErrorNotice, QueryState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { formatBytes } from '../format/bytes';
import { formatDateTime } from '../format/time';
import { shortFingerprint } from './fingerprint';
import { ROLE_LABELS } from './host-form';
import { probeFailureLabel } from './probe-status';
import { describeCounts } from '../preflight/outcomes';
import { isJobFinished } from '../probes/probe-progress';
import { useLatestProbeJob, useProbeJobs } from '../probes/probe-jobs-context';
import { useAllowed } from '../operators/use-session';
import { hrefFor } from '../router/route';
import { navigate } from '../router/use-route';
import { DeniedNote } from '../operators/denied-note';

function gpuText(count: number | null): string {
  if (count === null) return '—';
  return count === 0 ? 'None' : String(count);
}

function KeyStatus({ host }: { host: HostSummary }) {
  if (host.kind === 'local') return <span className="muted">—</span>;
  if (host.hostKey === null) {
    return (
      <span className="status status-warn" data-testid="key-status" data-trusted="false">
        Not trusted
      </span>
    );
  }
  return (
    <span
      className="mono key-short"
      data-testid="key-status"
      data-trusted="true"
      title={`${host.hostKey.keyType} ${host.hostKey.fingerprint}, trusted ${formatDateTime(host.hostKey.trustedAt)}`}
    >
      {shortFingerprint(host.hostKey.fingerprint, 8)}
    </span>
  );
}

/** The last probe's failure, when it failed: the host's status at a glance. */
function ProbeStatus({ host }: { host: HostSummary }) {
  const label = probeFailureLabel(host.lastProbe);
  if (!label || !host.lastProbe?.error) return null;
  const { code, message, remedy } = host.lastProbe.error;
  return (
    <div className="status status-fail" data-testid="probe-status" data-code={code} title={`${message}\n${remedy}`}>
      {label} <RelativeTime ms={host.lastProbe.at} />
    </div>
  );
}

function PreflightCell({ latest, loading }: { latest: PreflightSummary | undefined; loading: boolean }) {
  if (loading) return <span className="muted">…</span>;
  if (!latest) return <span className="muted">Not run</span>;
  return (
    <span
      title={`${describeCounts(latest.counts)}, ${formatDateTime(latest.ranAt)}`}
      data-testid="preflight-summary"
      data-outcome={latest.outcome}
    >
      <OutcomeBadge outcome={latest.outcome} />
      <span className="cell-sub">{latest.profile}</span>
    </span>
  );
}

function HostRow({
  host,
  selected,
  onSelect,
  preflight,
}: {
  host: HostSummary;
  selected: boolean;
  onSelect: (selected: boolean) => void;
  preflight: { latest: PreflightSummary | undefined; loading: boolean };
}) {
  const href = hrefFor({ name: 'host', hostId: host.id });
  return (
    <tr
      className={selected ? 'row-link row-selected' : 'row-link'}
      data-testid="host-row"
      data-host-name={host.name}
      onClick={(event) => {
        // Links, checkboxes and their labels handle their own clicks (and middle or modified clicks).
        if ((event.target as Element).closest('a, input, label, button')) return;
        navigate({ name: 'host', hostId: host.id });
      }}
    >
      <td className="col-check">
        <input
          type="checkbox"
          checked={selected}
          onChange={(event) => onSelect(event.target.checked)}
          aria-label={`Select ${host.name}`}
          data-testid="host-select"
        />
      </td>
      <td>
        <div className="host-cell-name">
          <a className="host-name" href={href}>
            {host.name}
          </a>
          <span className={`badge badge-${host.kind}`}>{host.kind === 'local' ? 'Local' : 'SSH'}</span>
        </div>
        <div className="cell-sub mono">{host.kind === 'local' ? 'this machine' : `${host.user}@${host.address}:${host.port}`}</div>
        {host.role || host.labels.length > 0 ? (
          <div className="labels">
            {host.role ? <span className="role">{ROLE_LABELS[host.role]}</span> : null}
            {host.labels.map((label) => (
              <span key={label} className="label">
                {label}
              </span>
            ))}
          </div>
        ) : null}
      </td>
      <td className="cell-clip" title={host.cpuModel ?? undefined}>
        {host.os ?? <span className="muted">—</span>}
        {host.cpuModel ? <div className="cell-sub cell-clip">{host.cpuModel}</div> : null}
      </td>
      <td className="num">{host.cpuThreads ?? '—'}</td>
      <td className="num">{host.memoryBytes === null ? '—' : formatBytes(host.memoryBytes)}</td>
      <td className="num">{gpuText(host.gpuCount)}</td>
      <td className="nowrap">
        <KeyStatus host={host} />
      </td>
      <td className="nowrap">
        <PreflightCell latest={preflight.latest} loading={preflight.loading} />
      </td>
      <td className="nowrap">
        <RelativeTime ms={host.lastProbedAt} never="Never probed" />
        <ProbeStatus host={host} />
      </td>
    </tr>
  );
}

/** The header checkbox: all, none, or some (indeterminate, which only the DOM property can say). */
function SelectAll({ count, total, onChange }: { count: number; total: number; onChange: (all: boolean) => void }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = count > 0 && count < total;
  }, [count, total]);
  return (
    <input
      ref={ref}
      type="checkbox"
      checked={total > 0 && count === total}
      onChange={(event) => onChange(event.target.checked)}
      aria-label="Select all hosts"
      data-testid="host-select-all"
    />
  );
}

function HostsTable({
  list,
  selected,
  setSelected,
}: {
  list: HostSummary[];
  selected: ReadonlySet<number>;
  setSelected: (next: Set<number>) => void;
}) {
  const preflights = useLatestPreflights();
  const toggle = (hostId: number, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(hostId);
    else next.delete(hostId);
    setSelected(next);
  };
  return (
    <div className="card table-card">
      <table className="table hosts-table">
        <thead>
          <tr>
            <th scope="col" className="col-check">
              <SelectAll
                count={list.filter((h) => selected.has(h.id)).length}
                total={list.length}
                onChange={(all) => setSelected(all ? new Set(list.map((h) => h.id)) : new Set())}
              />
            </th>
            <th scope="col">Host</th>
            <th scope="col">OS / CPU</th>
            <th scope="col" className="num">
              Threads
            </th>
            <th scope="col" className="num">
              Memory
            </th>
            <th scope="col" className="num">
              GPUs
            </th>
            <th scope="col">Host key</th>
            <th scope="col">Preflight</th>
            <th scope="col">Last probed</th>
          </tr>
        </thead>
        <tbody>
          {list.map((host) => (
            <HostRow
              key={host.id}
              host={host}
              selected={selected.has(host.id)}
              onSelect={(on) => toggle(host.id, on)}
              preflight={{ latest: preflights.byHost.get(host.id), loading: preflights.isPending }}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Back to the bulk probe this window started last, with how far it got. */
function LatestProbeLink() {
  const latest = useLatestProbeJob();
  if (!latest) return null;
  const { view } = latest;
  const running = !isJobFinished(view);
  return (
    <a className="toolbar-link" href={hrefFor({ name: 'probe-job', jobId: view.jobId })} data-testid="latest-probe">
      {running ? <span className="spinner spinner-small" aria-hidden="true" /> : null}
      {running ? `Probing: ${view.finished} of ${view.total} finished` : `Last bulk probe: ${view.finished} of ${view.total} finished`}
    </a>
  );
}

function BulkActions({ selectedHosts, onReport }: { selectedHosts: HostSummary[]; onReport: (report: PreflightReport) => void }) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const jobs = useProbeJobs();
  const profiles = usePreflightProfiles();
  const [profile, setProfile] = useState<string | null>(null);
  const [probeError, setProbeError] = useState<unknown>(null);
  // Probes and preflight runs are stored: an operator's, not a viewer's.
  const probing = useAllowed('probe');
  const [probeStarting, setProbeStarting] = useState(false);
  const chosen = profile ?? defaultProfile(profiles.data ?? []);
  const preflight = useMutation<PreflightReport, ApiError, { hostIds: number[]; profile: string }>({
    mutationFn: (params) => client.call('preflight.run', params),
    onSuccess: async (report) => {
      onReport(report);
      await queryClient.invalidateQueries({ queryKey: apiKey('preflight.history') });
      await queryClient.invalidateQueries({ queryKey: apiKey('preflight.latest') });
    },
  });
  const none = selectedHosts.length === 0;

  const probe = async () => {
    setProbeError(null);
    setProbeStarting(true);
    try {
      const jobId = await jobs.start(selectedHosts.map((host) => ({ hostId: host.id, hostName: host.name })));
      navigate({ name: 'probe-job', jobId });
    } catch (error) {
      setProbeError(error);
    } finally {
      setProbeStarting(false);
    }
  };

  return (
    <>
      <div className="toolbar-group" role="group" aria-label="Selected hosts">
        <span className="toolbar-count" data-testid="selection-count">
          {none ? 'None selected' : `${selectedHosts.length} selected`}
        </span>
        <LatestProbeLink />
        <button
          type="button"
          className="button"
          disabled={none || probeStarting || !probing.allowed}
          title={probing.reason ?? undefined}
          onClick={() => void probe()}
        >
          {probeStarting ? 'Starting…' : 'Probe selected'}
        </button>
        <ProfileSelect profiles={profiles.data ?? []} value={chosen} onChange={setProfile} disabled={profiles.isPending} />
        <button
          type="button"
          className="button"
          disabled={none || chosen === '' || preflight.isPending || !probing.allowed}
          title={probing.reason ?? undefined}
          onClick={() => preflight.mutate({ hostIds: selectedHosts.map((host) => host.id), profile: chosen })}
        >
          {preflight.isPending ? 'Checking…' : 'Preflight selected'}
        </button>
      </div>
      {profiles.isError ? (
        <ErrorNotice title="Could not load the requirement profiles" error={profiles.error} onRetry={() => void profiles.refetch()} />
      ) : null}
      {probeError ? <ErrorNotice title="The probe did not start" error={probeError} onRetry={() => void probe()} /> : null}
      {preflight.isError ? (
        <ErrorNotice title="The preflight did not run" error={preflight.error} onRetry={() => preflight.mutate(preflight.variables)} />
      ) : null}
    </>
  );
}

export function HostsPage() {
  const hosts = useHostList();
  const [dialog, setDialog] = useState<'add' | 'import' | null>(null);
  // Adding and importing hosts is an admin's; disabled with the reason for the others.
  const managing = useAllowed('manage-hosts');
  // One note for the page's controls: adding and importing here, probing and preflight in the toolbar.
  const hostActions = useAllowed(['manage-hosts', 'probe']);
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const [report, setReport] = useState<PreflightReport | null>(null);
  const list = hosts.data ?? [];
  // A host removed elsewhere leaves the selection with it.
  const selectedHosts = list.filter((host) => selected.has(host.id));

  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Hosts</h1>
          <p className="page-sub">Machines this control center manages, with the hardware they last reported.</p>
        </div>
        <div className="actions">
          <button
            type="button"
            className="button"
            disabled={!managing.allowed}
            title={managing.reason ?? undefined}
            onClick={() => setDialog('import')}
          >
            Import…
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={!managing.allowed}
            title={managing.reason ?? undefined}
            onClick={() => setDialog('add')}
          >
            Add host
          </button>
        </div>
      </header>
      <DeniedNote allowed={hostActions} testId="hosts-denied" />
      {list.length > 0 ? (
        <div className="toolbar">
          <BulkActions selectedHosts={selectedHosts} onReport={setReport} />
        </div>
      ) : null}
      <QueryState
        query={hosts}
        loadingLabel="Loading hosts…"
        errorTitle="Could not load the hosts"
        isEmpty={(data) => data.length === 0}
        empty={
          <EmptyState title="No hosts yet">
            The local machine appears here once the backend has probed it. Use “Add host” for a machine reached over SSH.
          </EmptyState>
        }
      >
        {(data) => <HostsTable list={data} selected={selected} setSelected={setSelected} />}
      </QueryState>
      {report ? <PreflightReportView report={report} onClose={() => setReport(null)} /> : null}
      {dialog === 'add' ? <AddHostDialog hosts={list} onClose={() => setDialog(null)} /> : null}
      {dialog === 'import' ? <ImportDialog onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

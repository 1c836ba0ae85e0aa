import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { RolePreflight } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { apiKey, useApiQuery } from '../api/queries';
import { Card } from '../ui/card';
import { OutcomeBadge } from '../preflight/outcome-badge';
import { PreflightChecksTable } from '../preflight/preflight-checks';
import { ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { ROLE_LABELS } from '../hosts/host-form';
import { countOutcomes, describeCounts } from '../preflight/outcomes';
import type { WizardDraftHandle } from './use-wizard-draft';
import { WizardNav } from './wizard-nav';

function HostResults({ host }: { host: RolePreflight['hosts'][number] }) {
  return (
    <details
      className="report-host"
      open={host.outcome !== 'pass'}
      data-testid="wizard-preflight-host"
      data-host-name={host.hostName}
      data-outcome={host.outcome}
    >
      <summary>
        <OutcomeBadge outcome={host.outcome} /> <span className="host-name">{host.hostName}</span>{' '}
        <span className="muted">
          as {ROLE_LABELS[host.role].toLowerCase()}
          {host.gpu ? ' with GPU agents' : ''}: {host.results.map((r) => r.profile).join(' and ')}
        </span>
      </summary>
      <div className="stack">
        {host.results.map((result) => (
          <div key={result.profile} data-testid="wizard-preflight-profile" data-profile={result.profile} data-outcome={result.outcome}>
            <h3 className="subhead">
              Profile {result.profile} · {describeCounts(countOutcomes(result.checks))} · facts probed{' '}
              <RelativeTime ms={result.factsProbedAt} never="never" />
            </h3>
            <div className="table-scroll-flat">
              <PreflightChecksTable checks={result.checks} />
            </div>
          </div>
        ))}
      </div>
    </details>
  );
}

/**
 * Step 3: each chosen machine against the requirement profiles of its role (the roles
 * suggested from its hardware until the operator changes them), with what was found and
 * what to do; probe again after a fix and check again.
 */
export function PreflightStep({ wizard }: { wizard: WizardDraftHandle }) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const { draft } = wizard;
  const params = { hosts: draft.roles };
  // Every visit checks anew (and stores the results in each host's history).
  const report = useApiQuery('installs.preflight', params, { staleTime: 0, gcTime: 0 });
  const [reprobe, setReprobe] = useState<{ pending: boolean; error: unknown }>({ pending: false, error: null });
  const data = report.data;
  const failed = data?.outcome === 'fail';
  const hostNames = new Map((data?.hosts ?? []).map((h) => [h.hostId, h.hostName]));

  const probeAndCheck = async () => {
    setReprobe({ pending: true, error: null });
    const results = await Promise.allSettled(draft.hostIds.map((hostId) => client.call('hosts.probe', { hostId })));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    setReprobe({ pending: false, error: failure ? failure.reason : null });
    await queryClient.invalidateQueries({ queryKey: apiKey('hosts.list') });
    await report.refetch();
  };

  return (
    <div className="stack" data-testid="wizard-preflight-step">
      <Card
        title="Preflight"
        aside={data ? <OutcomeBadge outcome={data.outcome} /> : undefined}
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void probeAndCheck()}
            disabled={reprobe.pending || report.isFetching}
            data-testid="wizard-preflight-rerun"
          >
            {reprobe.pending ? 'Probing…' : report.isFetching ? 'Checking…' : 'Probe again and check'}
          </button>
        }
      >
        <div className="stack">
          <p className="field-hint">
            Each machine is checked against the profiles of the role suggested for it (config/profiles/). Changing a role in the next step
            changes what it must meet: come back here to check it again.
          </p>
          {reprobe.error ? <ErrorNotice title="A host could not be probed" error={reprobe.error} /> : null}
          {report.isError ? (
            <ErrorNotice title="The preflight did not run" error={report.error} onRetry={() => void report.refetch()} />
          ) : null}
          {!data && report.isFetching ? <LoadingState label="Checking the hosts…" /> : null}
          {data ? (
            <div className="stack" data-testid="wizard-preflight" data-outcome={data.outcome}>
              {data.crossHost.length > 0 && data.hosts.length > 1 ? (
                <div>
                  <h3 className="subhead">Across the {data.hosts.length} hosts</h3>
                  <div className="table-scroll-flat">
                    <PreflightChecksTable checks={data.crossHost} hostNames={hostNames} />
                  </div>
                </div>
              ) : null}
              {data.hosts.map((host) => (
                <HostResults key={host.hostId} host={host} />
              ))}
            </div>
          ) : null}
          {failed ? (
            <label className="check wizard-accept">
              <input
                type="checkbox"
                checked={draft.preflightAccepted}
                onChange={(event) => wizard.update({ preflightAccepted: event.target.checked })}
                data-testid="wizard-preflight-accept"
              />
              Go on although checks failed: I have read them, and the install may not work as it should.
            </label>
          ) : null}
        </div>
      </Card>
      <WizardNav
        onBack={() => void wizard.go('hosts')}
        nextLabel="Next: roles"
        onNext={() => void wizard.go('roles')}
        problem={
          !data
            ? 'Wait for the preflight.'
            : failed && !draft.preflightAccepted
              ? 'Fix what failed (then probe again and check), or say you go on anyway.'
              : null
        }
      />
    </div>
  );
}

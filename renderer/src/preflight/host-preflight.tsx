import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ApiError, HostPreflight, PreflightReport } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { apiKey, usePreflightHistory, usePreflightProfiles } from '../api/queries';
import { Card } from '../ui/card';
import { DownloadJsonButton } from '../ui/download-json-button';
import { OutcomeBadge } from './outcome-badge';
import { PreflightChecksTable } from './preflight-checks';
import { defaultProfile, ProfileSelect } from './profile-select';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { formatDateTime } from '../format/time';
import { reportFileName } from './export-report';
import { countOutcomes, describeCounts } from './outcomes';
import { useAllowed } from '../operators/use-session';

const KEPT = 10;

function ResultView({ result }: { result: HostPreflight }) {
  return (
    <div className="preflight-result" data-testid="preflight-result" data-outcome={result.outcome} data-profile={result.profile}>
      <div className="preflight-result-head">
        <OutcomeBadge outcome={result.outcome} />
        <span className="preflight-result-what">
          <strong>{result.profile}</strong> · {describeCounts(countOutcomes(result.checks))} · ran {formatDateTime(result.ranAt)} on facts
          probed <RelativeTime ms={result.factsProbedAt} never="never" />
        </span>
        <DownloadJsonButton data={result} fileName={reportFileName(result.profile, result.hostName, result.ranAt)} />
      </div>
      <div className="table-scroll-flat">
        <PreflightChecksTable checks={result.checks} />
      </div>
    </div>
  );
}

/** Checks this host against a requirement profile, and the results of earlier runs. */
export function PreflightCard({ hostId }: { hostId: number }) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const profiles = usePreflightProfiles();
  const history = usePreflightHistory(hostId, KEPT);
  const [profile, setProfile] = useState<string | null>(null);
  const [shownAt, setShownAt] = useState<number | null>(null);
  const chosen = profile ?? defaultProfile(profiles.data ?? [], history.data?.[0]?.profile);
  const run = useMutation<PreflightReport, ApiError, { hostIds: number[]; profile: string }>({
    mutationFn: (params) => client.call('preflight.run', params),
    onSuccess: async (report) => {
      // The new result shows at once; the history catches up behind it.
      queryClient.setQueryData<HostPreflight[]>(apiKey('preflight.history', { hostId, limit: KEPT }), (old) =>
        [...report.hosts.filter((h) => h.hostId === hostId), ...(old ?? [])].slice(0, KEPT),
      );
      setShownAt(null);
      await queryClient.invalidateQueries({ queryKey: apiKey('preflight.history') });
      await queryClient.invalidateQueries({ queryKey: apiKey('preflight.latest') });
    },
  });
  // A run is stored: an operator's (the host page says why beside its Probe again); with the host, as its policy (abac) judges it.
  const running = useAllowed('probe', { hostId });
  const results = history.data ?? [];
  const shown = (shownAt === null ? results[0] : results.find((r) => r.ranAt === shownAt)) ?? results[0];

  return (
    <Card
      title="Preflight"
      testId="preflight-card"
      actions={
        <>
          <ProfileSelect profiles={profiles.data ?? []} value={chosen} onChange={setProfile} disabled={profiles.isPending} />
          <button
            type="button"
            className="button button-primary"
            disabled={chosen === '' || run.isPending || !running.allowed}
            title={running.reason ?? undefined}
            onClick={() => run.mutate({ hostIds: [hostId], profile: chosen })}
          >
            {run.isPending ? 'Checking…' : 'Run preflight'}
          </button>
        </>
      }
    >
      <div className="stack">
        {profiles.isError ? (
          <ErrorNotice title="Could not load the requirement profiles" error={profiles.error} onRetry={() => void profiles.refetch()} />
        ) : null}
        {run.isError ? (
          <ErrorNotice
            title="The preflight did not run"
            error={run.error}
            onRetry={() => run.mutate({ hostIds: [hostId], profile: chosen })}
          />
        ) : null}
        {history.isError ? (
          <ErrorNotice title="Could not load earlier results" error={history.error} onRetry={() => void history.refetch()} />
        ) : null}
        {history.isPending ? <LoadingState label="Loading the results…" /> : null}
        {history.isSuccess && results.length === 0 ? (
          <EmptyState title="No preflight yet">
            {running.allowed
              ? 'Choose a profile and run it to check this host against what SutazAI needs.'
              : 'An operator or admin runs one here to check this host against what SutazAI needs; its results show here.'}
          </EmptyState>
        ) : null}
        {shown ? <ResultView result={shown} /> : null}
        {results.length > 1 ? (
          <div>
            <h3 className="subhead">Earlier runs</h3>
            <ul className="run-list">
              {results.map((result) => (
                <li key={`${result.ranAt}-${result.profile}`}>
                  <button
                    type="button"
                    className={result === shown ? 'run-item run-item-on' : 'run-item'}
                    aria-pressed={result === shown}
                    onClick={() => setShownAt(result.ranAt)}
                  >
                    <OutcomeBadge outcome={result.outcome} /> <span className="figure">{formatDateTime(result.ranAt)}</span>{' '}
                    <span className="muted">{result.profile}</span>
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>
    </Card>
  );
}

import { useEffect, useState } from 'react';
import { ApiError, applyInstallProgress, type InstallJobStatus, type InstallProgress } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';

export type InstallJobView =
  | { status: 'loading' }
  /** The backend no longer keeps the job (only the newest jobs are kept in its store). */
  | { status: 'gone'; error: ApiError }
  | { status: 'error'; error: unknown; retry: () => void }
  | { status: 'ready'; job: InstallJobStatus };

/**
 * A job (apply, upgrade, rollback, uninstall) as it runs: its status from installs.status, kept current by the
 * installs.progress events folded in with the contract's own fold. The subscription is
 * made before the status is read, so no event in between is lost; events the status
 * already holds are skipped by their number.
 */
export function useInstallJob(jobId: string): InstallJobView {
  const client = useApiClient();
  const [view, setView] = useState<{ jobId: string; attempt: number; state: InstallJobView }>({
    jobId,
    attempt: 0,
    state: { status: 'loading' },
  });
  const [attempt, setAttempt] = useState(0);
  const current = view.jobId === jobId && view.attempt === attempt ? view.state : { status: 'loading' as const };

  useEffect(() => {
    let active = true;
    let job: InstallJobStatus | null = null;
    const early: InstallProgress[] = [];
    const show = (state: InstallJobView) => {
      if (active) setView({ jobId, attempt, state });
    };
    let stop: (() => Promise<void>) | null = null;
    const subscribed = client.subscribe('installs.progress', { jobId }, (event) => {
      if (job === null) {
        early.push(event);
        return;
      }
      job = applyInstallProgress(job, event);
      show({ status: 'ready', job });
    });
    subscribed
      .then((unsubscribe) => {
        stop = unsubscribe;
        if (!active) void unsubscribe().catch(() => undefined);
        return client.call('installs.status', { jobId });
      })
      .then(
        (status) => {
          job = early.reduce(applyInstallProgress, status);
          show({ status: 'ready', job });
        },
        (error: unknown) => {
          if (error instanceof ApiError && error.code === 'NOT_FOUND') show({ status: 'gone', error });
          else show({ status: 'error', error, retry: () => setAttempt((n) => n + 1) });
        },
      );
    return () => {
      active = false;
      if (stop) void (stop as () => Promise<void>)().catch(() => undefined);
    };
  }, [client, jobId, attempt]);

  return current;
}

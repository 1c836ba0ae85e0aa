import { useEffect, useState } from 'react';
import { useNow } from '../ui/use-now';
import { EmptyState, ErrorNotice } from '../ui/query-state';
import { ProbeJobTable } from './probe-job-table';
import { countByState, isJobFinished } from './probe-progress';
import { useProbeJob, useProbeJobs } from './probe-jobs-context';
import { hrefFor } from '../router/route';
import { useAllowed } from '../operators/use-session';

/** A bulk probe as it runs: one row per host, the overall progress, and a way to stop it. */
export function ProbeJobPage({ jobId }: { jobId: string }) {
  const record = useProbeJob(jobId);
  const jobs = useProbeJobs();
  const [attachFailed, setAttachFailed] = useState<string | null>(null);
  // A job started before a reload (or in another window) is picked up from the backend.
  useEffect(() => {
    if (record) return;
    jobs.attach(jobId).catch(() => setAttachFailed(jobId));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- attach once per job, not on every progress update
  }, [jobId, jobs]);
  const finished = record ? isJobFinished(record.view) : true;
  // Running rows count their seconds; a finished job needs no clock.
  const now = useNow(finished ? 60_000 : 250);
  // A job attached here (from another window) can be cancelled only by a role that may probe.
  const cancelling = useAllowed('probe');
  if (!record) {
    return (
      <section className="page">
        <a className="back-link" href={hrefFor({ name: 'hosts' })}>
          ← All hosts
        </a>
        {attachFailed === jobId ? (
          <EmptyState title="This probe is no longer known">
            Bulk probes are kept for an hour after they finish. What each probe found is on each host’s page.
          </EmptyState>
        ) : (
          <p className="muted" data-testid="probe-job-loading">
            Loading the probe’s progress…
          </p>
        )}
      </section>
    );
  }
  const { view } = record;
  const counts = countByState(view);
  const percent = view.total === 0 ? 100 : Math.round((view.finished / view.total) * 100);
  return (
    <section className="page" data-testid="probe-job" data-job-id={jobId} data-finished={finished ? 'true' : 'false'}>
      <a className="back-link" href={hrefFor({ name: 'hosts' })}>
        ← All hosts
      </a>
      <header className="page-head">
        <div>
          <h1>Probing {view.total === 1 ? '1 host' : `${view.total} hosts`}</h1>
          <p className="page-sub">
            {finished
              ? `Finished: ${counts.done} done, ${counts.failed} failed, ${counts.cancelled} cancelled.`
              : `Up to ${record.concurrency} hosts at a time, each within ${Math.round(record.timeoutMs / 1000)} s.`}
          </p>
        </div>
        {finished ? null : (
          <button
            type="button"
            className="button button-danger"
            onClick={() => void jobs.cancel(jobId)}
            disabled={view.cancelRequested || !cancelling.allowed}
            title={cancelling.reason ?? undefined}
          >
            {view.cancelRequested ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </header>
      {record.cancelError ? <ErrorNotice title="The probe was not cancelled" error={record.cancelError} /> : null}
      <div className="progress-block">
        <div
          className="progress"
          role="progressbar"
          aria-label="Hosts finished"
          aria-valuemin={0}
          aria-valuemax={view.total}
          aria-valuenow={view.finished}
          data-testid="probe-progress"
        >
          <div className={counts.failed > 0 ? 'progress-fill progress-fill-mixed' : 'progress-fill'} style={{ width: `${percent}%` }} />
        </div>
        <span className="progress-text figure" data-testid="probe-progress-text">
          {view.finished} of {view.total} finished
        </span>
      </div>
      <ProbeJobTable view={view} now={now} />
    </section>
  );
}

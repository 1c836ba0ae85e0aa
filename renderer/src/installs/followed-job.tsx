import { Card } from '../ui/card';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { CancelJobButton, JOB_KIND_TEXT, JOB_STATE_TEXT, JobProgress } from './job-progress';
import { useInstallJob } from './use-install-job';

/** One job of an install followed live: the wizard's progress view, with Cancel while it runs. */
export function FollowedJob({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const view = useInstallJob(jobId);
  const close = (
    <button type="button" className="button" onClick={onClose} data-testid="followed-job-close">
      Close
    </button>
  );
  if (view.status === 'loading') return <LoadingState label="Loading the job…" />;
  if (view.status === 'error') return <ErrorNotice title="Could not follow the job" error={view.error} onRetry={view.retry} />;
  if (view.status === 'gone') {
    return (
      <Card title="This job is no longer kept" actions={close}>
        <EmptyState title="Only the newest jobs are kept">What each host got is recorded above.</EmptyState>
      </Card>
    );
  }
  const { job } = view;
  const target =
    job.kind === 'upgrade'
      ? ` to ${job.bundle}`
      : job.kind === 'rollback'
        ? job.bundle
          ? ` to ${job.bundle}`
          : ' to the previous release'
        : '';
  return (
    <Card
      title={`${JOB_KIND_TEXT[job.kind]}${target}`}
      aside={JOB_STATE_TEXT[job.state]}
      actions={job.state === 'running' ? <CancelJobButton job={job} /> : close}
      testId="followed-job"
    >
      <JobProgress job={job} />
    </Card>
  );
}

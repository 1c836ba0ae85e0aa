import type { InstallJobStatus } from '../../../electron/contract';
import { useApiQuery, useBundles, useHostList } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { CancelJobButton, JobProgress } from '../installs/job-progress';
import { laterJobOf } from '../installs/install-view';
import { useInstallChanges } from '../installs/use-install-changes';
import { useInstallJob } from '../installs/use-install-job';
import type { WizardDraftHandle } from './use-wizard-draft';
import { definitionOf } from './wizard-draft';
import { WizardNav } from './wizard-nav';
import { DeniedNote } from '../operators/denied-note';
import { useAllowed } from '../operators/use-session';

/** Installing again resumes: every step already done on a machine is found done and skipped. */
function useInstallAgain(wizard: WizardDraftHandle) {
  const bundles = useBundles();
  const hosts = useHostList();
  const start = useApiAction('installs.start');
  const allowed = useAllowed('install');
  const definition =
    bundles.data && hosts.data
      ? definitionOf(
          wizard.draft,
          bundles.data.find((b) => b.id === wizard.draft.bundleId),
          hosts.data,
        )
      : null;
  const run = async () => {
    if (!definition) return;
    const started = await start.run({ install: definition });
    if (started) wizard.update({ installJobId: started.jobId });
  };
  return { run, start, allowed, ready: definition !== null };
}

/** Step 7: the install as it runs, machine by machine and step by step, with each step's output. */
export function InstallStep({ wizard }: { wizard: WizardDraftHandle }) {
  const jobId = wizard.draft.installJobId;
  const again = useInstallAgain(wizard);
  if (jobId === null) {
    return (
      <div className="stack" data-testid="wizard-install-step">
        <EmptyState title="Nothing is being installed">Review the plan, then start the install from there.</EmptyState>
        <WizardNav onBack={() => void wizard.go('review')} />
      </div>
    );
  }
  return <InstallJob key={jobId} jobId={jobId} wizard={wizard} again={again} />;
}

/**
 * A later install of the same name (Install again in another tab with this draft, or in
 * another window), or null: what the wizard shows then, not the run its draft named,
 * which may have been cancelled or failed since.
 */
function useLaterInstall(job: InstallJobStatus | null): string | null {
  useInstallChanges();
  const newest = useApiQuery('installs.jobs', { name: job?.install ?? '', kind: 'apply', limit: 1 }, { enabled: job !== null });
  return job === null ? null : laterJobOf(job, newest.data?.[0]);
}

function InstallJob({
  jobId,
  wizard,
  again,
  startedElsewhere = false,
}: {
  jobId: string;
  wizard: WizardDraftHandle;
  again: ReturnType<typeof useInstallAgain>;
  startedElsewhere?: boolean;
}) {
  const view = useInstallJob(jobId);
  const later = useLaterInstall(view.status === 'ready' ? view.job : null);
  if (later !== null) return <InstallJob key={later} jobId={later} wizard={wizard} again={again} startedElsewhere />;
  const againButton = (
    <button
      type="button"
      className="button"
      onClick={() => void again.run()}
      disabled={!again.ready || again.start.pending || !again.allowed.allowed}
      title={again.allowed.reason ?? undefined}
      data-testid="wizard-install-again"
    >
      {again.start.pending ? 'Starting…' : 'Install again'}
    </button>
  );
  const againDenied = <DeniedNote allowed={again.allowed} testId="wizard-install-denied" />;
  const againError =
    again.start.state.status === 'error' ? (
      <ErrorNotice title="The install did not start" error={again.start.state.error} onRetry={() => void again.run()} />
    ) : null;

  if (view.status === 'loading') return <LoadingState label="Loading the install’s progress…" />;
  if (view.status === 'error') return <ErrorNotice title="Could not follow the install" error={view.error} onRetry={view.retry} />;
  if (view.status === 'gone') {
    return (
      <div className="stack" data-testid="wizard-install-step" data-state="gone">
        <EmptyState title="This install is no longer running">
          The app no longer keeps this job (only the newest jobs are kept). What each machine got is recorded: installing again finds the
          steps already done and resumes where it stopped.
        </EmptyState>
        {againError}
        {againDenied}
        <WizardNav onBack={() => void wizard.go('review')}>{againButton}</WizardNav>
      </div>
    );
  }
  const { job } = view;
  const running = job.state === 'running';
  const unchanged = job.hosts.every((h) => h.state === 'unchanged');
  // Cut short (cancelled, or the app stopped while it ran): installing again resumes it.
  const resumable = job.state === 'failed' || job.state === 'cancelled' || job.state === 'interrupted';
  return (
    <div className="stack" data-testid="wizard-install-step" data-state={job.state}>
      <Card
        title={
          running
            ? `Installing ${job.install}`
            : job.state === 'succeeded'
              ? `Installed ${job.install}`
              : job.state === 'cancelled'
                ? `The install of ${job.install} was cancelled`
                : `The install of ${job.install} stopped`
        }
        aside={`${job.bundle} on ${job.hosts.length === 1 ? '1 machine' : `${job.hosts.length} machines`}`}
        actions={running ? <CancelJobButton job={job} /> : undefined}
        testId="wizard-job"
      >
        <div className="stack">
          {startedElsewhere ? (
            <p className="muted" data-testid="wizard-install-elsewhere">
              This install was started again from another window or tab; that run is shown here.
            </p>
          ) : null}
          {job.state === 'succeeded' ? (
            <p className="key-panel key-panel-ok" role="status">
              {unchanged
                ? 'Every machine already had this install: nothing was changed.'
                : 'Every machine is installed and its runtime reported healthy.'}
            </p>
          ) : null}
          <JobProgress job={job} />
        </div>
      </Card>
      {againError}
      {resumable ? againDenied : null}
      <WizardNav
        onBack={() => void wizard.go('review')}
        backDisabled={running}
        nextLabel="Next: check the runtimes"
        onNext={() => void wizard.go('done')}
        problem={
          running
            ? 'Installing…'
            : job.state === 'failed'
              ? 'A machine was not installed: fix what its step says, then install again (it resumes).'
              : resumable
                ? 'The install did not finish: install again to resume where it stopped.'
                : null
        }
      >
        {resumable ? againButton : null}
      </WizardNav>
    </div>
  );
}

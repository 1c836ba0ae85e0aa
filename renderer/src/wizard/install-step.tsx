import { countFinishedSteps, type InstallJobHost, type InstallJobStep, type JobHostState, type JobStepStatus } from '../../../electron/contract';
import { useBundles, useHostList } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../components/card';
import { EmptyState, ErrorNotice, LoadingState } from '../components/query-state';
import { formatBytes } from '../format/bytes';
import { formatDuration } from '../format/time';
import { useInstallJob } from './use-install-job';
import type { WizardDraftHandle } from './use-wizard-draft';
import { definitionOf } from './wizard-draft';
import { WizardNav } from './wizard-nav';

const STEP_TEXT: Record<JobStepStatus, string> = {
  pending: 'Waiting',
  running: 'Running',
  done: 'Done',
  'already-done': 'Already done',
  failed: 'Failed',
  skipped: 'Not reached',
};

const HOST_TEXT: Record<JobHostState, string> = {
  queued: 'Queued',
  running: 'Installing',
  installed: 'Installed',
  unchanged: 'Unchanged',
  failed: 'Failed',
};

function Progress({ value, max, label, testId }: { value: number; max: number; label: string; testId?: string }) {
  const percent = max === 0 ? 100 : Math.min(100, Math.round((value / max) * 100));
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value} data-testid={testId}>
      <div className="progress-fill" style={{ width: `${percent}%` }} />
    </div>
  );
}

function StepRow({ step }: { step: InstallJobStep }) {
  const took = step.startedAt !== null && step.finishedAt !== null && step.finishedAt > step.startedAt ? formatDuration(step.finishedAt - step.startedAt) : null;
  return (
    <li className={`job-step job-step-${step.status}`} data-testid="wizard-job-step" data-step={step.step} data-status={step.status}>
      <details open={step.status === 'failed'}>
        <summary>
          <span className={`badge job-state job-state-${step.status}`}>
            {step.status === 'running' ? <span className="spinner spinner-small" aria-hidden="true" /> : null}
            {STEP_TEXT[step.status]}
          </span>
          <span className="plan-step-name mono">{step.step}</span>
          <span className="plan-step-detail">{step.detail}</span>
          {took ? <span className="muted figure">{took}</span> : null}
        </summary>
        {step.output ? (
          <pre className="job-output" data-testid="wizard-job-output">
            {step.output}
          </pre>
        ) : (
          <p className="muted job-output-none">{step.status === 'pending' || step.status === 'running' ? 'Its output shows once it finishes.' : 'It printed nothing.'}</p>
        )}
      </details>
    </li>
  );
}

function HostProgress({ host }: { host: InstallJobHost }) {
  const finished = host.steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
  const uploading = host.upload && host.steps.find((s) => s.step === 'upload')?.status === 'running';
  return (
    <section className="wizard-host" data-testid="wizard-job-host" data-host-name={host.host} data-state={host.state}>
      <header className="wizard-host-head">
        <h3 className="host-name">{host.host}</h3>
        <span className={`badge job-host-state job-host-state-${host.state}`}>{HOST_TEXT[host.state]}</span>
        <span className="wizard-host-count figure">
          {finished} of {host.steps.length} steps
        </span>
      </header>
      <Progress value={finished} max={host.steps.length} label={`Steps finished on ${host.host}`} />
      {host.upload ? (
        <div className="progress-block" data-testid="wizard-job-upload" data-bytes={host.upload.bytesOnHost} data-total={host.upload.totalBytes}>
          <Progress value={host.upload.bytesOnHost} max={host.upload.totalBytes} label={`Bundle uploaded to ${host.host}`} />
          <span className="progress-text figure">
            {uploading ? 'Uploading ' : 'Uploaded '}
            {formatBytes(host.upload.bytesOnHost)} of {formatBytes(host.upload.totalBytes)}
            {host.upload.resumedFrom > 0 ? `, resumed at ${formatBytes(host.upload.resumedFrom)}` : ''}
          </span>
        </div>
      ) : null}
      {host.error ? <ErrorNotice title={`${host.host} was not installed`} error={host.error} /> : null}
      <ol className="job-steps">
        {host.steps.map((step) => (
          <StepRow key={step.step} step={step} />
        ))}
      </ol>
    </section>
  );
}

/** Installing again resumes: every step already done on a machine is found done and skipped. */
function useInstallAgain(wizard: WizardDraftHandle) {
  const bundles = useBundles();
  const hosts = useHostList();
  const start = useApiAction('installs.start');
  const definition = bundles.data && hosts.data ? definitionOf(wizard.draft, bundles.data.find((b) => b.id === wizard.draft.bundleId), hosts.data) : null;
  const run = async () => {
    if (!definition) return;
    const started = await start.run({ install: definition });
    if (started) wizard.update({ installJobId: started.jobId });
  };
  return { run, start, ready: definition !== null };
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

function InstallJob({ jobId, wizard, again }: { jobId: string; wizard: WizardDraftHandle; again: ReturnType<typeof useInstallAgain> }) {
  const view = useInstallJob(jobId);
  const againButton = (
    <button type="button" className="button" onClick={() => void again.run()} disabled={!again.ready || again.start.pending} data-testid="wizard-install-again">
      {again.start.pending ? 'Starting…' : 'Install again'}
    </button>
  );
  const againError = again.start.state.status === 'error' ? <ErrorNotice title="The install did not start" error={again.start.state.error} /> : null;

  if (view.status === 'loading') return <LoadingState label="Loading the install’s progress…" />;
  if (view.status === 'error') return <ErrorNotice title="Could not follow the install" error={view.error} onRetry={view.retry} />;
  if (view.status === 'gone') {
    return (
      <div className="stack" data-testid="wizard-install-step" data-state="gone">
        <EmptyState title="This install is no longer running">
          The app was restarted while it ran, or it ended over an hour ago. What each machine got is recorded: installing again
          finds the steps already done and resumes where it stopped.
        </EmptyState>
        {againError}
        <WizardNav onBack={() => void wizard.go('review')}>{againButton}</WizardNav>
      </div>
    );
  }
  const { job } = view;
  const { finished, total } = countFinishedSteps(job);
  const running = job.state === 'running';
  const unchanged = job.hosts.every((h) => h.state === 'unchanged');
  return (
    <div className="stack" data-testid="wizard-install-step" data-state={job.state}>
      <Card
        title={running ? `Installing ${job.install}` : job.state === 'succeeded' ? `Installed ${job.install}` : `The install of ${job.install} stopped`}
        aside={`${job.bundle} on ${job.hosts.length === 1 ? '1 machine' : `${job.hosts.length} machines`}`}
        testId="wizard-job"
      >
        <div className="stack">
          <div className="progress-block">
            <Progress value={finished} max={total} label="Steps finished" testId="wizard-job-progress" />
            <span className="progress-text figure">
              {finished} of {total} steps
            </span>
          </div>
          {job.state === 'succeeded' ? (
            <p className="key-panel key-panel-ok" role="status">
              {unchanged ? 'Every machine already had this install: nothing was changed.' : 'Every machine is installed and its runtime reported healthy.'}
            </p>
          ) : null}
          {job.error ? <ErrorNotice title="The install stopped" error={job.error} /> : null}
          {job.hosts.map((host) => (
            <HostProgress key={host.host} host={host} />
          ))}
        </div>
      </Card>
      {againError}
      <WizardNav
        onBack={() => void wizard.go('review')}
        backDisabled={running}
        nextLabel="Next: check the runtimes"
        onNext={() => void wizard.go('done')}
        problem={running ? 'Installing…' : job.state === 'failed' ? 'A machine was not installed: fix what its step says, then install again (it resumes).' : null}
      >
        {job.state === 'failed' ? againButton : null}
      </WizardNav>
    </div>
  );
}

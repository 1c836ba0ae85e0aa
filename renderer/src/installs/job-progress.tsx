import { useState } from 'react';
import {
  countDoneSteps,
  failedStepOf,
  type InstallJobHost,
  type InstallJobKind,
  type InstallJobStatus,
  type InstallJobStep,
  type JobHostState,
  type JobState,
  type JobStepStatus,
} from '../../../electron/contract';
import { useApiAction } from '../api/use-api-action';
import { ModalDialog } from '../ui/modal-dialog';
import { ErrorNotice } from '../ui/query-state';
import { formatBytes } from '../format/bytes';
import { formatDuration } from '../format/time';
import { stepsDoneText } from './install-view';
import { useAllowed } from '../operators/use-session';

/**
 * A job's live progress, host by host and step by step, with each step's output a click
 * away: the wizard's install step and the Installs page show their jobs (apply, upgrade,
 * rollback, uninstall) with these same parts.
 */

const STEP_TEXT: Record<JobStepStatus, string> = {
  pending: 'Waiting',
  running: 'Running',
  done: 'Done',
  'already-done': 'Already done',
  failed: 'Failed',
  skipped: 'Not reached',
};

const RUNNING_TEXT: Record<InstallJobKind, string> = {
  apply: 'Installing',
  upgrade: 'Upgrading',
  rollback: 'Rolling back',
  uninstall: 'Removing',
};

function hostText(state: JobHostState, kind: InstallJobKind): string {
  switch (state) {
    case 'queued':
      return 'Queued';
    case 'running':
      return RUNNING_TEXT[kind];
    case 'installed':
      return kind === 'upgrade' ? 'Upgraded' : 'Installed';
    case 'unchanged':
      return 'Unchanged';
    case 'rolled-back':
      return 'Rolled back';
    case 'removed':
      return 'Removed';
    case 'stopped':
      return 'Left as it was';
    case 'cancelled':
      return 'Cancelled';
    case 'interrupted':
      return 'Interrupted';
    case 'failed':
      return 'Failed';
  }
}

export const JOB_KIND_TEXT: Record<InstallJobKind, string> = {
  apply: 'Install',
  upgrade: 'Upgrade',
  rollback: 'Rollback',
  uninstall: 'Uninstall',
};

export const JOB_STATE_TEXT: Record<JobState, string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

export function Progress({ value, max, label, testId }: { value: number; max: number; label: string; testId?: string }) {
  const percent = max === 0 ? 100 : Math.min(100, Math.round((value / max) * 100));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      data-testid={testId}
    >
      <div className="progress-fill" style={{ width: `${percent}%` }} />
    </div>
  );
}

function StepRow({ step }: { step: InstallJobStep }) {
  const took =
    step.startedAt !== null && step.finishedAt !== null && step.finishedAt > step.startedAt
      ? formatDuration(step.finishedAt - step.startedAt)
      : null;
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
          <p className="muted job-output-none">
            {step.status === 'pending' || step.status === 'running' ? 'Its output shows once it finishes.' : 'It printed nothing.'}
          </p>
        )}
      </details>
    </li>
  );
}

export function HostProgress({ host, kind }: { host: InstallJobHost; kind: InstallJobKind }) {
  const { done, total } = countDoneSteps(host);
  const stoppedAt = failedStepOf(host);
  const uploading = host.upload && host.steps.find((s) => s.step === 'upload')?.status === 'running';
  return (
    <section className="wizard-host" data-testid="wizard-job-host" data-host-name={host.host} data-state={host.state}>
      <header className="wizard-host-head">
        <h3 className="host-name">{host.host}</h3>
        <span className={`badge job-host-state job-host-state-${host.state}`}>{hostText(host.state, kind)}</span>
        <span className="wizard-host-count figure" data-testid="wizard-job-host-count">
          {stepsDoneText(done, total, stoppedAt)}
        </span>
      </header>
      <Progress value={done} max={total} label={`Steps done on ${host.host}`} />
      {host.upload ? (
        <div
          className="progress-block"
          data-testid="wizard-job-upload"
          data-bytes={host.upload.bytesOnHost}
          data-total={host.upload.totalBytes}
          data-resumed-from={host.upload.resumedFrom}
        >
          <Progress value={host.upload.bytesOnHost} max={host.upload.totalBytes} label={`Bundle uploaded to ${host.host}`} />
          <span className="progress-text figure">
            {uploading ? 'Uploading ' : 'Uploaded '}
            {formatBytes(host.upload.bytesOnHost)} of {formatBytes(host.upload.totalBytes)}
            {host.upload.resumedFrom > 0 ? `, resumed at ${formatBytes(host.upload.resumedFrom)}` : ''}
          </span>
        </div>
      ) : null}
      {host.error ? <ErrorNotice title={`${host.host}: ${hostText(host.state, kind).toLowerCase()}`} error={host.error} /> : null}
      {host.notes.length > 0 ? (
        <ul className="job-notes" data-testid="wizard-job-notes" aria-label={`What else happened on ${host.host}`}>
          {host.notes.map((note, index) => (
            <li key={index}>{note}</li>
          ))}
        </ul>
      ) : null}
      <ol className="job-steps">
        {host.steps.map((step) => (
          <StepRow key={step.step} step={step} />
        ))}
      </ol>
    </section>
  );
}

/** The whole job: overall progress, why it stopped, and every host. */
export function JobProgress({ job }: { job: InstallJobStatus }) {
  const { done, total } = countDoneSteps(job);
  return (
    <div className="stack" data-testid="job-progress" data-job-id={job.jobId} data-kind={job.kind} data-state={job.state}>
      <div className="progress-block">
        <Progress value={done} max={total} label="Steps done" testId="wizard-job-progress" />
        <span className="progress-text figure" data-testid="wizard-job-count">
          {stepsDoneText(done, total, null)}
        </span>
      </div>
      {job.error ? (
        <ErrorNotice
          title={
            job.state === 'cancelled'
              ? 'Cancelled'
              : job.state === 'interrupted'
                ? 'Interrupted'
                : `The ${JOB_KIND_TEXT[job.kind].toLowerCase()} stopped`
          }
          error={job.error}
        />
      ) : null}
      {job.hosts.map((host) => (
        <HostProgress key={host.host} host={host} kind={job.kind} />
      ))}
    </div>
  );
}

/**
 * Cancel, after the operator confirms: installs.cancel cuts each host's SSH connection as
 * a dropped link would; the next run resumes. The job's own events then say it ended.
 */
export function CancelJobButton({ job }: { job: InstallJobStatus }) {
  const [confirming, setConfirming] = useState(false);
  const cancel = useApiAction('installs.cancel');
  // Cancelling a job is an admin's, as starting one is (installs.cancel is an `install` action).
  const cancelling = useAllowed('install');
  if (job.state !== 'running' || job.kind === 'uninstall') return null;
  const requested = cancel.state.status === 'success' && cancel.state.result.cancelled;
  return (
    <>
      <button
        type="button"
        className="button button-danger-quiet"
        onClick={() => setConfirming(true)}
        disabled={cancel.pending || requested || !cancelling.allowed}
        title={cancelling.reason ?? undefined}
        data-testid="job-cancel"
      >
        {requested ? 'Cancelling…' : 'Cancel'}
      </button>
      {cancel.state.status === 'error' ? <ErrorNotice title="Could not cancel" error={cancel.state.error} /> : null}
      {confirming ? (
        <ModalDialog
          title={`Cancel the ${JOB_KIND_TEXT[job.kind].toLowerCase()} of ${job.install}?`}
          description="Each machine’s connection is cut where it stands, as if the network dropped. Nothing is left half-switched, and running it again resumes where it stopped."
          onClose={() => setConfirming(false)}
          testId="job-cancel-dialog"
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirming(false)}>
                Keep going
              </button>
              <button
                type="button"
                className="button button-danger"
                data-testid="job-cancel-confirm"
                onClick={() => {
                  setConfirming(false);
                  void cancel.run({ jobId: job.jobId });
                }}
              >
                Cancel it
              </button>
            </>
          }
        >
          <p className="muted">{countDoneSteps(job).done} steps are done so far.</p>
        </ModalDialog>
      ) : null}
    </>
  );
}

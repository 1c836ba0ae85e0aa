import {
  JOB_NOTE_LIMIT,
  JOB_NOTES_KEPT,
  JOB_STEPS,
  type InstallJobHost,
  type InstallJobKind,
  type InstallJobStatus,
  type InstallProgress,
  type JobHostState,
  type JobStepName,
  type JobStepStatus,
} from './installs';

/**
 * How a job's progress events change its status. One function for both ends: the
 * backend keeps installs.status with it (and stores what it folded), and a window folds
 * the live events into the status it fetched, so all of them agree on what an event means.
 */

const FINAL: ReadonlySet<JobStepStatus> = new Set(['done', 'already-done', 'failed', 'skipped']);
/** A host still in one of these when its job ends was cut off with the job. */
const UNSETTLED: ReadonlySet<JobHostState> = new Set(['queued', 'running']);

/** A host before any event: every step of the job's kind pending. */
export function queuedJobHost(host: string, kind: InstallJobKind = 'apply'): InstallJobHost {
  return {
    host,
    state: 'queued',
    error: null,
    upload: null,
    steps: JOB_STEPS[kind].map((step) => ({ step, status: 'pending', detail: '', output: null, startedAt: null, finishedAt: null })),
    notes: [],
  };
}

/** Folds one event in; events of another job, and ones already folded in (seq not newer), change nothing. */
export function applyInstallProgress(status: InstallJobStatus, event: InstallProgress): InstallJobStatus {
  if (event.jobId !== status.jobId || event.seq <= status.seq) return status;
  if (event.kind === 'finished') {
    // A job cut short (cancelled, interrupted) leaves its unsettled hosts in the same state, not "running" forever.
    const cutShort = event.state === 'cancelled' || event.state === 'interrupted' ? event.state : null;
    const hosts =
      cutShort === null
        ? status.hosts
        : status.hosts.map((h): InstallJobHost => {
            if (!UNSETTLED.has(h.state)) return h;
            const steps = h.steps.map((s) =>
              s.status === 'running' ? { ...s, status: 'failed' as const, detail: `${cutShort}: ${s.detail}`, finishedAt: event.at } : s,
            );
            return { ...h, state: cutShort, steps };
          });
    return { ...status, seq: event.seq, state: event.state, error: event.error, finishedAt: event.at, hosts };
  }
  const index = status.hosts.findIndex((h) => h.host === event.host);
  const before = index === -1 ? queuedJobHost(event.host, status.kind) : status.hosts[index]!;
  let host: InstallJobHost;
  switch (event.kind) {
    case 'step': {
      const known = before.steps.some((s) => s.step === event.step);
      // A step this kind does not list (an older client's list) is added rather than dropped.
      const steps = known
        ? before.steps
        : [...before.steps, { step: event.step, status: 'pending' as const, detail: '', output: null, startedAt: null, finishedAt: null }];
      host = {
        ...before,
        state: before.state === 'queued' ? 'running' : before.state,
        steps: steps.map((step) => {
          if (step.step !== event.step) return step;
          const final = FINAL.has(event.status);
          return {
            step: step.step,
            status: event.status,
            detail: event.detail,
            output: event.output ?? (final ? step.output : null),
            startedAt: event.status === 'running' ? event.at : (step.startedAt ?? (final && event.status !== 'skipped' ? event.at : null)),
            finishedAt: final ? event.at : null,
          };
        }),
      };
      break;
    }
    case 'upload':
      host = { ...before, upload: event.upload };
      break;
    case 'note':
      host = { ...before, notes: [...before.notes, event.text.slice(0, JOB_NOTE_LIMIT)].slice(-JOB_NOTES_KEPT) };
      break;
    case 'host':
      host = { ...before, state: event.outcome, error: event.error };
      break;
  }
  const hosts = index === -1 ? [...status.hosts, host] : status.hosts.map((h, i) => (i === index ? host : h));
  return { ...status, seq: event.seq, hosts };
}

const DONE: ReadonlySet<JobStepStatus> = new Set(['done', 'already-done']);

/**
 * Steps done out of all, over every host (or of one host): the progress a job shows. A
 * failed step and the steps not reached after it are over but not done, so a host or job
 * that stopped never reads as complete.
 */
export function countDoneSteps(of: { hosts: readonly Pick<InstallJobHost, 'steps'>[] } | Pick<InstallJobHost, 'steps'>): {
  done: number;
  total: number;
} {
  const steps = 'hosts' in of ? of.hosts.flatMap((h) => h.steps) : of.steps;
  return { done: steps.filter((s) => DONE.has(s.status)).length, total: steps.length };
}

/** The step a host stopped at (the one that failed), or null while none has. */
export function failedStepOf(host: Pick<InstallJobHost, 'steps'>): JobStepName | null {
  return host.steps.find((s) => s.status === 'failed')?.step ?? null;
}

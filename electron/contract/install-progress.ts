import { INSTALL_STEPS, type InstallJobHost, type InstallJobStatus, type InstallProgress, type JobStepStatus } from './installs';

/**
 * How an apply job's progress events change its status. One function for both ends: the
 * backend keeps installs.status with it, and a window folds the live events into the
 * status it fetched, so both always agree on what an event means.
 */

const FINAL: ReadonlySet<JobStepStatus> = new Set(['done', 'already-done', 'failed', 'skipped']);

/** A host before any event: every step pending. */
export function queuedJobHost(host: string): InstallJobHost {
  return {
    host,
    state: 'queued',
    error: null,
    upload: null,
    steps: INSTALL_STEPS.map((step) => ({ step, status: 'pending', detail: '', output: null, startedAt: null, finishedAt: null })),
  };
}

/** Folds one event in; events of another job, and ones already folded in (seq not newer), change nothing. */
export function applyInstallProgress(status: InstallJobStatus, event: InstallProgress): InstallJobStatus {
  if (event.jobId !== status.jobId || event.seq <= status.seq) return status;
  if (event.kind === 'finished') {
    return { ...status, seq: event.seq, state: event.state, error: event.error, finishedAt: event.at };
  }
  const index = status.hosts.findIndex((h) => h.host === event.host);
  const before = index === -1 ? queuedJobHost(event.host) : status.hosts[index]!;
  let host: InstallJobHost;
  switch (event.kind) {
    case 'step':
      host = {
        ...before,
        state: before.state === 'queued' ? 'running' : before.state,
        steps: before.steps.map((step) => {
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
    case 'upload':
      host = { ...before, upload: event.upload };
      break;
    case 'host':
      host = { ...before, state: event.outcome, error: event.error };
      break;
  }
  const hosts = index === -1 ? [...status.hosts, host] : status.hosts.map((h, i) => (i === index ? host : h));
  return { ...status, seq: event.seq, hosts };
}

/** Steps finished out of all, over every host: the job's overall progress. */
export function countFinishedSteps(status: InstallJobStatus): { finished: number; total: number } {
  let finished = 0;
  let total = 0;
  for (const host of status.hosts) {
    for (const step of host.steps) {
      total += 1;
      if (FINAL.has(step.status)) finished += 1;
    }
  }
  return { finished, total };
}

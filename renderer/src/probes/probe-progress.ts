import type { ProbeProgress } from '../../../electron/contract';

export type ProbeState = ProbeProgress['state'];

export const FINAL_STATES: ReadonlySet<ProbeState> = new Set(['done', 'failed', 'cancelled']);

export function isFinal(state: ProbeState): boolean {
  return FINAL_STATES.has(state);
}

/** One host of a bulk probe as the view shows it. */
export interface ProbeHostRow {
  hostId: number;
  hostName: string;
  state: ProbeState;
  error: ProbeProgress['error'];
  /** Elapsed time the backend reported with the last event, and when that event arrived here. */
  elapsedMs: number;
  receivedAt: number;
}

export interface ProbeJobView {
  jobId: string;
  total: number;
  finished: number;
  /** Rows in the order the hosts were asked for. */
  hosts: ProbeHostRow[];
  cancelRequested: boolean;
}

/** A job before any event: every host queued, in the order given. */
export function initialJob(jobId: string, total: number, hosts: Array<{ hostId: number; hostName: string }>, now: number): ProbeJobView {
  return {
    jobId,
    total,
    finished: 0,
    hosts: hosts.map(({ hostId, hostName }) => ({ hostId, hostName, state: 'queued', error: null, elapsedMs: 0, receivedAt: now })),
    cancelRequested: false,
  };
}

/**
 * Folds one `probes.progress` event into the job. Events of other jobs are ignored; a
 * host that reached a final state stays there (a late event cannot revive it), and the
 * finished count never goes backwards.
 */
export function applyProgress(job: ProbeJobView, event: ProbeProgress, now: number): ProbeJobView {
  if (event.jobId !== job.jobId) return job;
  const index = job.hosts.findIndex((row) => row.hostId === event.hostId);
  const current = index === -1 ? null : job.hosts[index]!;
  if (current && isFinal(current.state)) {
    return event.finished > job.finished ? { ...job, finished: Math.min(event.finished, job.total) } : job;
  }
  const row: ProbeHostRow = {
    hostId: event.hostId,
    hostName: event.hostName,
    state: event.state,
    error: event.error,
    elapsedMs: event.elapsedMs,
    receivedAt: now,
  };
  const hosts = index === -1 ? [...job.hosts, row] : job.hosts.map((r, i) => (i === index ? row : r));
  const total = Math.max(job.total, event.total);
  const finalCount = hosts.filter((r) => isFinal(r.state)).length;
  return { ...job, hosts, total, finished: Math.min(total, Math.max(job.finished, event.finished, finalCount)) };
}

export function isJobFinished(job: ProbeJobView): boolean {
  return job.finished >= job.total && job.hosts.every((row) => isFinal(row.state));
}

/** How long a host has been at it: frozen once final, still counting while it runs. */
export function elapsedOf(row: ProbeHostRow, now: number): number {
  if (row.state === 'queued' || isFinal(row.state)) return row.elapsedMs;
  return row.elapsedMs + Math.max(0, now - row.receivedAt);
}

export function countByState(job: ProbeJobView): Record<ProbeState, number> {
  const counts: Record<ProbeState, number> = { queued: 0, connecting: 0, probing: 0, storing: 0, done: 0, failed: 0, cancelled: 0 };
  for (const row of job.hosts) counts[row.state] += 1;
  return counts;
}

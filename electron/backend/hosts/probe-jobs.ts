import { randomUUID } from 'node:crypto';
import { ApiError, type ProbeProgress } from '../../contract';
import type { ProbeOptions } from './host-service';

export interface ProbeJobDeps {
  probe(hostId: number, options: ProbeOptions): Promise<unknown>;
  hostName(hostId: number): string;
  onProgress(progress: ProbeProgress): void;
  now?: () => number;
}

export interface ProbeJobOptions {
  concurrency: number;
  timeoutMs: number;
}

export interface ProbeJob {
  jobId: string;
  total: number;
  /** Resolves with every host's final state once all are done, failed or cancelled. */
  done: Promise<ProbeProgress[]>;
}

/** A finished job's states stay readable this long, for a window that reloads to follow it. */
export const JOB_STATUS_KEEP_MS = 60 * 60 * 1000;

export interface ProbeJobs {
  start(hostIds: number[], options: ProbeJobOptions): ProbeJob;
  cancel(jobId: string): { cancelled: number };
  status(jobId: string): { jobId: string; total: number; finished: boolean; hosts: ProbeProgress[] };
}

/**
 * Bulk probes: a list of hosts probed at most `concurrency` at a time, each within its
 * own timeout, every state change reported (probes.progress) and kept for probes.status.
 * Cancelling stops queued hosts at once and aborts the connections in flight. A job's
 * states live in this process only, unlike install jobs: a restarted backend knows none
 * (the facts each probe stored stay).
 */
export function createProbeJobs(deps: ProbeJobDeps): ProbeJobs {
  const now = deps.now ?? Date.now;
  const running = new Map<string, AbortController>();
  // The newest state of every host of every recent job: what probes.status answers.
  const latest = new Map<string, { total: number; hosts: Map<number, ProbeProgress>; finishedAt: number | null }>();
  const prune = () => {
    for (const [id, job] of latest) if (job.finishedAt !== null && now() - job.finishedAt > JOB_STATUS_KEEP_MS) latest.delete(id);
  };

  function start(hostIds: number[], options: ProbeJobOptions): ProbeJob {
    const unique = [...new Set(hostIds)];
    const names = new Map(unique.map((id) => [id, deps.hostName(id)])); // throws HOST_NOT_FOUND up front
    const jobId = randomUUID();
    const controller = new AbortController();
    running.set(jobId, controller);
    const total = unique.length;
    prune();
    const record = { total, hosts: new Map<number, ProbeProgress>(), finishedAt: null as number | null };
    latest.set(jobId, record);
    const finalStates = new Map<number, ProbeProgress>();
    const startedAt = new Map<number, number>();
    const emit = (hostId: number, state: ProbeProgress['state'], error: ProbeProgress['error'] = null) => {
      const progress: ProbeProgress = {
        jobId,
        hostId,
        hostName: names.get(hostId) ?? String(hostId),
        state,
        error,
        elapsedMs: startedAt.has(hostId) ? now() - startedAt.get(hostId)! : 0,
        finished: finalStates.size + (['done', 'failed', 'cancelled'].includes(state) ? 1 : 0),
        total,
      };
      if (['done', 'failed', 'cancelled'].includes(state)) finalStates.set(hostId, progress);
      record.hosts.set(hostId, progress);
      deps.onProgress(progress);
    };

    const queue = [...unique];
    for (const id of queue) emit(id, 'queued');

    const worker = async (): Promise<void> => {
      for (let hostId = queue.shift(); hostId !== undefined; hostId = queue.shift()) {
        if (controller.signal.aborted) {
          emit(hostId, 'cancelled');
          continue;
        }
        startedAt.set(hostId, now());
        const id = hostId;
        try {
          await deps.probe(id, { signal: controller.signal, timeoutMs: options.timeoutMs, onStep: (step) => emit(id, step) });
          emit(id, 'done');
        } catch (error) {
          if (controller.signal.aborted) emit(id, 'cancelled');
          else {
            const api =
              error instanceof ApiError ? error : new ApiError('PROBE_FAILED', String((error as Error)?.message ?? error), 'Try again.');
            emit(id, 'failed', api.toBody());
          }
        }
      }
    };

    const done = Promise.all(Array.from({ length: Math.min(options.concurrency, total) }, worker)).then(() => {
      running.delete(jobId);
      record.finishedAt = now();
      return unique.map((id) => finalStates.get(id)!);
    });
    return { jobId, total, done };
  }

  function cancel(jobId: string): { cancelled: number } {
    const controller = running.get(jobId);
    if (!controller) return { cancelled: 0 };
    controller.abort();
    return { cancelled: 1 };
  }

  /** Where a job stands now, host by host: lets a reloaded window pick its progress up again. */
  function status(jobId: string): { jobId: string; total: number; finished: boolean; hosts: ProbeProgress[] } {
    const job = latest.get(jobId);
    if (!job) {
      throw new ApiError(
        'NOT_FOUND',
        `There is no recent bulk probe ${jobId}.`,
        'Bulk probes are kept for an hour after they finish; start a new one from the Hosts page.',
      );
    }
    return { jobId, total: job.total, finished: job.finishedAt !== null, hosts: [...job.hosts.values()] };
  }

  return { start, cancel, status };
}

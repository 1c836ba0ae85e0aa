import { randomUUID } from 'node:crypto';
import {
  ApiError,
  applyInstallProgress,
  isApiError,
  queuedJobHost,
  type InstallJobStatus,
  type InstallProgress,
  type ParsedInstallDefinition,
} from '../../contract';
import type { HostsRepo } from '../store/hosts-repo';
import type { InstallRecordsRepo } from '../store/install-records-repo';
import { installFileOf } from './install-definition';
import type { InstallEngine } from './install-engine';
import type { InstallEvent } from './install-steps';

export interface InstallJobsDeps {
  engine: Pick<InstallEngine, 'apply'>;
  records: Pick<InstallRecordsRepo, 'installId' | 'stepOutput'>;
  hosts: Pick<HostsRepo, 'findByName'>;
  onProgress(progress: InstallProgress): void;
  now?: () => number;
  logger?: { info(o: object, m: string): void; error(o: object, m: string): void };
}

/** A finished job stays readable this long, for a window that reloads to follow it. */
export const INSTALL_JOB_KEEP_MS = 60 * 60 * 1000;
/** Upload progress is sent at most this often per host (the engine reports every acknowledged chunk). */
export const UPLOAD_PROGRESS_INTERVAL_MS = 200;

const FINAL_STEP = new Set(['done', 'already-done', 'failed']);

/**
 * Apply jobs for the API: installs.start runs the engine's apply in the background and
 * answers with a job id; every step, upload and host outcome becomes an installs.progress
 * event and is folded into the job's status (the contract's applyInstallProgress, the
 * same fold a window uses), so installs.status lets a reloaded window pick the job up.
 * The engine records every step in the store too, so an apply cut off by closing the app
 * resumes when it is started again.
 */
export function createInstallJobs(deps: InstallJobsDeps) {
  const now = deps.now ?? Date.now;
  const jobs = new Map<string, InstallJobStatus>();
  const running = new Map<string, string>(); // install name -> job id

  const prune = () => {
    for (const [id, job] of jobs) if (job.finishedAt !== null && now() - job.finishedAt > INSTALL_JOB_KEEP_MS) jobs.delete(id);
  };

  /** Starts the apply; resolves once it reached its first host, or rejects with why it could not start at all. */
  async function start(definition: ParsedInstallDefinition, options: { concurrency?: number } = {}): Promise<{ jobId: string }> {
    const other = running.get(definition.name);
    if (other !== undefined) {
      throw new ApiError('INSTALL_CONFLICT', `The install ${definition.name} is being applied already (job ${other}).`, 'Wait for it to finish; its progress is on the Install page.');
    }
    prune();
    const jobId = randomUUID();
    const startedAt = now();
    let status: InstallJobStatus = {
      jobId,
      seq: 0,
      install: definition.name,
      bundle: definition.bundle,
      state: 'running',
      error: null,
      startedAt,
      finishedAt: null,
      hosts: definition.hosts.map((host) => queuedJobHost(host.name)),
    };
    const emit = (event: DistributiveOmit<InstallProgress, 'jobId' | 'seq' | 'at'>) => {
      const full = { ...event, jobId, seq: status.seq + 1, at: now() } as InstallProgress;
      status = applyInstallProgress(status, full);
      jobs.set(jobId, status);
      deps.onProgress(full);
    };
    const lastUpload = new Map<string, number>();
    let sawEvent = false;
    let reachedHost!: () => void;
    const firstEvent = new Promise<void>((resolve) => (reachedHost = resolve));

    const onEvent = (event: InstallEvent) => {
      sawEvent = true;
      reachedHost();
      // Reporting must never break the install it reports on.
      try {
        report(event);
      } catch (error) {
        deps.logger?.error({ install: definition.name, jobId, err: error }, 'install progress could not be reported');
      }
    };
    const report = (event: InstallEvent) => {
      switch (event.kind) {
        case 'step': {
          const output = FINAL_STEP.has(event.status) ? outputOf(definition.name, event.host, event.step) : null;
          emit({ kind: 'step', host: event.host, step: event.step, status: event.status, detail: event.detail, output });
          break;
        }
        case 'upload': {
          const at = now();
          const done = event.bytesOnHost === event.totalBytes;
          if (!done && at - (lastUpload.get(event.host) ?? 0) < UPLOAD_PROGRESS_INTERVAL_MS) return;
          lastUpload.set(event.host, at);
          const { bytesOnHost, totalBytes, resumedFrom, bytesSent } = event;
          emit({ kind: 'upload', host: event.host, upload: { bytesOnHost, totalBytes, resumedFrom, bytesSent } });
          break;
        }
        case 'host':
          emit({ kind: 'host', host: event.host, outcome: event.outcome, error: event.error });
          break;
      }
    };

    jobs.set(jobId, status);
    running.set(definition.name, jobId);
    let failure: { error: unknown } | null = null;
    const run = deps.engine
      .apply(installFileOf(definition), { ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}), onEvent })
      .catch((error: unknown) => {
        failure = { error };
      });
    await Promise.race([firstEvent, run]);

    if (!sawEvent) {
      // What stops the install before any host is touched (an unknown bundle or host, a bad
      // layer, locked secrets) is the answer to installs.start itself; no job is kept for it.
      running.delete(definition.name);
      jobs.delete(jobId);
      const early = failure as { error: unknown } | null;
      throw early ? toApiError(early.error) : new ApiError('INTERNAL', 'The install ended before it reached any host.', 'Apply again; if it keeps happening, send the app log with your report.');
    }
    void run.then(() => {
      running.delete(definition.name);
      const ended = failure as { error: unknown } | null;
      if (ended) deps.logger?.error({ install: definition.name, jobId, err: ended.error }, 'install job stopped');
      const error = ended ? toApiError(ended.error) : null;
      const failed = error !== null || status.hosts.some((host) => host.state === 'failed');
      emit({ kind: 'finished', state: failed ? 'failed' : 'succeeded', error: error?.toBody() ?? null });
      deps.logger?.info({ install: definition.name, jobId, state: status.state }, 'install job finished');
    });
    return { jobId };
  }

  function outputOf(install: string, hostName: string, step: string): string | null {
    const installId = deps.records.installId(install);
    const host = deps.hosts.findByName(hostName);
    if (installId === null || !host) return null;
    return deps.records.stepOutput(installId, host.id, step);
  }

  function status(jobId: string): InstallJobStatus {
    const job = jobs.get(jobId);
    if (!job) {
      throw new ApiError('NOT_FOUND', `There is no recent install job ${jobId}.`, 'Install jobs are kept for an hour after they finish, and not across a restart of the app; what each host got is recorded: apply again to resume or to confirm.');
    }
    return job;
  }

  return { start, status };
}

export type InstallJobs = ReturnType<typeof createInstallJobs>;

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError('INSTALL_STEP_FAILED', `The install stopped: ${(error as Error)?.message ?? String(error)}`, 'Apply again; if it keeps failing, send the app log with your report.', { cause: error });
}

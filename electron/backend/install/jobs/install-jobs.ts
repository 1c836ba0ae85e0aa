import { randomUUID } from 'node:crypto';
import {
  ApiError,
  applyInstallProgress,
  isApiError,
  queuedJobHost,
  type ApiErrorBody,
  type InstallJobKind,
  type InstallJobStatus,
  type InstallJobSummary,
  type InstallProgress,
  type JobState,
  type ParsedInstallDefinition,
} from '../../../contract';
import type { HostsRepo } from '../../store/hosts-repo';
import type { InstallJobsRepo } from '../../store/install-jobs-repo';
import type { InstallRecordsRepo } from '../../store/install-records-repo';
import { processAlive } from '../../store/owner-process';
import { installFileOf } from '../definition/install-definition';
import type { InstallEngine } from '../engine/install-engine';
import type { InstallEvent } from '../engine/install-steps';
import { currentJob } from './job-context';
import { cancelledError, interruptedError } from './job-remedies';

export interface InstallJobsDeps {
  engine: Pick<InstallEngine, 'apply'>;
  records: Pick<InstallRecordsRepo, 'installId' | 'stepOutput'>;
  hosts: Pick<HostsRepo, 'findByName'>;
  /** Where jobs are kept as they run, so they outlive the backend. */
  store: InstallJobsRepo;
  onProgress(progress: InstallProgress): void;
  now?: () => number;
  /** Whether the backend process that ran a job is still alive (a stored running job of a dead one was interrupted). */
  processAlive?: (pid: number) => boolean;
  logger?: { info(o: object, m: string): void; error(o: object, m: string): void };
}

/** Upload progress is sent at most this often per host (the engine reports every acknowledged chunk). */
export const UPLOAD_PROGRESS_INTERVAL_MS = 200;

const FINAL_STEP = new Set(['done', 'already-done', 'failed']);

/** How a host ended, as a job reports it at the end (rollback and uninstall say it in their result, not in events). */
export interface HostEnding {
  host: string;
  outcome: Extract<InstallProgress, { kind: 'host' }>['outcome'];
  error: ApiErrorBody | null;
}

/** What a job runs: the engine call, given the events sink and the signal that cancels it. */
export interface JobSpec {
  kind: InstallJobKind;
  install: string;
  bundle: string;
  hosts: readonly string[];
  /** Steps of a release other than this host's target come as notes (a rollback's return to where it was). */
  execute(context: { onEvent: (event: InstallEvent) => void; signal: AbortSignal }): Promise<{ hosts?: HostEnding[] }>;
}

/** Job ids live in this process, across every backend it runs: a stored running job among them is not interrupted. */
const liveInThisProcess = new Set<string>();

interface LiveJob {
  status: InstallJobStatus;
  kind: InstallJobKind;
  controller: AbortController;
  cancelRequested: boolean;
}

/**
 * Install jobs for the API: apply, upgrade, rollback and uninstall run in the background
 * and answer with a job id; every step, upload, note and host outcome becomes an
 * installs.progress event, is folded into the job's status (the contract's
 * applyInstallProgress, the same fold a window uses) and written to the store, so
 * installs.status answers after a reload and after a restart of the backend. A job that
 * was running when its backend died is found at start and shown as interrupted, with
 * how to resume; a cancelled one cuts its hosts' SSH connections, and running it again
 * resumes where it stopped.
 */
/** Install jobs: one running job per install at a time, its progress kept in the store as it goes. */
export interface InstallJobs {
  /** Starts a job of any kind on an install (refused while another runs on it); resolves once it is recorded, not when it ends. */
  run(spec: JobSpec): Promise<{ jobId: string }>;
  /** Starts applying a checked install definition as an `apply` job. */
  start(definition: ParsedInstallDefinition, options?: { concurrency?: number }): Promise<{ jobId: string }>;
  /** A job's progress: live while it runs in this process, else as stored. */
  status(jobId: string): InstallJobStatus;
  /** Asks a running job to stop at its next step boundary. */
  cancel(jobId: string): { jobId: string; cancelled: boolean; state: JobState };
  recent(filter: { install?: string; kind?: InstallJobKind; limit: number }): InstallJobSummary[];
  /** The backend is stopping: running jobs are recorded as interrupted (the next run resumes them), then cut. */
  close(): void;
  /** The job running on an install now, if any. */
  runningJob(install: string): string | null;
}

export function createInstallJobs(deps: InstallJobsDeps): InstallJobs {
  const now = deps.now ?? Date.now;
  const alive = deps.processAlive ?? processAlive;
  const live = new Map<string, LiveJob>();
  const running = new Map<string, string>(); // install name -> job id
  let closed = false;

  recoverInterrupted();

  /** Stored jobs that say running, but whose backend is gone: interrupted. */
  function recoverInterrupted(): void {
    for (const { status, ownerPid } of deps.store.running()) {
      const ownedHere = ownerPid === process.pid && liveInThisProcess.has(status.jobId);
      if (ownedHere || (ownerPid !== process.pid && alive(ownerPid))) continue;
      const ended = endAs(status, 'interrupted', interruptedError(status.kind, status.install));
      deps.store.recordAll(ended);
      deps.logger?.info(
        { install: status.install, jobId: status.jobId, kind: status.kind },
        'install job found interrupted: its backend stopped while it ran',
      );
    }
  }

  function endAs(status: InstallJobStatus, state: 'interrupted' | 'cancelled', error: ApiError): InstallJobStatus {
    return applyInstallProgress(status, {
      kind: 'finished',
      jobId: status.jobId,
      seq: status.seq + 1,
      at: now(),
      state,
      error: error.toBody(),
    });
  }

  /** Runs a job; resolves with its id once it reached a host (or ended), or rejects with why it could not start at all. */
  async function run(spec: JobSpec): Promise<{ jobId: string }> {
    if (closed) throw new ApiError('DISCONNECTED', 'The backend is stopping.', 'Start the app again, then try again.');
    const other = running.get(spec.install);
    if (other !== undefined) {
      const kind = live.get(other)?.kind ?? 'apply';
      throw new ApiError(
        'INSTALL_CONFLICT',
        `The install ${spec.install} has a ${kind} job running already (job ${other}).`,
        'Wait for it to finish, or cancel it; its progress is on the install’s page.',
      );
    }
    const jobId = randomUUID();
    const job: LiveJob = {
      kind: spec.kind,
      controller: new AbortController(),
      cancelRequested: false,
      status: {
        jobId,
        kind: spec.kind,
        seq: 0,
        install: spec.install,
        bundle: spec.bundle,
        state: 'running',
        error: null,
        startedAt: now(),
        finishedAt: null,
        hosts: spec.hosts.map((host) => queuedJobHost(host, spec.kind)),
      },
    };
    const emit = (event: DistributiveOmit<InstallProgress, 'jobId' | 'seq' | 'at'>) => {
      if (closed) return;
      const full = { ...event, jobId, seq: job.status.seq + 1, at: now() } as InstallProgress;
      job.status = applyInstallProgress(job.status, full);
      try {
        if (full.kind === 'finished') deps.store.recordAll(job.status);
        else deps.store.recordChange(job.status, { host: full.host, ...(full.kind === 'step' ? { step: full.step } : {}) });
      } catch (error) {
        deps.logger?.error({ install: spec.install, jobId, err: error }, 'install job progress could not be stored');
      }
      deps.onProgress(full);
    };
    const lastUpload = new Map<string, number>();
    /** Per host, the release a rollback brings it to: steps of another release are its way back, shown as notes. */
    const target = new Map<string, string>();
    let sawEvent = false;
    let reachedHost!: () => void;
    const firstEvent = new Promise<void>((resolve) => (reachedHost = resolve));

    const report = (event: InstallEvent) => {
      switch (event.kind) {
        case 'step': {
          const withOutput = FINAL_STEP.has(event.status) && (spec.kind === 'apply' || spec.kind === 'upgrade');
          emit({
            kind: 'step',
            host: event.host,
            step: event.step,
            status: event.status,
            detail: event.detail,
            output: withOutput ? outputOf(spec.install, event.host, event.step) : null,
          });
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
        case 'activate': {
          if (event.purpose === 'rollback' && (target.get(event.host) ?? event.version) === event.version) {
            target.set(event.host, event.version);
            emit({ kind: 'step', host: event.host, step: event.step, status: event.status, detail: event.detail, output: null });
          } else if (event.status !== 'running') {
            emit({ kind: 'note', host: event.host, text: `back to ${event.version}: ${event.step} ${event.status}: ${event.detail}` });
          }
          break;
        }
        case 'uninstall':
          emit({ kind: 'step', host: event.host, step: event.step, status: event.status, detail: event.detail, output: null });
          break;
        case 'host': {
          // A host cut off by a cancel failed because of it, not of itself.
          const outcome = event.outcome === 'failed' && job.cancelRequested ? 'cancelled' : event.outcome;
          emit({ kind: 'host', host: event.host, outcome, error: event.error });
          break;
        }
      }
    };
    const onEvent = (event: InstallEvent) => {
      sawEvent = true;
      reachedHost();
      // Reporting must never break the job it reports on.
      try {
        report(event);
      } catch (error) {
        deps.logger?.error({ install: spec.install, jobId, err: error }, 'install progress could not be reported');
      }
    };

    deps.store.create(job.status, process.pid);
    live.set(jobId, job);
    liveInThisProcess.add(jobId);
    running.set(spec.install, jobId);
    const forget = () => {
      live.delete(jobId);
      liveInThisProcess.delete(jobId);
      if (running.get(spec.install) === jobId) running.delete(spec.install);
    };
    let outcome: { ok: true; value: { hosts?: HostEnding[] } } | { ok: false; error: unknown } | null = null;
    const execution = currentJob
      .run({ id: jobId, kind: spec.kind }, () => spec.execute({ onEvent, signal: job.controller.signal }))
      .then(
        (value) => (outcome = { ok: true, value }),
        (error: unknown) => (outcome = { ok: false, error }),
      );
    await Promise.race([firstEvent, execution]);

    const early = outcome as { ok: true; value: unknown } | { ok: false; error: unknown } | null;
    if (!sawEvent && early !== null && !early.ok) {
      // What stops a job before any host is touched (an unknown bundle or host, a bad layer,
      // locked secrets) is the answer to the call itself; no job is kept for it.
      forget();
      deps.store.remove(jobId);
      throw toApiError(early.error);
    }
    void execution.then(() => {
      // A backend that stopped recorded the job as interrupted already; its store and log are closed.
      if (closed) return;
      const ended = outcome as NonNullable<typeof outcome> as { ok: true; value: { hosts?: HostEnding[] } } | { ok: false; error: unknown };
      if (!ended.ok) deps.logger?.error({ install: spec.install, jobId, err: ended.error }, 'install job stopped');
      if (ended.ok)
        for (const host of ended.value.hosts ?? [])
          emit({
            kind: 'host',
            host: host.host,
            outcome: host.outcome === 'failed' && job.cancelRequested ? 'cancelled' : host.outcome,
            error: host.error,
          });
      const error = ended.ok ? null : toApiError(ended.error);
      const hostFailed = job.status.hosts.some((host) => host.state === 'failed' || host.state === 'stopped');
      if (job.cancelRequested) emit({ kind: 'finished', state: 'cancelled', error: cancelledError(spec.kind, spec.install).toBody() });
      else emit({ kind: 'finished', state: error !== null || hostFailed ? 'failed' : 'succeeded', error: error?.toBody() ?? null });
      forget();
      deps.logger?.info({ install: spec.install, jobId, kind: spec.kind, state: job.status.state }, 'install job finished');
    });
    return { jobId };
  }

  /** installs.start: applies an install definition (the wizard's). */
  function start(definition: ParsedInstallDefinition, options: { concurrency?: number } = {}): Promise<{ jobId: string }> {
    return run({
      kind: 'apply',
      install: definition.name,
      bundle: definition.bundle,
      hosts: definition.hosts.map((host) => host.name),
      execute: async ({ onEvent, signal }) => {
        // The engine reports each host's outcome as an event already.
        await deps.engine.apply(installFileOf(definition), {
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          onEvent,
          signal,
        });
        return {};
      },
    });
  }

  function outputOf(install: string, hostName: string, step: string): string | null {
    const installId = deps.records.installId(install);
    const host = deps.hosts.findByName(hostName);
    if (installId === null || !host) return null;
    return deps.records.stepOutput(installId, host.id, step);
  }

  function status(jobId: string): InstallJobStatus {
    const job = live.get(jobId)?.status ?? deps.store.get(jobId);
    if (!job) {
      throw new ApiError(
        'NOT_FOUND',
        `There is no install job ${jobId}.`,
        'The newest jobs are kept, older ones are pruned; installs.jobs lists those kept. What each host got is recorded: apply again to resume or to confirm.',
      );
    }
    return job;
  }

  /** Stops a running job: its hosts' SSH connections are cut, as a dropped link would cut them; running it again resumes. */
  function cancel(jobId: string): { jobId: string; cancelled: boolean; state: JobState } {
    const job = live.get(jobId);
    if (!job) {
      const stored = status(jobId);
      if (stored.state === 'running') {
        throw new ApiError(
          'INSTALL_CANCEL_REFUSED',
          `The job ${jobId} runs in another backend process, which only can cancel it.`,
          'Cancel it in the app (or web mode) that started it.',
        );
      }
      return { jobId, cancelled: false, state: stored.state };
    }
    if (job.kind === 'uninstall') {
      throw new ApiError(
        'INSTALL_CANCEL_REFUSED',
        `An uninstall is not cancelled halfway: ${job.status.install} would be left with some of its paths removed.`,
        'Wait for it to finish (each host takes seconds); a host it did not reach stays installed.',
      );
    }
    if (!job.cancelRequested) {
      job.cancelRequested = true;
      job.controller.abort();
      deps.logger?.info({ install: job.status.install, jobId, kind: job.kind }, 'install job cancelled by the operator');
    }
    return { jobId, cancelled: true, state: job.status.state };
  }

  function recent(filter: { install?: string; kind?: InstallJobKind; limit: number }): InstallJobSummary[] {
    return deps.store.recent(filter);
  }

  function close(): void {
    if (closed) return;
    for (const [jobId, job] of live) {
      try {
        deps.store.recordAll(endAs(job.status, 'interrupted', interruptedError(job.kind, job.status.install)));
      } catch (error) {
        deps.logger?.error({ jobId, err: error }, 'an interrupted install job could not be recorded');
      }
    }
    closed = true;
    for (const [jobId, job] of live) {
      job.controller.abort();
      liveInThisProcess.delete(jobId);
    }
    live.clear();
    running.clear();
  }

  function runningJob(install: string): string | null {
    return running.get(install) ?? null;
  }

  return { run, start, status, cancel, recent, close, runningJob };
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError(
    'INSTALL_STEP_FAILED',
    `The install stopped: ${(error as Error)?.message ?? String(error)}`,
    'Apply again; if it keeps failing, send the app log with your report.',
    { cause: error },
  );
}

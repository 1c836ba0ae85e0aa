import type Database from 'better-sqlite3';
import type {
  ApiErrorBody,
  InstallJobHost,
  InstallJobKind,
  InstallJobStatus,
  InstallJobSummary,
  JobHostState,
  JobState,
  JobStepName,
  JobStepStatus,
  UploadProgress,
} from '../../contract';
import { excerpt } from './install-steps-repo';

/** Jobs kept in the store: the newest this many; older finished ones are pruned as new ones start. */
export const INSTALL_JOBS_KEPT = 200;
/** A step's detail line is a summary; longer ones are cut to this. */
const DETAIL_LIMIT = 1000;

interface RawJob {
  id: string;
  kind: InstallJobKind;
  installName: string;
  bundle: string;
  state: JobState;
  error: string | null;
  seq: number;
  ownerPid: number;
  startedAt: number;
  finishedAt: number | null;
}

interface RawHost {
  jobId: string;
  position: number;
  host: string;
  state: JobHostState;
  error: string | null;
  upload: string | null;
  notes: string;
}

interface RawStep {
  jobId: string;
  host: string;
  position: number;
  step: JobStepName;
  status: JobStepStatus;
  detail: string;
  output: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

const JOB_COLUMNS =
  'id, kind, install_name AS installName, bundle, state, error, seq, owner_pid AS ownerPid, started_at AS startedAt, finished_at AS finishedAt';

export interface InstallJobsRepo {
  /** Records a new job, and prunes the oldest finished ones beyond `keep`. */
  create(status: InstallJobStatus, ownerPid: number, keep?: number): void;
  /** Records what one folded event changed. */
  recordChange(status: InstallJobStatus, change: { host?: string; step?: string }): void;
  /** Records the job whole (a job cut short changes many hosts at once). */
  recordAll(status: InstallJobStatus): void;
  get(jobId: string): InstallJobStatus | null;
  /** Newest first. */
  recent(filter: { install?: string; kind?: InstallJobKind; limit: number }): InstallJobSummary[];
  /** Jobs the store says are running, with the process that runs them. */
  running(): Array<{ status: InstallJobStatus; ownerPid: number }>;
  /** Forgets a job that never reached a host (its start was refused). */
  remove(jobId: string): void;
}

/**
 * Install jobs with their hosts and steps, written as each progress event is folded in
 * (one host row and at most one step row per event), so what installs.status answers
 * survives a restart of the backend. Outputs are bounded like install_steps' (the end of
 * what a step printed), notes by the contract's fold.
 */
export function createInstallJobsRepo(db: Database.Database): InstallJobsRepo {
  const insertJob = db.prepare(
    `INSERT INTO install_jobs (id, kind, install_name, bundle, state, error, seq, owner_pid, started_at, finished_at)
     VALUES (@jobId, @kind, @install, @bundle, @state, NULL, @seq, @ownerPid, @startedAt, NULL)`,
  );
  const updateJob = db.prepare(
    'UPDATE install_jobs SET state = @state, error = @error, seq = @seq, finished_at = @finishedAt WHERE id = @jobId',
  );
  const upsertHost = db.prepare(
    `INSERT INTO install_job_hosts (job_id, position, host, state, error, upload, notes) VALUES (@jobId, @position, @host, @state, @error, @upload, @notes)
     ON CONFLICT (job_id, host) DO UPDATE SET state = excluded.state, error = excluded.error, upload = excluded.upload, notes = excluded.notes`,
  );
  const upsertStep = db.prepare(
    `INSERT INTO install_job_steps (job_id, host, position, step, status, detail, output, started_at, finished_at)
     VALUES (@jobId, @host, @position, @step, @status, @detail, @output, @startedAt, @finishedAt)
     ON CONFLICT (job_id, host, step) DO UPDATE SET status = excluded.status, detail = excluded.detail, output = excluded.output, started_at = excluded.started_at, finished_at = excluded.finished_at`,
  );
  const jobById = db.prepare<[string], RawJob>(`SELECT ${JOB_COLUMNS} FROM install_jobs WHERE id = ?`);
  const hostsOf = db.prepare<[string], RawHost>(
    'SELECT job_id AS jobId, position, host, state, error, upload, notes FROM install_job_hosts WHERE job_id = ? ORDER BY position',
  );
  const stepsOf = db.prepare<[string], RawStep>(
    'SELECT job_id AS jobId, host, position, step, status, detail, output, started_at AS startedAt, finished_at AS finishedAt FROM install_job_steps WHERE job_id = ? ORDER BY host, position',
  );
  const recent = db.prepare<{ install: string | null; kind: string | null; limit: number }, RawJob>(
    `SELECT ${JOB_COLUMNS} FROM install_jobs WHERE (@install IS NULL OR install_name = @install) AND (@kind IS NULL OR kind = @kind) ORDER BY started_at DESC, rowid DESC LIMIT @limit`,
  );
  const hostStates = db.prepare<[string], { host: string; state: JobHostState }>(
    'SELECT host, state FROM install_job_hosts WHERE job_id = ? ORDER BY position',
  );
  const running = db.prepare<[], RawJob>(`SELECT ${JOB_COLUMNS} FROM install_jobs WHERE state = 'running'`);
  const prune = db.prepare(
    `DELETE FROM install_jobs WHERE state <> 'running' AND id NOT IN (SELECT id FROM install_jobs ORDER BY started_at DESC, rowid DESC LIMIT @keep)`,
  );
  const remove = db.prepare('DELETE FROM install_jobs WHERE id = ?');

  function writeHost(jobId: string, position: number, host: InstallJobHost): void {
    upsertHost.run({
      jobId,
      position,
      host: host.host,
      state: host.state,
      error: host.error ? JSON.stringify(host.error) : null,
      upload: host.upload ? JSON.stringify(host.upload) : null,
      notes: JSON.stringify(host.notes),
    });
  }

  function writeStep(jobId: string, host: string, position: number, step: InstallJobHost['steps'][number]): void {
    upsertStep.run({
      jobId,
      host,
      position,
      step: step.step,
      status: step.status,
      detail: step.detail.slice(0, DETAIL_LIMIT),
      output: step.output === null ? null : excerpt(step.output),
      startedAt: step.startedAt,
      finishedAt: step.finishedAt,
    });
  }

  function writeJob(status: InstallJobStatus): void {
    updateJob.run({
      jobId: status.jobId,
      state: status.state,
      error: status.error ? JSON.stringify(status.error) : null,
      seq: status.seq,
      finishedAt: status.finishedAt,
    });
  }

  /** The whole job: its row, every host and every step (a new job, or a job cut short). */
  const writeAll = db.transaction((status: InstallJobStatus) => {
    writeJob(status);
    status.hosts.forEach((host, position) => {
      writeHost(status.jobId, position, host);
      host.steps.forEach((step, index) => writeStep(status.jobId, host.host, index, step));
    });
  });

  const create = db.transaction((status: InstallJobStatus, ownerPid: number, keep: number) => {
    insertJob.run({
      jobId: status.jobId,
      kind: status.kind,
      install: status.install,
      bundle: status.bundle,
      state: status.state,
      seq: status.seq,
      ownerPid,
      startedAt: status.startedAt,
    });
    writeAll(status);
    prune.run({ keep });
  });

  /** Only what the event changed: the job row, and the host (and step) it names. */
  const recordChange = db.transaction((status: InstallJobStatus, change: { host?: string; step?: string }) => {
    writeJob(status);
    if (change.host === undefined) return;
    const position = status.hosts.findIndex((h) => h.host === change.host);
    const host = status.hosts[position];
    if (!host) return;
    writeHost(status.jobId, position, host);
    if (change.step === undefined) return;
    const index = host.steps.findIndex((s) => s.step === change.step);
    if (index !== -1) writeStep(status.jobId, host.host, index, host.steps[index]!);
  });

  function toStatus(raw: RawJob): InstallJobStatus {
    const steps = stepsOf.all(raw.id);
    return {
      jobId: raw.id,
      kind: raw.kind,
      seq: raw.seq,
      install: raw.installName,
      bundle: raw.bundle,
      state: raw.state,
      error: parseError(raw.error),
      startedAt: raw.startedAt,
      finishedAt: raw.finishedAt,
      hosts: hostsOf.all(raw.id).map((host) => ({
        host: host.host,
        state: host.state,
        error: parseError(host.error),
        upload: host.upload === null ? null : (JSON.parse(host.upload) as UploadProgress),
        notes: JSON.parse(host.notes) as string[],
        steps: steps
          .filter((s) => s.host === host.host)
          .map(({ step, status, detail, output, startedAt, finishedAt }) => ({ step, status, detail, output, startedAt, finishedAt })),
      })),
    };
  }

  return {
    create(status: InstallJobStatus, ownerPid: number, keep: number = INSTALL_JOBS_KEPT): void {
      create(status, ownerPid, keep);
    },
    recordChange(status: InstallJobStatus, change: { host?: string; step?: string }): void {
      recordChange(status, change);
    },
    recordAll(status: InstallJobStatus): void {
      writeAll(status);
    },
    get(jobId: string): InstallJobStatus | null {
      const raw = jobById.get(jobId);
      return raw ? toStatus(raw) : null;
    },
    recent(filter: { install?: string; kind?: InstallJobKind; limit: number }): InstallJobSummary[] {
      return recent.all({ install: filter.install ?? null, kind: filter.kind ?? null, limit: filter.limit }).map((raw) => ({
        jobId: raw.id,
        kind: raw.kind,
        install: raw.installName,
        bundle: raw.bundle,
        state: raw.state,
        error: parseError(raw.error),
        startedAt: raw.startedAt,
        finishedAt: raw.finishedAt,
        hosts: hostStates.all(raw.id),
      }));
    },
    running(): Array<{ status: InstallJobStatus; ownerPid: number }> {
      return running.all().map((raw) => ({ status: toStatus(raw), ownerPid: raw.ownerPid }));
    },
    remove(jobId: string): void {
      remove.run(jobId);
    },
  };
}

function parseError(text: string | null): ApiErrorBody | null {
  return text === null ? null : (JSON.parse(text) as ApiErrorBody);
}

import type Database from 'better-sqlite3';

export type StepStatus = 'pending' | 'running' | 'done' | 'failed';

export interface InstallStepRow {
  installId: number;
  hostId: number;
  releaseVersion: string;
  step: string;
  status: StepStatus;
  /** 1 when this step changed the host on its last run; 0 when it found the work already done. */
  changed: boolean;
  /** The last lines of what the step printed (or why it failed). */
  output: string;
  errorCode: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

type RawRow = Omit<InstallStepRow, 'changed'> & { changed: number };

/** Output kept per step: enough to see why, small enough for a row. */
export const STEP_OUTPUT_LIMIT = 4000;

/** What names one step's row: the install, the host, the release and the step. */
type StepKey = Pick<InstallStepRow, 'installId' | 'hostId' | 'releaseVersion' | 'step'>;

export interface InstallStepsRepo {
  forHost(installId: number, hostId: number, releaseVersion: string): InstallStepRow[];
  start(key: StepKey, now: number): void;
  /** Keeps the step's latest output while it runs (an upload's bytes so far). */
  progress(key: StepKey, output: string): void;
  finish(
    key: StepKey,
    outcome: { status: 'done' | 'failed'; changed: boolean; output: string; errorCode?: string | null },
    now: number,
  ): void;
  /** Forgets a host's steps (uninstalled). */
  removeHost(installId: number, hostId: number): void;
}

/** The steps of each host's apply, one row per (install, host, release, step), updated in place. */
export function createInstallStepsRepo(db: Database.Database): InstallStepsRepo {
  const columns =
    'install_id AS installId, host_id AS hostId, release_version AS releaseVersion, step, status, changed, output, error_code AS errorCode, started_at AS startedAt, finished_at AS finishedAt';
  const forHost = db.prepare<[number, number, string], RawRow>(
    `SELECT ${columns} FROM install_steps WHERE install_id = ? AND host_id = ? AND release_version = ? ORDER BY id`,
  );
  const start = db.prepare(
    `INSERT INTO install_steps (install_id, host_id, release_version, step, status, changed, output, error_code, started_at, finished_at)
     VALUES (@installId, @hostId, @releaseVersion, @step, 'running', 0, '', NULL, @now, NULL)
     ON CONFLICT (install_id, host_id, release_version, step) DO UPDATE SET status = 'running', changed = 0, error_code = NULL, started_at = @now, finished_at = NULL`,
  );
  const finish = db.prepare(
    `UPDATE install_steps SET status = @status, changed = @changed, output = @output, error_code = @errorCode, finished_at = @now
     WHERE install_id = @installId AND host_id = @hostId AND release_version = @releaseVersion AND step = @step`,
  );
  const progress = db.prepare(
    'UPDATE install_steps SET output = @output WHERE install_id = @installId AND host_id = @hostId AND release_version = @releaseVersion AND step = @step',
  );

  const removeHost = db.prepare('DELETE FROM install_steps WHERE install_id = ? AND host_id = ?');

  return {
    forHost: (installId: number, hostId: number, releaseVersion: string): InstallStepRow[] =>
      forHost.all(installId, hostId, releaseVersion).map((raw) => ({ ...raw, changed: raw.changed === 1 })),
    start(key: StepKey, now: number): void {
      start.run({ ...key, now });
    },
    progress(key: StepKey, output: string): void {
      progress.run({ ...key, output: excerpt(output) });
    },
    finish(
      key: StepKey,
      outcome: { status: 'done' | 'failed'; changed: boolean; output: string; errorCode?: string | null },
      now: number,
    ): void {
      finish.run({
        ...key,
        status: outcome.status,
        changed: outcome.changed ? 1 : 0,
        output: excerpt(outcome.output),
        errorCode: outcome.errorCode ?? null,
        now,
      });
    },
    removeHost(installId: number, hostId: number): void {
      removeHost.run(installId, hostId);
    },
  };
}

/** The end of a step's output, where the reason for a failure is. */
export function excerpt(output: string): string {
  const trimmed = output.trim();
  return trimmed.length <= STEP_OUTPUT_LIMIT ? trimmed : `…${trimmed.slice(-(STEP_OUTPUT_LIMIT - 1))}`;
}

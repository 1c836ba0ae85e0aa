import type { Migration } from './migration';

export const migration007: Migration = {
  version: 7,
  name: 'install jobs with their hosts and steps; the definition each install was last applied with',
  up(db) {
    db.exec(`
      -- The hosts, roles and configuration layers last applied (JSON), so the app can
      -- upgrade, roll back or uninstall an install by its name alone.
      ALTER TABLE installs ADD COLUMN definition TEXT;
      -- Jobs (apply, upgrade, rollback, uninstall) as they run, so installs.status answers
      -- after a restart. owner_pid is the backend process that runs a job: one that is gone
      -- while the job still says running was interrupted.
      CREATE TABLE install_jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('apply','upgrade','rollback','uninstall')),
        install_name TEXT NOT NULL,
        bundle TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running','succeeded','failed','cancelled','interrupted')),
        error TEXT,
        seq INTEGER NOT NULL DEFAULT 0,
        owner_pid INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX install_jobs_by_install ON install_jobs(install_name, started_at DESC);
      CREATE INDEX install_jobs_by_start ON install_jobs(started_at DESC);
      CREATE INDEX install_jobs_running ON install_jobs(state) WHERE state = 'running';
      CREATE TABLE install_job_hosts (
        job_id TEXT NOT NULL REFERENCES install_jobs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        host TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        upload TEXT,
        notes TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (job_id, host)
      ) WITHOUT ROWID;
      CREATE TABLE install_job_steps (
        job_id TEXT NOT NULL REFERENCES install_jobs(id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        position INTEGER NOT NULL,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        output TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        PRIMARY KEY (job_id, host, step)
      ) WITHOUT ROWID;
    `);
  },
};

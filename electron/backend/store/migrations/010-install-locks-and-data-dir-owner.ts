import type { Migration } from './migration';

export const migration010: Migration = {
  version: 10,
  name: 'one writer per install and one serving backend per data directory, across processes',
  up(db) {
    db.exec(`
      -- The job changing an install's hosts now (apply, upgrade, rollback, uninstall), from
      -- whichever process runs it; claimed in a transaction, so a second one is refused.
      -- The owner is its pid with the process's start time (a pid reused after the owner
      -- died does not count as it) and the claim's token (a claim left by an earlier
      -- backend of the same process does not either).
      CREATE TABLE install_locks (
        install_name TEXT PRIMARY KEY,
        operation TEXT NOT NULL,
        job_id TEXT,
        holder TEXT NOT NULL,
        owner_pid INTEGER NOT NULL,
        owner_started TEXT,
        token TEXT NOT NULL,
        acquired_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- The web-mode or desktop backend serving this data directory, the same way.
      CREATE TABLE data_dir_owner (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        owner_pid INTEGER NOT NULL,
        owner_started TEXT,
        token TEXT NOT NULL,
        acquired_at INTEGER NOT NULL
      );
    `);
  },
};

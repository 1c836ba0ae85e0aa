import type { Migration } from './migration';

export const migration003: Migration = {
  version: 3,
  name: 'the outcome of each host’s last probe, for the status column',
  up(db) {
    db.exec(`
      CREATE TABLE probe_outcomes (
        host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
        error_code TEXT,
        error_message TEXT,
        error_remedy TEXT
      );
    `);
  },
};

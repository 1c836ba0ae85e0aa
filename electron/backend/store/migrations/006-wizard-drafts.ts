import type { Migration } from './migration';

export const migration006: Migration = {
  version: 6,
  name: 'install wizard drafts',
  up(db) {
    db.exec(`
      -- Where the operator is in the install wizard and what they chose, so that closing
      -- the app mid-way and opening it again continues there. Host ids and roles are JSON
      -- arrays; a host removed since is dropped when the draft is read.
      CREATE TABLE wizard_drafts (
        id TEXT PRIMARY KEY,
        step TEXT NOT NULL CHECK (step IN ('bundle','hosts','preflight','roles','configuration','review','install','done')),
        bundle_id INTEGER REFERENCES bundles(id) ON DELETE SET NULL,
        install_name TEXT NOT NULL DEFAULT '',
        host_ids TEXT NOT NULL DEFAULT '[]',
        roles TEXT NOT NULL DEFAULT '[]',
        environment TEXT CHECK (environment IN ('development','staging','production')),
        config_name TEXT NOT NULL,
        config_text TEXT NOT NULL DEFAULT '',
        preflight_accepted INTEGER NOT NULL DEFAULT 0 CHECK (preflight_accepted IN (0, 1)),
        probe_job_id TEXT,
        install_job_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX wizard_drafts_by_update ON wizard_drafts(updated_at DESC);
    `);
  },
};

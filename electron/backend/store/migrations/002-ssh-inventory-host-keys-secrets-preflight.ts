import type { Migration } from './migration';

export const migration002: Migration = {
  version: 2,
  name: 'SSH inventory: login, credentials, jump hosts, labels; pinned host keys; sealed secrets; preflight results',
  up(db) {
    db.exec(`
      -- Sealed secrets (passwords, key passphrases): never a clear value in this file.
      CREATE TABLE secrets (
        id INTEGER PRIMARY KEY,
        purpose TEXT NOT NULL,
        scheme TEXT NOT NULL,
        sealed BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      -- What unlocks the secrets: the salt of the operator's passphrase (or the desktop
      -- key's origin) and a sealed known value that tells a wrong passphrase at once.
      CREATE TABLE vault (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key_source TEXT NOT NULL,
        salt BLOB NOT NULL,
        verifier BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      ALTER TABLE hosts ADD COLUMN port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535);
      ALTER TABLE hosts ADD COLUMN login_user TEXT NOT NULL DEFAULT '';
      ALTER TABLE hosts ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'none' CHECK (auth_method IN ('none','key','agent','password'));
      ALTER TABLE hosts ADD COLUMN key_path TEXT;
      ALTER TABLE hosts ADD COLUMN secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL;
      ALTER TABLE hosts ADD COLUMN sudo_secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL;
      ALTER TABLE hosts ADD COLUMN jump_host_id INTEGER REFERENCES hosts(id) ON DELETE RESTRICT;
      ALTER TABLE hosts ADD COLUMN role TEXT CHECK (role IN ('core','agent','both'));
      ALTER TABLE hosts ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE hosts ADD COLUMN updated_at INTEGER;

      -- The host key the operator confirmed; one per host.
      CREATE TABLE host_keys (
        host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        public_key BLOB NOT NULL,
        trusted_at INTEGER NOT NULL,
        trust_source TEXT NOT NULL
      );
      -- Every trust decision and every refused key, for the record.
      CREATE TABLE host_key_events (
        id INTEGER PRIMARY KEY,
        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('trusted','retrusted','refused')),
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        previous_fingerprint TEXT,
        source TEXT NOT NULL
      );
      CREATE INDEX host_key_events_by_host ON host_key_events(host_id, at DESC);

      CREATE TABLE preflight_results (
        id INTEGER PRIMARY KEY,
        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        snapshot_id INTEGER REFERENCES facts_snapshots(id) ON DELETE SET NULL,
        profile TEXT NOT NULL,
        ran_at INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('pass','warn','fail')),
        results TEXT NOT NULL
      );
      CREATE INDEX preflight_results_by_host ON preflight_results(host_id, ran_at DESC);
    `);
  },
};

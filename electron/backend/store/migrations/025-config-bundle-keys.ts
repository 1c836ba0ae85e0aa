import type { Migration } from './migration';

export const migration025: Migration = {
  version: 25,
  name: 'configuration bundles: the control center signing key and the trusted exporters',
  up(db) {
    db.exec(`
      -- This control center's own Ed25519 key, made at its first export: the private part is
      -- a vault secret (sealed like a host password), the public part what importers pin.
      CREATE TABLE control_center_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        public_key BLOB NOT NULL CHECK (length(public_key) = 32),
        fingerprint TEXT NOT NULL,
        private_secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE RESTRICT,
        created_at INTEGER NOT NULL
      );
      -- Other control centers whose configuration bundles the operator trusts (like pinned host keys).
      CREATE TABLE trusted_exporters (
        fingerprint TEXT PRIMARY KEY,
        public_key BLOB NOT NULL CHECK (length(public_key) = 32),
        label TEXT NOT NULL,
        trusted_at INTEGER NOT NULL,
        trust_source TEXT NOT NULL
      );
    `);
  },
};

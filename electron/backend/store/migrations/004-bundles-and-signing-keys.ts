import type { Migration } from './migration';

export const migration004: Migration = {
  version: 4,
  name: 'release bundles: trusted signing keys and imported bundles',
  up(db) {
    db.exec(`
      -- The Ed25519 keys the operator trusts to sign release bundles (like pinned host keys).
      CREATE TABLE bundle_signing_keys (
        fingerprint TEXT PRIMARY KEY,
        public_key BLOB NOT NULL CHECK (length(public_key) = 32),
        label TEXT NOT NULL,
        trusted_at INTEGER NOT NULL,
        trust_source TEXT NOT NULL
      );
      -- Bundles verified and copied into <data dir>/bundles; one row per distinct file.
      CREATE TABLE bundles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        signer_fingerprint TEXT NOT NULL REFERENCES bundle_signing_keys(fingerprint) ON DELETE RESTRICT,
        manifest TEXT NOT NULL,
        file_sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        path TEXT NOT NULL,
        imported_at INTEGER NOT NULL
      );
      CREATE INDEX bundles_by_name ON bundles(name, imported_at DESC);
    `);
  },
};

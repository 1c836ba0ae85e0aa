import type { Migration } from './migration';

export const migration028: Migration = {
  version: 28,
  name: 'oidc-key-sets',
  up(db) {
    db.exec(`
      -- authentication_method: oauth2: the public key set last read from each OpenID Connect
      -- provider (or pinned file), so a control center restarted while its provider is
      -- unreachable, or a one-shot command that reads no provider, pushes the keys the
      -- runtimes hold instead of none. Public keys only: nothing here is secret.
      CREATE TABLE oidc_key_sets (
        source TEXT PRIMARY KEY,
        jwks_json TEXT NOT NULL,
        read_at INTEGER NOT NULL
      );
    `);
  },
};

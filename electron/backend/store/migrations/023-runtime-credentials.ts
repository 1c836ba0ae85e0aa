import type { Migration } from './migration';

export const migration023: Migration = {
  version: 23,
  name: 'runtime-credentials',
  up(db) {
    db.exec(`
      -- The keys that sign the access tokens of an install's runtime calls (issue 14 item 2,
      -- authentication_method: jwt). The private key lives sealed in the vault (secrets.id);
      -- the public one is pushed to the runtimes. retired_at is set by a rotation: a retired
      -- key is no longer pushed, so the runtimes refuse its tokens from the next push on.
      CREATE TABLE install_token_keys (
        id INTEGER PRIMARY KEY,
        install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
        key_id TEXT NOT NULL UNIQUE,
        public_key_pem TEXT NOT NULL,
        secret_id INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER
      );
      CREATE INDEX install_token_keys_by_install ON install_token_keys (install_id, retired_at);

      -- Client certificates issued to operators (authentication_method: mtls), by serial, so
      -- that removing or disabling the operator revokes them: a revoked one stays listed in
      -- every access state pushed to the install's runtimes until it expires.
      CREATE TABLE operator_certificates (
        id INTEGER PRIMARY KEY,
        install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
        operator_name TEXT NOT NULL COLLATE NOCASE,
        serial TEXT NOT NULL,
        role TEXT NOT NULL,
        not_after INTEGER NOT NULL,
        issued_at INTEGER NOT NULL,
        revoked_at INTEGER,
        UNIQUE (install_id, serial)
      );

      -- The version of the access state pushed to each runtime (operators, their roles and
      -- attributes, revocations, token keys, the host's authentication method): content_hash
      -- is the SHA-256 of the state last given a version, and a state built with another hash
      -- gets the next version, so a runtime can tell a newer push from an older one.
      CREATE TABLE access_state_versions (
        install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
        host_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        PRIMARY KEY (install_id, host_id)
      );
    `);
  },
};

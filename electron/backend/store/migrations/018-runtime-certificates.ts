import type { Migration } from './migration';

export const migration018: Migration = {
  version: 18,
  name: 'runtime certificates as presented',
  up(db) {
    db.exec(`
      -- The server certificate each host's runtime presented over TLS when its link last came
      -- up: when it expires, for the certificate-expiry alert (read, not estimated from the
      -- configure step's time), and its fingerprint, which tells a reissued one apart.
      CREATE TABLE runtime_certificates (
        host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
        not_after INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        seen_at INTEGER NOT NULL
      );
    `);
  },
};

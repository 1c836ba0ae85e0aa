import type { Migration } from './migration';

export const migration022: Migration = {
  version: 22,
  name: 'web-sessions-and-sign-in-failures',
  up(db) {
    db.exec(`
      -- Web mode for a team (issue 14, item 5): one row per browser sign-in. Only the hash of
      -- the cookie's secret is kept, so a copy of the database signs no one in. A session ends
      -- when idle past idle_ms, at expires_at whatever its use, or when revoked (ended_at and
      -- end_reason set; the row stays for the list until it is pruned).
      CREATE TABLE web_sessions (
        id INTEGER PRIMARY KEY,
        token_hash BLOB NOT NULL UNIQUE,
        operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        idle_ms INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        address TEXT NOT NULL,
        user_agent TEXT NOT NULL,
        ended_at INTEGER,
        end_reason TEXT
      );
      CREATE INDEX web_sessions_by_operator ON web_sessions (operator_id);

      -- Failed sign-ins and two-factor code guesses, counted per key ('operator:<name as
      -- typed, lower case>' or 'address:<source>'), kept in the store so that every process
      -- (web mode, the desktop app, each CLI command) counts against the same limit.
      CREATE TABLE sign_in_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        locked_until INTEGER NOT NULL DEFAULT 0
      );
    `);
  },
};

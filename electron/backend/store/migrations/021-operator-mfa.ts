import type { Migration } from './migration';

export const migration021: Migration = {
  version: 21,
  name: 'operator-mfa',
  up(db) {
    db.exec(`
      -- TOTP per operator (issue 14, item 4). The shared secret lives sealed in the vault
      -- (secrets.id); the row only points at it. confirmed_at stays NULL until the operator
      -- has typed a first valid code: until then sign-in does not ask for one. last_step is
      -- the last time step a code was accepted for: a code of that step or an older one is a
      -- replay and refused.
      CREATE TABLE operator_totp (
        operator_id INTEGER PRIMARY KEY REFERENCES operators(id) ON DELETE CASCADE,
        secret_id INTEGER NOT NULL,
        confirmed_at INTEGER,
        last_step INTEGER NOT NULL DEFAULT -1,
        created_at INTEGER NOT NULL
      );

      -- One-time recovery codes, shown once at enrolment: only their hashes are kept, and a
      -- used one keeps its row (used_at) so that the count left can be shown.
      CREATE TABLE operator_recovery_codes (
        id INTEGER PRIMARY KEY,
        operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
        code_hash BLOB NOT NULL,
        used_at INTEGER
      );
      CREATE INDEX operator_recovery_codes_by_operator ON operator_recovery_codes (operator_id);

      -- The control center's MFA setting: with step_up set, admin actions need a code typed
      -- within the last few minutes on the same pipe.
      CREATE TABLE mfa_policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        step_up INTEGER NOT NULL DEFAULT 0 CHECK (step_up IN (0, 1)),
        updated_at INTEGER NOT NULL
      );
    `);
  },
};

import type { Migration } from './migration';

export const migration020: Migration = {
  version: 20,
  name: 'operators',
  up(db) {
    db.exec(`
      -- The people the control center knows (issue 14). No row: every pipe acts as the one
      -- admin, as before operators. The password is kept as an scrypt hash with its own salt
      -- and parameters (raised later, a stored hash keeps verifying); attributes are JSON
      -- checked by the contract's OperatorAttributesSchema on the way in and out.
      CREATE TABLE operators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        attributes TEXT NOT NULL DEFAULT '{}',
        password_hash BLOB NOT NULL,
        password_salt BLOB NOT NULL,
        password_kdf TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
  },
};

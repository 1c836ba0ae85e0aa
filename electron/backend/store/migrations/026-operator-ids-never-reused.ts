import type { Migration } from './migration';

export const migration026: Migration = {
  version: 26,
  name: 'operator-ids-never-reused',
  up(db) {
    db.exec(`
      -- operators.id is a plain INTEGER PRIMARY KEY, which SQLite hands out again once the
      -- highest row is deleted. A window still signed in as a removed operator keeps only
      -- the id, so the next operator added would inherit that window's sign-in. The highest
      -- id ever given is kept here and new operators are numbered above it.
      CREATE TABLE operator_id_high_water (
        only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
        id INTEGER NOT NULL
      );
      INSERT INTO operator_id_high_water (only_row, id) SELECT 1, COALESCE(MAX(id), 0) FROM operators;
    `);
  },
};

import type { Migration } from './migration';

export const migration017: Migration = {
  version: 17,
  name: 'metric sample journal',
  up(db) {
    db.exec(`
      -- Samples committed since the 1 s tier's chunks were last written: one row per commit
      -- (about every quarter second while samples come), vals packing (series id, second,
      -- value) as little-endian float64 triples (metrics/sample-journal.ts). Emptied by the
      -- flush that writes the chunks; replayed into them by a store that opens after a crash.
      -- No foreign key: a host removed meanwhile leaves records that replay skips.
      -- AUTOINCREMENT: ids keep growing after the flush empties the table (a plain rowid would
      -- start again at 1), so a reader can tell the rows committed since it last looked.
      CREATE TABLE samples_journal (id INTEGER PRIMARY KEY AUTOINCREMENT, vals BLOB NOT NULL);
    `);
  },
};

import type { Migration } from './migration';

export const migration014: Migration = {
  version: 14,
  name: 'one bundle file per name@version',
  up(db) {
    db.exec(`
      -- Two different files claiming one name@version must not both be imported (the newer
      -- would silently win). A trigger rather than a UNIQUE index: data directories may
      -- already hold such pairs, which stay as they are; no new one can be added, by any
      -- process writing this database.
      CREATE TRIGGER bundles_one_file_per_version BEFORE INSERT ON bundles
      WHEN EXISTS (SELECT 1 FROM bundles WHERE name = NEW.name AND version = NEW.version AND file_sha256 <> NEW.file_sha256)
      BEGIN
        SELECT RAISE(ABORT, 'BUNDLE_VERSION_CONFLICT: another file is imported as this name@version');
      END;
    `);
  },
};

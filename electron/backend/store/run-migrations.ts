import type Database from 'better-sqlite3';
import { migrations, type Migration } from './migrations';
import { storeMigrationFailedError, storeNewerVersionError } from './store-errors';

/** Throws when the list is not ordered 1, then strictly increasing; a programming error. */
export function validateMigrations(list: readonly Migration[]): void {
  let previous = 0;
  for (const [index, migration] of list.entries()) {
    const { version } = migration;
    if (!Number.isInteger(version) || version <= previous || (index === 0 && version !== 1)) {
      throw new Error(
        `Migration list is invalid at position ${index} ("${migration.name}", version ${version}): versions must start at 1 and strictly increase.`,
      );
    }
    previous = version;
  }
}

export function latestVersion(list: readonly Migration[]): number {
  return list.at(-1)?.version ?? 0;
}

export function readUserVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the newest migration in `list`. A migration that throws is
 * rolled back with its version bump, so the database stays at the previous version.
 */
export function runMigrations(db: Database.Database, list: readonly Migration[] = migrations): { from: number; to: number } {
  validateMigrations(list);
  const from = readUserVersion(db);
  const known = latestVersion(list);
  if (from > known) throw storeNewerVersionError(db.name, from, known);

  let current = from;
  for (const migration of list) {
    if (migration.version <= current) continue;
    const apply = db.transaction(() => {
      migration.up(db);
      // PRAGMA takes no bound parameters; the version is a validated integer.
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      // IMMEDIATE takes the write lock up front, so two processes cannot both migrate.
      apply.immediate();
    } catch (error) {
      throw storeMigrationFailedError(db.name, migration, current, error);
    }
    current = migration.version;
  }
  return { from, to: current };
}

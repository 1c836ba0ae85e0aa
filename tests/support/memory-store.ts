import Database from 'better-sqlite3';
import { runMigrations } from '../../electron/backend/store/run-migrations';

/**
 * An in-memory SQLite database at the latest schema, foreign keys enforced as the app's
 * store (open-store.ts) enforces them: for tests of the repositories and what uses them.
 */
export function openMemoryStore(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  runMigrations(db);
  return db;
}

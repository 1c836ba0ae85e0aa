import type Database from 'better-sqlite3';

/**
 * The schema as an ordered list of code migrations (the Signal Desktop way): each runs
 * in its own transaction together with the `PRAGMA user_version` bump, so a database is
 * always exactly at one version of this list.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { migrations, type Migration } from '../../../electron/backend/store/migrations';
import { runMigrations, validateMigrations } from '../../../electron/backend/store/run-migrations';

let dir: string;
let db: Database.Database | undefined;

beforeEach(() => {
  db = undefined;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-migrations-'));
  db = new Database(path.join(dir, 'test.db'));
});

afterEach(() => {
  try {
    db?.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The database of the running test; beforeEach has opened it. */
const testDb = (): Database.Database => {
  if (db === undefined) throw new Error('no test database');
  return db;
};

const userVersion = () => testDb().pragma('user_version', { simple: true });
const tableNames = () => testDb().prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();

/** Migrations that record the order they ran in, and whether each ran inside a transaction. */
function recordingMigrations(count: number, log: Array<{ version: number; inTransaction: boolean }>): Migration[] {
  return Array.from({ length: count }, (_, i) => ({
    version: i + 1,
    name: `step ${i + 1}`,
    up(target: Database.Database) {
      log.push({ version: i + 1, inTransaction: target.inTransaction });
      target.exec(`CREATE TABLE step_${i + 1} (id INTEGER PRIMARY KEY)`);
    },
  }));
}

describe('runMigrations', () => {
  it('brings a fresh database to the latest schema and records the version', () => {
    const result = runMigrations(testDb());
    const latest = migrations.at(-1)!.version;
    expect(result).toEqual({ from: 0, to: latest });
    expect(userVersion()).toBe(latest);
    expect(tableNames()).toEqual(
      expect.arrayContaining(['hosts', 'facts_snapshots', 'metric_series', 'samples_1s', 'samples_1m', 'samples_1h']),
    );
    const indexes = testDb().prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'index'").pluck().all();
    expect(indexes).toContain('facts_snapshots_by_host');
  });

  it('creates the hosts table with its kind check', () => {
    runMigrations(testDb());
    const insert = testDb().prepare('INSERT INTO hosts (name, kind, address, created_at) VALUES (?, ?, ?, 1)');
    insert.run('a', 'ssh', '10.0.0.1');
    expect(() => insert.run('b', 'telnet', '10.0.0.2')).toThrow(/CHECK constraint/);
    expect(() => insert.run('a', 'local', '127.0.0.1')).toThrow(/UNIQUE/);
  });

  it('runs migrations in version order, each inside a transaction', () => {
    const log: Array<{ version: number; inTransaction: boolean }> = [];
    runMigrations(testDb(), recordingMigrations(3, log));
    expect(log).toEqual([
      { version: 1, inTransaction: true },
      { version: 2, inTransaction: true },
      { version: 3, inTransaction: true },
    ]);
    expect(userVersion()).toBe(3);
  });

  it('runs only the migrations newer than the recorded version', () => {
    runMigrations(testDb(), recordingMigrations(2, []));
    const log: Array<{ version: number; inTransaction: boolean }> = [];
    expect(runMigrations(testDb(), recordingMigrations(4, log))).toEqual({ from: 2, to: 4 });
    expect(log.map((entry) => entry.version)).toEqual([3, 4]);
    expect(runMigrations(testDb(), recordingMigrations(4, log))).toEqual({ from: 4, to: 4 });
    expect(log).toHaveLength(2);
  });

  it('rolls a failing migration back and leaves the previous version', () => {
    const list: Migration[] = [
      ...recordingMigrations(2, []),
      {
        version: 3,
        name: 'half done',
        up(target) {
          target.exec('CREATE TABLE half_done (id INTEGER PRIMARY KEY); INSERT INTO half_done VALUES (1);');
          throw new Error('disk said no');
        },
      },
    ];
    let error: unknown;
    try {
      runMigrations(testDb(), list);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('STORE_MIGRATION_FAILED');
    expect((error as ApiError).message).toMatch(/schema 3 \(half done\).*disk said no.*left at schema 2/);
    expect(userVersion()).toBe(2);
    expect(tableNames()).toContain('step_2');
    expect(tableNames()).not.toContain('half_done');
  });

  it('refuses a database from a newer version without running anything', () => {
    testDb().pragma('user_version = 7');
    const log: Array<{ version: number; inTransaction: boolean }> = [];
    expect(() => runMigrations(testDb(), recordingMigrations(3, log))).toThrow(
      expect.objectContaining({ code: 'STORE_NEWER_VERSION', message: expect.stringMatching(/schema 7, this app knows up to 3/) }),
    );
    expect(log).toEqual([]);
    expect(userVersion()).toBe(7);
  });
});

describe('validateMigrations', () => {
  const m = (version: number): Migration => ({ version, name: `v${version}`, up: () => {} });

  it('accepts the shipped list and strictly increasing lists starting at 1', () => {
    expect(() => validateMigrations(migrations)).not.toThrow();
    expect(() => validateMigrations([m(1), m(2), m(5)])).not.toThrow();
    expect(() => validateMigrations([])).not.toThrow();
  });

  it.each([
    ['not starting at 1', [m(2), m(3)]],
    ['repeating a version', [m(1), m(1)]],
    ['going backwards', [m(1), m(3), m(2)]],
    ['with a fractional version', [m(1), m(1.5)]],
  ])('rejects a list %s', (_, list) => {
    expect(() => validateMigrations(list)).toThrow(/versions must start at 1 and strictly increase/);
    expect(() => runMigrations(testDb(), list)).toThrow(/versions must start at 1/);
    expect(userVersion()).toBe(0);
  });
});

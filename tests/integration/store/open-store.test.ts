import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type ErrorCode } from '../../../electron/contract';
import { migrations, type Migration } from '../../../electron/backend/store/migrations';
import { openStore, type Store } from '../../../electron/backend/store/open-store';

const LATEST = migrations.at(-1)!.version;

let root: string;
const opened: Store[] = [];
const immutable: string[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-open-store-'));
});

afterEach(() => {
  try {
    for (const store of opened.splice(0)) store.close();
  } finally {
    // Undo chattr first, or not even root could remove the directory.
    for (const target of immutable.splice(0)) chattr('-i', target);
    fs.rmSync(root, { recursive: true, force: true });
  }
});

function open(options: Partial<Parameters<typeof openStore>[0]> = {}): Store {
  const store = openStore({ dataDir: root, ...options });
  opened.push(store);
  return store;
}

function openError(options: Partial<Parameters<typeof openStore>[0]> = {}): ApiError {
  try {
    open(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('openStore succeeded where it should have failed');
}

function expectError(error: ApiError, code: ErrorCode, mentions: string): void {
  expect(error.code).toBe(code);
  expect(error.message).toContain(mentions);
  expect(error.remedy.length).toBeGreaterThan(20);
}

function chattr(flag: '+i' | '-i', target: string): boolean {
  try {
    execFileSync('chattr', [flag, target], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether this machine lets us make a file immutable (root on ext4/xfs/btrfs/tmpfs). */
const canMakeImmutable = (() => {
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-chattr-'));
  const works = chattr('+i', probe);
  if (works) chattr('-i', probe);
  fs.rmSync(probe, { recursive: true, force: true });
  return works;
})();

function makeImmutable(target: string): void {
  expect(chattr('+i', target)).toBe(true);
  immutable.push(target);
}

/** A real store file with enough rows to span many pages. */
function writeRealDatabase(): string {
  const store = openStore({ dataDir: root });
  const insert = store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'ssh', ?, 1)");
  store.db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`host-${i}-${'x'.repeat(40)}`, `10.0.${i >> 8}.${i & 255}`);
  })();
  store.close();
  return store.path;
}

describe('openStore', () => {
  it('creates a missing data directory and a fresh database at the latest schema, in WAL mode', () => {
    const dataDir = path.join(root, 'nested', 'data');
    const store = open({ dataDir });
    expect(store.path).toBe(path.join(dataDir, 'sutazai.db'));
    expect(fs.statSync(store.path).isFile()).toBe(true);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST);
  });

  it('uses the given file name', () => {
    const store = open({ fileName: 'other.db' });
    expect(store.path).toBe(path.join(root, 'other.db'));
    expect(fs.existsSync(path.join(root, 'sutazai.db'))).toBe(false);
  });

  it('keeps data when reopened', () => {
    const first = open();
    first.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('db-2', 'ssh', '198.18.0.2', 42)").run();
    first.close();
    const again = open();
    expect(again.db.prepare('SELECT name, created_at AS createdAt FROM hosts').all()).toEqual([{ name: 'db-2', createdAt: 42 }]);
    expect(again.db.pragma('user_version', { simple: true })).toBe(LATEST);
  });

  it('logs whether it migrated', () => {
    const lines: string[] = [];
    const logger = { info: (_: object, m: string) => lines.push(m), warn: () => {}, error: () => {} };
    open({ logger }).close();
    open({ logger });
    expect(lines).toEqual(['store opened and migrated', 'store opened']);
  });

  it.each(['delete', 'wal'])('refuses a database from a newer version (journal mode %s) and leaves it byte for byte', (journalMode) => {
    const file = path.join(root, 'sutazai.db');
    const newer = new Database(file);
    newer.pragma(`journal_mode = ${journalMode}`);
    newer.exec('CREATE TABLE from_the_future (x TEXT); INSERT INTO from_the_future VALUES (1);');
    newer.pragma(`user_version = ${LATEST + 1}`);
    newer.close();
    const before = fs.readFileSync(file);

    const error = openError();
    expectError(error, 'STORE_NEWER_VERSION', file);
    expect(error.message).toContain(`schema ${LATEST + 1}, this app knows up to ${LATEST}`);
    expect(error.remedy).toMatch(/newer version/);
    expect(error.remedy).toContain('--data-dir');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a file of garbage bytes and leaves it unchanged', () => {
    const file = path.join(root, 'sutazai.db');
    fs.writeFileSync(file, randomBytes(8192));
    const before = fs.readFileSync(file);

    const error = openError();
    expectError(error, 'STORE_CORRUPT', file);
    expect(error.remedy).toMatch(/move .* aside/);
    expect(error.remedy).toMatch(/backup/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(root).sort()).toEqual(['sutazai.db']);
  });

  it('refuses garbage behind a valid SQLite header and leaves it unchanged', () => {
    const file = path.join(root, 'sutazai.db');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), randomBytes(8192)]));
    const before = fs.readFileSync(file);

    expectError(openError(), 'STORE_CORRUPT', file);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a truncated database and leaves it unchanged', () => {
    const file = writeRealDatabase();
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 3));
    const before = fs.readFileSync(file);

    expectError(openError(), 'STORE_CORRUPT', file);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a database with a damaged page that only the integrity check sees', () => {
    const file = writeRealDatabase();
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    // Scribble over the cell area of a page in the middle of the hosts table.
    const page = Math.floor(bytes.length / pageSize / 2);
    randomBytes(pageSize - 200).copy(bytes, page * pageSize + 100);
    fs.writeFileSync(file, bytes);

    expectError(openError(), 'STORE_CORRUPT', file);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('reports a database path that cannot be opened as a file', () => {
    const file = path.join(root, 'sutazai.db');
    fs.mkdirSync(file);
    const error = openError();
    expectError(error, 'STORE_UNREADABLE', file);
  });

  it.skipIf(!canMakeImmutable)('reports a database file that cannot be written and leaves it unchanged', () => {
    const file = writeRealDatabase();
    const before = fs.readFileSync(file);
    makeImmutable(file);
    expectError(openError(), 'STORE_UNREADABLE', file);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('reports a data directory that cannot be created', () => {
    const blocker = path.join(root, 'a-file');
    fs.writeFileSync(blocker, 'not a directory');
    const dataDir = path.join(blocker, 'data');
    const error = openError({ dataDir });
    expectError(error, 'DATA_DIR_NOT_WRITABLE', dataDir);
    expect(error.remedy).toContain('--data-dir');
    expect(error.remedy).toContain('SUTAZAI_DATA_DIR');
  });

  it('reports a data directory path that is a file', () => {
    const dataDir = path.join(root, 'a-file');
    fs.writeFileSync(dataDir, 'not a directory');
    expectError(openError({ dataDir }), 'DATA_DIR_NOT_WRITABLE', dataDir);
  });

  it.skipIf(!canMakeImmutable)('reports an existing data directory that cannot be written, even as root', () => {
    const dataDir = path.join(root, 'locked');
    fs.mkdirSync(dataDir);
    makeImmutable(dataDir);
    expectError(openError({ dataDir }), 'DATA_DIR_NOT_WRITABLE', dataDir);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('reports a failing migration, keeps the previous schema and closes the file', () => {
    const list: Migration[] = [
      ...migrations,
      {
        version: LATEST + 1,
        name: 'broken',
        up(db) {
          db.exec('CREATE TABLE broken (x)');
          throw new Error('boom');
        },
      },
    ];
    open().close();
    const error = openError({ migrations: list });
    expectError(error, 'STORE_MIGRATION_FAILED', path.join(root, 'sutazai.db'));
    expect(error.message).toContain(`left at schema ${LATEST}`);
    const store = open();
    expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST);
    expect(store.db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'broken'").get()).toEqual({ n: 0 });
  });
});

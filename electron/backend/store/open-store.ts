import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isApiError } from '../../contract';
import { settleInterruptedRestore } from './restore-swap';
import { makeDataDir, makePrivateFile, tightenDataDirModes } from '../../shared-node/data-dir';
import { migrations as defaultMigrations, type Migration } from './migrations';
import { latestVersion, readUserVersion, runMigrations, validateMigrations } from './run-migrations';
import {
  classifySqliteError,
  dataDirNotWritableError,
  storeCorruptError,
  storeNewerVersionError,
  storeUnreadableError,
} from './store-errors';

export interface StoreLogger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface Store {
  readonly db: Database.Database;
  readonly path: string;
  /** Group and other permissions taken off the data directory's entries at open (older versions left them), and any that could not be. */
  readonly modesTightened: { changed: string[]; failed: string[] };
  close(): void;
}

export interface OpenStoreOptions {
  dataDir: string;
  /** Default 'sutazai.db'. */
  fileName?: string;
  logger?: StoreLogger;
  migrations?: readonly Migration[];
}

const BUSY_TIMEOUT_MS = 5000;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SQLITE_HEADER_BYTES = 100;

/**
 * Opens (creating if needed) the app's database in `dataDir` and brings it to the latest
 * schema. An existing file is inspected read-only first, so a damaged database or one
 * from a newer app is refused without a single byte of it being written.
 */
export function openStore(options: OpenStoreOptions): Store {
  const dataDir = path.resolve(options.dataDir);
  const file = path.join(dataDir, options.fileName ?? 'sutazai.db');
  const list = options.migrations ?? defaultMigrations;
  validateMigrations(list);

  // A restore killed halfway left the old directory set aside, or the restored one in place unfinished.
  try {
    settleInterruptedRestore(dataDir);
  } catch (error) {
    // Its own refusals (a restore running, one interrupted) say what to do; a path it cannot
    // even look at (a file where a folder should be) is the data directory's problem.
    if (isApiError(error)) throw error;
    throw dataDirNotWritableError(dataDir, error);
  }
  ensureWritableDirectory(dataDir);
  const modesTightened = tightenDataDirModes(dataDir);
  if (modesTightened.changed.length > 0)
    options.logger?.warn({ changed: modesTightened.changed }, 'data directory permissions tightened: other local users could read it');
  if (modesTightened.failed.length > 0)
    options.logger?.error(
      { failed: modesTightened.failed },
      'data directory entries that other local users can read could not be made private',
    );
  inspectExistingFile(file, latestVersion(list));
  // SQLite gives the -wal and -shm files the database file's mode: made 0600 here, they are too.
  try {
    makePrivateFile(file);
  } catch (error) {
    throw dataDirNotWritableError(dataDir, error);
  }

  const db = openReadWrite(file);
  try {
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') {
      // Some network file systems cannot share memory for WAL; the store still works.
      options.logger?.warn({ path: file, journalMode }, 'the database could not switch to WAL mode');
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const { from, to } = runMigrations(db, list);
    options.logger?.info({ path: file, from, to }, from === to ? 'store opened' : 'store opened and migrated');
  } catch (error) {
    db.close();
    throw translateOpenError(file, error);
  }

  return {
    db,
    path: file,
    modesTightened,
    close() {
      if (db.open) db.close();
    },
  };
}

function ensureWritableDirectory(dir: string): void {
  try {
    makeDataDir(dir);
    if (!fs.statSync(dir).isDirectory()) {
      throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    }
    fs.accessSync(dir, fs.constants.W_OK);
    // access(2) says yes to root on a read-only mount or an immutable directory; creating
    // a file is the only check that tells the truth.
    const probe = path.join(dir, `.write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.unlinkSync(probe);
  } catch (error) {
    throw dataDirNotWritableError(dir, error);
  }
}

/** Refuses a file that is not a SQLite database, is damaged, or is from a newer app. */
function inspectExistingFile(file: string, knownVersion: number): void {
  let header: Buffer;
  try {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (!stat.isFile()) {
      throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EISDIR' });
    }
    if (stat.size === 0) return; // SQLite treats an empty file as a new database.
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
    header = readPrefix(file, SQLITE_HEADER_BYTES);
  } catch (error) {
    throw storeUnreadableError(file, error);
  }
  if (header.length < SQLITE_HEADER_BYTES || !header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw storeCorruptError(file, 'the file does not start with a SQLite header');
  }

  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw translateOpenError(file, error);
  }
  try {
    const version = readUserVersion(db);
    if (version > knownVersion) throw storeNewerVersionError(file, version, knownVersion);
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw storeCorruptError(file, `integrity check: ${String(check).replace(/\s+/g, ' ').trim()}`);
  } catch (error) {
    throw translateOpenError(file, error);
  } finally {
    db.close();
  }
}

function openReadWrite(file: string): Database.Database {
  try {
    return new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw translateOpenError(file, error);
  }
}

function translateOpenError(file: string, error: unknown): unknown {
  if (isApiError(error)) return error;
  switch (classifySqliteError(error)) {
    case 'corrupt':
      return storeCorruptError(file, error instanceof Error ? error.message : String(error), error);
    case 'unreadable':
      return storeUnreadableError(file, error);
    case 'other':
      return error;
  }
}

function readPrefix(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

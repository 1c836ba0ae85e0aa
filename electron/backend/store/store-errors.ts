import { ApiError } from '../../contract';

/**
 * The errors an operator can meet when the database is opened, upgraded or written.
 * Each names the file or directory involved, because that is what the operator acts on.
 */

const DATA_DIR_REMEDY_OPTIONS = 'with --data-dir or SUTAZAI_DATA_DIR';

export function dataDirNotWritableError(dir: string, cause: unknown): ApiError {
  return new ApiError(
    'DATA_DIR_NOT_WRITABLE',
    `The data directory ${dir} cannot be written to (${describeCause(cause)}).`,
    `Choose another data directory ${DATA_DIR_REMEDY_OPTIONS}, or fix the permissions of ${dir} so the user running the app can create files in it.`,
    { cause },
  );
}

export function storeNewerVersionError(file: string, found: number, known: number): ApiError {
  return new ApiError(
    'STORE_NEWER_VERSION',
    `The database ${file} was written by a newer version of SutazAI Control Center (schema ${found}, this app knows up to ${known}); it was left untouched.`,
    `Install the newer version of the app, or start this one with another data directory ${DATA_DIR_REMEDY_OPTIONS}.`,
  );
}

export function storeCorruptError(file: string, detail: string, cause?: unknown): ApiError {
  return new ApiError(
    'STORE_CORRUPT',
    `The database ${file} is damaged or is not a SutazAI database (${detail}); it was left untouched.`,
    `Quit the app, move ${file} aside (keep it for support), and start the app again to begin with a fresh database, or restore the file from a backup.`,
    { cause },
  );
}

export function storeUnreadableError(file: string, cause: unknown): ApiError {
  return new ApiError(
    'STORE_UNREADABLE',
    `The database ${file} cannot be opened for reading and writing (${describeCause(cause)}).`,
    `Make sure ${file} is a regular file that the user running the app can read and write and that no other program holds it locked, or choose another data directory ${DATA_DIR_REMEDY_OPTIONS}.`,
    { cause },
  );
}

export function storeMigrationFailedError(
  file: string,
  migration: { version: number; name: string },
  previousVersion: number,
  cause: unknown,
): ApiError {
  return new ApiError(
    'STORE_MIGRATION_FAILED',
    `Upgrading the database ${file} to schema ${migration.version} (${migration.name}) failed (${describeCause(cause)}); it was left at schema ${previousVersion}.`,
    isDiskFull(cause)
      ? 'Free space on the disk that holds the data directory, then start the app again.'
      : `Start the app again; if it fails the same way, keep ${file} and the log for support and use another data directory ${DATA_DIR_REMEDY_OPTIONS} meanwhile.`,
    { cause },
  );
}

export function storeWriteFailedError(file: string, what: string, cause: unknown): ApiError {
  return new ApiError(
    'STORE_WRITE_FAILED',
    `Saving ${what} to ${file} failed (${describeCause(cause)}); the data is kept in memory and saving is retried.`,
    isDiskFull(cause)
      ? 'Free space on the disk that holds the data directory.'
      : `Check that ${file} and its directory are still writable; if the error persists, restart the app and keep the log for support.`,
    { cause },
  );
}

/** SQLite error codes (better-sqlite3 `SqliteError.code`) grouped by what the operator must do. */
export type SqliteFailureKind = 'corrupt' | 'unreadable' | 'other';

export function classifySqliteError(error: unknown): SqliteFailureKind {
  const code = errorCode(error);
  if (code === undefined) return 'other';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return 'corrupt';
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_PERM') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_AUTH') ||
    code.startsWith('SQLITE_BUSY') ||
    code.startsWith('SQLITE_LOCKED') ||
    ['EACCES', 'EPERM', 'EROFS', 'EISDIR', 'EIO', 'ELOOP'].includes(code)
  ) {
    return 'unreadable';
  }
  return 'other';
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function isDiskFull(cause: unknown): boolean {
  const code = errorCode(cause);
  return code === 'SQLITE_FULL' || code === 'ENOSPC';
}

function describeCause(cause: unknown): string {
  const code = errorCode(cause);
  const message = cause instanceof Error ? cause.message : String(cause);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

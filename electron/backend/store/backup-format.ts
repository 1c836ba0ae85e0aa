import { ApiError } from '../../contract';

/**
 * A control center backup (issue 15, item 5): one ustar archive, `manifest.json` first, then
 * the database as SQLite's online backup copied it (`sutazai.db`), then the imported release
 * bundles (`bundles/...`) the installs refer to. The manifest comes first so a restore can
 * refuse a newer format or schema before it writes a byte; it carries each file's SHA-256
 * and each table's row count, which the restore checks against what it unpacked.
 */
export const BACKUP_FORMAT = 'sutazai-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const BACKUP_MANIFEST_NAME = 'manifest.json';
export const BACKUP_DATABASE_NAME = 'sutazai.db';
/** The data directory's folders a backup carries besides the database (each file by its own name). */
export const BACKUP_FOLDERS = ['bundles'] as const;
/** The manifest is small: a file claiming more is not ours. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  /** The app that wrote it. */
  appVersion: string;
  createdAtMs: number;
  /** The database's schema version (its user_version): a newer one than this app knows is refused like a newer database. */
  schemaVersion: number;
  /** How the vault's secrets are sealed: they stay sealed in the backup, and open after a restore only with the same key. */
  sealedWith: 'passphrase' | 'os-secret-store' | 'none';
  /** Every table's row count in the copied database. */
  tables: Record<string, number>;
  /** Every file after the manifest: its name in the archive, size and SHA-256. */
  files: Array<{ name: string; size: number; sha256: string }>;
}

export function backupInvalidError(file: string, detail: string): ApiError {
  return new ApiError(
    'BACKUP_INVALID',
    `${file} is not a complete SutazAI backup (${detail}); nothing was restored.`,
    'Use the backup file as `sutazai backup` wrote it (copy it again from where it was kept), or another backup.',
  );
}

export function backupFormatNewerError(file: string, found: number): ApiError {
  return new ApiError(
    'BACKUP_FORMAT_NEWER',
    `${file} is a backup of format ${found}, written by a newer SutazAI Control Center (this one reads up to format ${BACKUP_FORMAT_VERSION}); nothing was restored.`,
    'Restore it with the newer version of the app.',
  );
}

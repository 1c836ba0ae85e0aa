import { z } from 'zod';

/**
 * Backup of the control center itself (issue 15, item 5): a consistent copy of its store
 * (SQLite's online backup, taken while the app runs) and its release bundles, in one file;
 * sealed secrets stay sealed. Restoring is the command line's alone (`sutazai restore`): it
 * makes a data directory, which no running backend may serve meanwhile.
 */
export const BackupSummarySchema = z.object({
  /** The backup file written (absolute). */
  out: z.string(),
  bytes: z.number().int().nonnegative(),
  /** The database's schema version in the backup. */
  schemaVersion: z.number().int().nonnegative(),
  /** How the vault's secrets are sealed; they open after a restore only with the same passphrase (or on the same machine's OS secret store). */
  sealedWith: z.enum(['passphrase', 'os-secret-store', 'none']),
  /** Every table's row count in the copy. */
  tables: z.record(z.string(), z.number().int().nonnegative()),
  /** Files in the backup besides its manifest: the database and each release bundle. */
  files: z.number().int().positive(),
});
export type BackupSummary = z.infer<typeof BackupSummarySchema>;

export const backupMethods = {
  /** Writes a backup to a new file on the backend's machine (the command line's only: it names a path there). */
  'store.backup': {
    params: z.object({ path: z.string().min(1).max(4096) }).strict(),
    result: BackupSummarySchema,
  },
} as const;

import path from 'node:path';
import { type ApiClient, type BackupSummary } from '../../contract';
import { migrations } from '../store/migrations';
import { restoreBackup } from '../store/restore-backup';
import { latestVersion } from '../store/run-migrations';
import { EXIT } from './exit-codes';
import { usage } from './fleet-commands';

export interface BackupCommandContext {
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai backup --out F` (issue 15, item 5): a consistent copy of the store while the app
 * runs, through the backend (so the role check and the audit log see it, as any export).
 */
export async function runBackupCommand(ctx: BackupCommandContext): Promise<number> {
  if (ctx.args.length > 0)
    throw usage(`\`backup\` takes no arguments (got "${ctx.args.join(' ')}").`, 'sutazai backup --out site.sutazai-backup');
  const out = typeof ctx.values.out === 'string' ? ctx.values.out : undefined;
  if (out === undefined) throw usage('`backup` needs --out FILE: the new file to write.', 'sutazai backup --out site.sutazai-backup');
  const summary = await (await ctx.api()).call('store.backup', { path: path.resolve(out) });
  ctx.print(
    [
      `Backup written to ${summary.out}: ${summary.bytes} bytes, schema ${summary.schemaVersion}, ${summary.files} ${summary.files === 1 ? 'file' : 'files'} (the database${summary.files > 1 ? ' and the release bundles' : ''}).`,
      rowsLine(summary.tables),
      sealedNote(summary.sealedWith),
    ].join('\n'),
    summary,
  );
  return EXIT.OK;
}

/**
 * `sutazai restore F [--force]`: unpacks a backup into the data directory (--data-dir or the
 * default), with no backend started: one must not serve the directory while it is replaced.
 */
export async function runRestoreCommand(ctx: Omit<BackupCommandContext, 'api'> & { dataDir: string }): Promise<number> {
  if (ctx.args.length !== 1) throw usage('`restore` takes one backup file.', 'sutazai restore site.sutazai-backup --data-dir /srv/sutazai');
  const summary = await restoreBackup({
    file: ctx.args[0]!,
    dataDir: ctx.dataDir,
    force: ctx.values.force === true,
    knownSchema: latestVersion(migrations),
  });
  ctx.print(
    [
      `Restored the backup of ${new Date(summary.createdAtMs).toISOString()} into ${summary.dataDir}: schema ${summary.schemaVersion}, ${summary.files} ${summary.files === 1 ? 'file' : 'files'}; SQLite's integrity check ok, every table's rows as the backup counted them.`,
      rowsLine(summary.tables),
      sealedNote(summary.sealedWith),
    ].join('\n'),
    summary,
  );
  return EXIT.OK;
}

function rowsLine(tables: Record<string, number>): string {
  const rows = Object.values(tables).reduce((sum, n) => sum + n, 0);
  return `${Object.keys(tables).length} tables, ${rows} rows.`;
}

function sealedNote(sealedWith: BackupSummary['sealedWith']): string {
  switch (sealedWith) {
    case 'passphrase':
      return 'Stored passwords and keys are in it sealed, as stored: they open with the same vault passphrase after a restore.';
    case 'os-secret-store':
      return "Stored passwords and keys are in it sealed with the desktop app's OS secret store: they open only where that store holds the key (the same machine and user); elsewhere, enter them again.";
    default:
      return 'The vault held no sealed secrets.';
  }
}

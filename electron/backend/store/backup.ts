import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError, type BackupSummary } from '../../contract';
import { fileSink, TarWriter } from '../bundles/tar-writer';
import {
  BACKUP_DATABASE_NAME,
  BACKUP_FOLDERS,
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BACKUP_MANIFEST_NAME,
  type BackupManifest,
} from './backup-format';
import { failurePoint } from './failure-point';
import { makeOwnedWorkDir, sweepStaleWorkDirs, type OwnedWorkDir } from './owned-work-dir';
import { readUserVersion } from './run-migrations';

export interface WriteBackupOptions {
  /** The store's open connection: the copy is read through it while others keep writing. */
  db: Database.Database;
  dataDir: string;
  /** The backup file to create; an existing file is never overwritten. */
  out: string;
  appVersion: string;
  now: () => number;
}

/** Archive members are private: the database holds sealed secrets and password hashes. */
const MEMBER_MODE = 0o600;

/**
 * Writes a consistent copy of the control center's data directory to `out` while the app
 * runs: SQLite's online backup copies the database through `db` (the serving backend keeps
 * writing through its own connection; WAL lets both go on), the copy is checked whole, then
 * archived with the release bundles. Sealed secrets are copied as they are stored: sealed.
 * The file appears under its name only when complete (written beside it, then linked).
 */
export async function writeBackup(options: WriteBackupOptions): Promise<BackupSummary> {
  const out = path.resolve(options.out);
  if (fs.existsSync(out)) throw backupOutError(out, 'the file already exists');
  // What a killed backup left beside its file (its work folder names its dead process).
  sweepStaleWorkDirs(path.dirname(out), WORK_DIR);
  let workDir: OwnedWorkDir;
  try {
    workDir = makeOwnedWorkDir(path.dirname(out), `.${path.basename(out)}.backup-`);
  } catch (error) {
    throw backupOutError(out, `its folder cannot be written: ${(error as Error).message}`);
  }
  const work = workDir.path;
  try {
    const snapshot = path.join(work, BACKUP_DATABASE_NAME);
    // Each step copies what is left in one go: a write by another connection between two
    // steps restarts the copy, and small steps under a busy sampler could restart forever.
    await options.db.backup(snapshot, { progress: ({ totalPages }) => Math.max(totalPages, 1) });
    failurePoint('backup-copied');
    const { schemaVersion, sealedWith, tables } = settleCopy(snapshot);

    const files = [{ name: BACKUP_DATABASE_NAME, file: snapshot }, ...folderFiles(options.dataDir)];
    const members = await Promise.all(files.map(async (f) => ({ ...f, ...(await sizeAndHash(f.file)) })));
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      appVersion: options.appVersion,
      createdAtMs: options.now(),
      schemaVersion,
      sealedWith,
      tables,
      files: members.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    };

    const archive = path.join(work, 'backup.tar');
    const handle = await fsp.open(archive, 'wx', MEMBER_MODE);
    let bytes: number;
    try {
      const tar = new TarWriter(fileSink(handle));
      const mtime = Math.floor(manifest.createdAtMs / 1000);
      const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      await tar.addFile(BACKUP_MANIFEST_NAME, { mode: MEMBER_MODE, mtime, size: text.length }, text);
      for (const member of members) {
        await tar.addFile(member.name, { mode: MEMBER_MODE, mtime, size: member.size }, fs.createReadStream(member.file));
      }
      await tar.finish();
      bytes = tar.size;
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      // link, not rename: it fails rather than replace a file made meanwhile under that name.
      fs.linkSync(archive, out);
    } catch (error) {
      throw backupOutError(out, (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'the file already exists' : (error as Error).message);
    }
    return { out, bytes, schemaVersion, sealedWith, tables, files: members.length };
  } finally {
    workDir.remove();
  }
}

/** A backup's work folder beside its file: `.NAME.backup-` and mkdtemp's six characters. */
const WORK_DIR = /^\..+\.backup-[A-Za-z0-9]{6}$/;

/**
 * Makes the copied database stand alone and checks it: one file (no WAL beside it), without
 * the serving backend's claim on the data directory (it names a process on this machine),
 * whole by SQLite's integrity check. Answers what the manifest records.
 */
function settleCopy(file: string): Pick<BackupManifest, 'schemaVersion' | 'sealedWith' | 'tables'> {
  const copy = new Database(file);
  try {
    copy.pragma('journal_mode = DELETE');
    copy.prepare('DELETE FROM data_dir_owner').run();
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') {
      throw new ApiError(
        'STORE_CORRUPT',
        `The database's copy failed SQLite's integrity check (${String(check)}); no backup was written.`,
        'Run `sutazai backup` again; if it fails the same way, the database itself is damaged: keep the data directory for support.',
      );
    }
    return { schemaVersion: readUserVersion(copy), sealedWith: sealedWith(copy), tables: tableCounts(copy) };
  } finally {
    copy.close();
  }
}

/** Every table's row count, by name (SQLite's own tables left out). */
export function tableCounts(db: Database.Database): Record<string, number> {
  const names = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all();
  // Table names come from the database's own schema, quoted as identifiers.
  return Object.fromEntries(
    names.map(({ name }) => [name, db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get()!.n]),
  );
}

function sealedWith(db: Database.Database): BackupManifest['sealedWith'] {
  const row = db.prepare<[], { key_source: string }>('SELECT key_source FROM vault WHERE id = 1').get();
  return row?.key_source === 'passphrase' || row?.key_source === 'os-secret-store' ? row.key_source : 'none';
}

/** The regular files of the carried folders, by their names in the archive; partial copies (dot files) left out. */
function folderFiles(dataDir: string): Array<{ name: string; file: string }> {
  const found: Array<{ name: string; file: string }> = [];
  for (const folder of BACKUP_FOLDERS) {
    const dir = path.join(dataDir, folder);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      found.push({ name: `${folder}/${entry.name}`, file: path.join(dir, entry.name) });
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function sizeAndHash(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

function backupOutError(out: string, why: string): ApiError {
  return new ApiError(
    'BACKUP_OUT_UNWRITABLE',
    `The backup cannot be written to ${out}: ${why}.`,
    'Name a new file (--out) in a folder you can write; an existing file is never replaced.',
  );
}

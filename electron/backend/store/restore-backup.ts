import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiError } from '../../contract';
import { makeDataDir } from '../../shared-node/data-dir';
import { unsafePathReason } from '../bundles/tar-header';
import { readTar, type TarEntry } from '../bundles/tar-reader';
import { TarFormatError } from '../bundles/tar-format-error';
import {
  BACKUP_DATABASE_NAME,
  BACKUP_FOLDERS,
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BACKUP_MANIFEST_NAME,
  backupFormatNewerError,
  backupInvalidError,
  MAX_MANIFEST_BYTES,
  type BackupManifest,
} from './backup-format';
import { tableCounts } from './backup';
import { claimLive, describeHolder, type ClaimRow } from './process-claims';
import { readUserVersion } from './run-migrations';
import { storeNewerVersionError } from './store-errors';

export interface RestoreOptions {
  /** The backup file `writeBackup` made. */
  file: string;
  dataDir: string;
  /** Replace what the data directory holds (never while a backend serves it). */
  force: boolean;
  /** The newest schema this app knows (the last migration's version). */
  knownSchema: number;
}

export interface RestoreSummary {
  dataDir: string;
  schemaVersion: number;
  sealedWith: BackupManifest['sealedWith'];
  tables: Record<string, number>;
  files: number;
  createdAtMs: number;
}

/**
 * Unpacks a backup into a data directory: refused onto one that holds anything unless
 * forced, and never onto one a running backend serves. Every member is checked against the
 * manifest (name, size, SHA-256) and the database against SQLite's integrity check and the
 * manifest's row counts in a staging folder first; only then does it replace what was there.
 * An older schema is left as it is: the app migrates it when it opens the store.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreSummary> {
  const file = path.resolve(options.file);
  const dataDir = path.resolve(options.dataDir);
  if (!fs.existsSync(file)) throw backupInvalidError(file, 'there is no such file');
  checkTarget(dataDir, options.force);
  makeDataDir(dataDir);
  const staging = path.join(dataDir, `.restore-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(staging, { mode: 0o700 });
  try {
    const manifest = await unpack(file, staging, options.knownSchema);
    const tables = checkDatabase(file, path.join(staging, BACKUP_DATABASE_NAME), manifest, options.knownSchema);
    replaceData(dataDir, staging);
    return {
      dataDir,
      schemaVersion: manifest.schemaVersion,
      sealedWith: manifest.sealedWith,
      tables,
      files: manifest.files.length,
      createdAtMs: manifest.createdAtMs,
    };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** A restore's staging folder in the data directory (8 hex digits: randomBytes(4)). */
const STAGING = /^\.restore-[0-9a-f]{8}$/;

function checkTarget(dataDir: string, force: boolean): void {
  const all = fs.existsSync(dataDir) ? fs.readdirSync(dataDir, { withFileTypes: true }) : [];
  // A staging folder a killed restore left holds only a partial copy of a backup: it is not the directory's data.
  for (const left of all.filter((e) => e.isDirectory() && STAGING.test(e.name)))
    fs.rmSync(path.join(dataDir, left.name), { recursive: true, force: true });
  const entries = all.filter((e) => !(e.isDirectory() && STAGING.test(e.name))).map((e) => e.name);
  if (entries.length === 0) return;
  if (!force) {
    throw new ApiError(
      'RESTORE_TARGET_NOT_EMPTY',
      `The data directory ${dataDir} is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}); nothing was restored.`,
      'Restore into a new data directory (--data-dir), or add --force to replace what this one holds.',
    );
  }
  const db = path.join(dataDir, BACKUP_DATABASE_NAME);
  if (!fs.existsSync(db)) return;
  const holder = servingBackend(db);
  if (holder !== null) {
    throw new ApiError(
      'DATA_DIR_IN_USE',
      `The data directory ${dataDir} is in use by a running control center: ${describeHolder(holder)}; nothing was restored.`,
      `Stop it first (Ctrl+C where it runs, or kill ${holder.owner_pid}), then restore again.`,
    );
  }
}

/** The live claim of a backend serving this database, if one is. */
function servingBackend(file: string): ClaimRow | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const row = db
      .prepare<[], ClaimRow>('SELECT holder, owner_pid, owner_started, token, acquired_at FROM data_dir_owner WHERE id = 1')
      .get();
    return row !== undefined && claimLive(row) ? row : null;
  } catch {
    // Not a database of ours (or damaged): nothing serves it, and --force replaces it.
    return null;
  } finally {
    db?.close();
  }
}

const Count = z.number().int().min(0);

/** A manifest as `writeBackup` writes it: the file is anyone's, so each field is checked before it is used or printed. */
const ManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: Count,
  appVersion: z.string().max(200),
  createdAtMs: Count,
  schemaVersion: Count,
  sealedWith: z.enum(['passphrase', 'os-secret-store', 'none']),
  tables: z.record(z.string(), Count),
  files: z.array(z.object({ name: z.string(), size: Count, sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

/** Reads the archive into `staging`, each member checked against the manifest; answers the manifest. */
async function unpack(file: string, staging: string, knownSchema: number): Promise<BackupManifest> {
  let manifest: BackupManifest | null = null;
  const seen = new Set<string>();
  try {
    for await (const entry of readTar(fs.createReadStream(file))) {
      if (manifest === null) {
        manifest = await readManifest(file, entry, knownSchema);
        continue;
      }
      const expected = manifest.files.find((f) => f.name === entry.name);
      if (entry.type !== 'file' || expected === undefined || seen.has(entry.name) || unsafePathReason(entry.name, 'file') !== null)
        throw backupInvalidError(file, `it holds "${entry.name}", which its manifest does not list`);
      // Refused before a byte is written: a member larger than listed would fill the disk first.
      if (entry.size !== expected.size)
        throw backupInvalidError(file, `"${entry.name}" is not the file the manifest describes (its size or SHA-256 differs)`);
      seen.add(entry.name);
      const target = path.join(staging, entry.name);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      const { size, sha256 } = await writeMember(entry, target);
      if (size !== expected.size || sha256 !== expected.sha256)
        throw backupInvalidError(file, `"${entry.name}" is not the file the manifest describes (its size or SHA-256 differs)`);
    }
  } catch (error) {
    if (error instanceof TarFormatError) throw backupInvalidError(file, error.message);
    throw error;
  }
  if (manifest === null) throw backupInvalidError(file, 'it is an empty archive');
  const missing = manifest.files.filter((f) => !seen.has(f.name));
  if (missing.length > 0) throw backupInvalidError(file, `it lacks ${missing.map((f) => f.name).join(', ')}`);
  return manifest;
}

async function readManifest(file: string, entry: TarEntry, knownSchema: number): Promise<BackupManifest> {
  if (entry.name !== BACKUP_MANIFEST_NAME || entry.type !== 'file' || entry.size > MAX_MANIFEST_BYTES)
    throw backupInvalidError(file, `it does not start with its ${BACKUP_MANIFEST_NAME}`);
  const chunks: Buffer[] = [];
  for await (const chunk of entry.body) chunks.push(chunk);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw backupInvalidError(file, `its ${BACKUP_MANIFEST_NAME} is not JSON`);
  }
  const claimed = value as Partial<BackupManifest> | null;
  if (claimed?.format !== BACKUP_FORMAT || !Number.isInteger(claimed.formatVersion))
    throw backupInvalidError(file, `its ${BACKUP_MANIFEST_NAME} is not a SutazAI backup's`);
  if (claimed.formatVersion! > BACKUP_FORMAT_VERSION) throw backupFormatNewerError(file, claimed.formatVersion!);
  const parsed = ManifestSchema.safeParse(value);
  if (
    !parsed.success ||
    !parsed.data.files.some((f) => f.name === BACKUP_DATABASE_NAME) ||
    !parsed.data.files.every((f) => isCarried(f.name))
  )
    throw backupInvalidError(file, `its ${BACKUP_MANIFEST_NAME} lacks fields or names files a backup does not hold`);
  const manifest = parsed.data;
  if (manifest.schemaVersion > knownSchema)
    throw storeNewerVersionError(`${file} (${BACKUP_DATABASE_NAME})`, manifest.schemaVersion, knownSchema);
  return manifest;
}

/** The database, or a plain file directly inside a carried folder. */
function isCarried(name: unknown): boolean {
  if (name === BACKUP_DATABASE_NAME) return true;
  if (typeof name !== 'string' || unsafePathReason(name, 'file') !== null) return false;
  const [folder, base, ...rest] = name.split('/');
  return rest.length === 0 && base !== undefined && (BACKUP_FOLDERS as readonly string[]).includes(folder!);
}

async function writeMember(entry: TarEntry, target: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const fd = fs.openSync(target, 'wx', 0o600);
  try {
    for await (const chunk of entry.body) {
      hash.update(chunk);
      size += chunk.length;
      fs.writeSync(fd, chunk);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * The database's own schema (the manifest's word is not enough: the app would refuse a newer
 * one only after the old data was replaced), SQLite's integrity check, and every table's rows
 * as many as the manifest says.
 */
function checkDatabase(file: string, db: string, manifest: BackupManifest, knownSchema: number): Record<string, number> {
  let copy: Database.Database | null = null;
  try {
    copy = new Database(db, { readonly: true, fileMustExist: true });
    const schema = readUserVersion(copy);
    if (schema > knownSchema) throw storeNewerVersionError(`${file} (${BACKUP_DATABASE_NAME})`, schema, knownSchema);
    if (schema !== manifest.schemaVersion)
      throw backupInvalidError(file, `its database is at schema ${schema}, its manifest says ${manifest.schemaVersion}`);
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw backupInvalidError(file, `its database fails SQLite's integrity check: ${String(check)}`);
    const tables = tableCounts(copy);
    const differ = [...new Set([...Object.keys(tables), ...Object.keys(manifest.tables)])].filter(
      (name) => tables[name] !== manifest.tables[name],
    );
    if (differ.length > 0) throw backupInvalidError(file, `its database's row counts differ from the manifest's in ${differ.join(', ')}`);
    return tables;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // Not a database SQLite can read (its bytes match the manifest, which anyone can write).
    throw backupInvalidError(file, `its database cannot be read: ${(error as Error).message}`);
  } finally {
    copy?.close();
  }
}

/** Moves the staged files in: the old database (with its WAL) and carried folders go first. */
function replaceData(dataDir: string, staging: string): void {
  const db = path.join(dataDir, BACKUP_DATABASE_NAME);
  for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(`${db}${suffix}`, { force: true });
  fs.renameSync(path.join(staging, BACKUP_DATABASE_NAME), db);
  for (const folder of BACKUP_FOLDERS) {
    const staged = path.join(staging, folder);
    const target = path.join(dataDir, folder);
    fs.rmSync(target, { recursive: true, force: true });
    if (fs.existsSync(staged)) fs.renameSync(staged, target);
  }
}

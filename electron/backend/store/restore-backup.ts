import { createHash } from 'node:crypto';
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
import { claimDataDir } from './data-dir-owner-repo';
import { failurePoint } from './failure-point';
import { makeOwnedWorkDir, OWNER_FILE } from './owned-work-dir';
import { swapEntriesIn } from './restore-entry-swap';
import {
  DATABASE_FILES,
  ENTRY_ASIDE_NAME,
  ENTRY_STAGED_PATTERN,
  ENTRY_STAGED_PREFIX,
  JOURNAL_NAME,
  syncDirectory,
} from './restore-journal';
import { RESTORE_LOCK_NAME, takeRestoreLock, type RestoreLock } from './restore-lock';
import { isMountPoint } from './restore-mount';
import { settleInterruptedRestore, stagedPrefix, swapIn } from './restore-swap';
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
  // A mount point cannot be renamed: the restored tree is staged inside it (the same
  // filesystem) and swapped in entry by entry; any other directory is swapped whole. In place,
  // one restore at a time, from the settle through the swap's end (restore-lock.ts).
  // The folder whose disk the restore fills: the data directory's own in place, else its parent's.
  let disk = fs.existsSync(dataDir) && isMountPoint(dataDir) ? dataDir : path.dirname(dataDir);
  let lock: RestoreLock | null = null;
  try {
    if (disk === dataDir) lock = takeRestoreLock(dataDir);
    // What a killed restore left: the old directory back in place, or the restored one finished.
    settleInterruptedRestore(dataDir);
    makeDataDir(dataDir);
    const swapsInPlace = isMountPoint(dataDir);
    if (swapsInPlace) disk = dataDir;
    if (swapsInPlace && lock === null) {
      // Became a mount only now (made by the settle or mounted meanwhile): locked, then settled again.
      lock = takeRestoreLock(dataDir);
      settleInterruptedRestore(dataDir);
    }
    return await restoreInto(file, dataDir, options, swapsInPlace);
  } catch (error) {
    // A disk or quota that fills anywhere from the lock to the swap (an owner file, a claim, the
    // journal; the unpack says how much it needed itself): nothing was restored, and the
    // operator is told so, not handed an internal error.
    if (noSpace(error)) throw restoreNoSpaceError(disk, null, null);
    throw error;
  } finally {
    lock?.release();
  }
}

async function restoreInto(file: string, dataDir: string, options: RestoreOptions, inPlace: boolean): Promise<RestoreSummary> {
  checkTarget(dataDir, options.force, inPlace);
  // The same claim a serving backend or a CLI command takes: none may open the store while it is replaced.
  let oldClaim = claimStore(path.join(dataDir, BACKUP_DATABASE_NAME), dataDir, { existing: true });
  let swapped = false;
  try {
    const staged = inPlace
      ? makeOwnedWorkDir(dataDir, ENTRY_STAGED_PREFIX)
      : makeOwnedWorkDir(path.dirname(dataDir), stagedPrefix(dataDir));
    try {
      const manifest = await unpack(file, staged.path, options.knownSchema);
      const tables = checkDatabase(file, path.join(staged.path, BACKUP_DATABASE_NAME), manifest, options.knownSchema);
      // In place, what the restore does not replace stays where it is.
      if (!inPlace) carryOver(dataDir, staged.path);
      // The staged tree's folders hold their entries on disk before a journal or a rename depends on them.
      syncTree(staged.path);
      // The restored store is claimed before it is in place, until this restore has finished.
      const newClaim = claimStore(path.join(staged.path, BACKUP_DATABASE_NAME), dataDir, { existing: false });
      try {
        failurePoint('restore-staged');
        // The directory was empty or held no store of ours when this restore began: a backend may
        // have started on it while the backup was unpacked. What it holds now is judged again, its
        // store claimed (DATA_DIR_IN_USE while that backend serves it), before anything is replaced.
        if (oldClaim === NO_CLAIM) {
          oldClaim = claimStore(path.join(dataDir, BACKUP_DATABASE_NAME), dataDir, { existing: true });
          if (!options.force) checkTarget(dataDir, false, inPlace);
        }
        // Both claims stay in their stores (this process holds them) with the files closed: a
        // handle closed after its files were renamed would delete the -wal and -shm files now
        // at its old path, which are the other store's.
        oldClaim.close();
        newClaim.close();
        if (inPlace) swapEntriesIn(dataDir, staged.path);
        else swapIn(dataDir, staged.path);
        swapped = true;
      } finally {
        if (swapped) {
          newClaim.forget();
          dropRestoreClaim(path.join(dataDir, BACKUP_DATABASE_NAME));
        } else newClaim.release();
      }
      // Renamed into place whole, the staging folder is the data directory now; in place, it is emptied and goes.
      if (!inPlace) staged.release();
      return {
        dataDir,
        schemaVersion: manifest.schemaVersion,
        sealedWith: manifest.sealedWith,
        tables,
        files: manifest.files.length,
        createdAtMs: manifest.createdAtMs,
      };
    } finally {
      staged.remove();
    }
  } finally {
    // Swapped, the old store is gone with its claim; otherwise it is released.
    if (swapped) oldClaim.forget();
    else oldClaim.release();
  }
}

/** A restore's staging folder inside the data directory, as older versions made it (8 hex digits). */
const STAGING = /^\.restore-[0-9a-f]{8}$/;

/** A fresh filesystem's own folder (ext4 and others make it at the root of every volume): not the operator's data. */
const LOST_AND_FOUND = 'lost+found';

function checkTarget(dataDir: string, force: boolean, inPlace: boolean): void {
  const all = fs.readdirSync(dataDir, { withFileTypes: true });
  // A staging folder a killed restore of an older version left holds only a partial copy of a backup: it is not the directory's data.
  for (const left of all.filter((e) => e.isDirectory() && STAGING.test(e.name)))
    fs.rmSync(path.join(dataDir, left.name), { recursive: true, force: true });
  const entries = all.filter((e) => !(e.isDirectory() && STAGING.test(e.name)) && !(inPlace && restoresOwn(e.name))).map((e) => e.name);
  if (entries.length === 0 || force) return;
  throw new ApiError(
    'RESTORE_TARGET_NOT_EMPTY',
    `The data directory ${dataDir} is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}); nothing was restored.`,
    'Restore into a new data directory (--data-dir), or add --force to replace what this one holds.',
  );
}

/** Staged in place, this restore's own entries; at a mount's root, the filesystem's lost+found. */
function restoresOwn(name: string): boolean {
  return (
    ENTRY_STAGED_PATTERN.test(name) ||
    name === ENTRY_ASIDE_NAME ||
    name === JOURNAL_NAME ||
    name.startsWith(RESTORE_LOCK_NAME) ||
    name === LOST_AND_FOUND
  );
}

interface HeldClaim {
  /** Closes the store; the claim stays in it (this process holds it) until `release` or `forget`. */
  close(): void;
  /** Removes the claim from the store (opened again if closed) and closes it. */
  release(): void;
  /** Closes the store without writing (its file was moved or removed, or the claim is dropped at the file's new place). */
  forget(): void;
}

/** No claim taken: there was no store of ours to claim. */
const NO_CLAIM: HeldClaim = { close: () => {}, release: () => {}, forget: () => {} };

/**
 * Takes the data directory's claim (data_dir_owner) in the database at `file` for this
 * restore; DATA_DIR_IN_USE while a live backend or command holds it. A file that is not a
 * database of ours (or none, for `existing`) has no claim to take: --force replaces it.
 */
function claimStore(file: string, dataDir: string, { existing }: { existing: boolean }): HeldClaim {
  if (existing && !fs.existsSync(file)) return NO_CLAIM;
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (error) {
    if (existing) return NO_CLAIM;
    throw error;
  }
  try {
    const release = claimDataDir(db, { holder: 'restore', dataDir, now: Date.now });
    const { token } = db.prepare<[], { token: string }>('SELECT token FROM data_dir_owner WHERE id = 1').get()!;
    return {
      close: () => db.close(),
      release() {
        const closed = !db.open;
        try {
          // The row goes from the open store, or from the file opened again once closed.
          release();
        } finally {
          db.close();
        }
        if (closed && fs.existsSync(file)) dropClaimRow(file, 'token = ?', token);
      },
      forget() {
        db.close();
        // Closed first: this only forgets the claim in this process, the file is not written.
        release();
      },
    };
  } catch (error) {
    db.close();
    if (error instanceof ApiError && error.code === 'DATA_DIR_IN_USE')
      throw new ApiError('DATA_DIR_IN_USE', `${error.message} Nothing was restored.`, error.remedy);
    // Not a database of ours (or damaged, or of a schema without the claim): nothing serves it.
    // A full disk is not that: the claim could not be written, so the restore stops.
    if (existing && !noSpace(error)) return NO_CLAIM;
    throw error;
  }
}

/** Removes this process's restore claim from the restored store, now in place. */
function dropRestoreClaim(file: string): void {
  dropClaimRow(file, "holder = 'restore' AND owner_pid = ?", process.pid);
}

function dropClaimRow(file: string, where: string, value: string | number): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.prepare(`DELETE FROM data_dir_owner WHERE id = 1 AND ${where}`).run(value);
  } finally {
    db.close();
  }
}

/**
 * What the data directory holds besides the database and the carried folders (the logs,
 * the desktop app's vault key, anything of the operator's) goes into the restored one too,
 * as hard links: the old directory stays whole until it is replaced.
 */
function carryOver(dataDir: string, staged: string): void {
  const replaced = new Set<string>([...DATABASE_FILES, ...BACKUP_FOLDERS, OWNER_FILE]);
  const link = (from: string, to: string) => {
    const stat = fs.lstatSync(from);
    if (stat.isDirectory()) {
      fs.mkdirSync(to, { mode: stat.mode & 0o7777 });
      for (const name of fs.readdirSync(from)) link(path.join(from, name), path.join(to, name));
    } else if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (stat.isFile()) fs.linkSync(from, to);
    // Sockets, pipes, devices: nothing the app keeps; not carried.
  };
  for (const name of fs.readdirSync(dataDir)) {
    if (replaced.has(name) || name.startsWith('.write-test-')) continue;
    link(path.join(dataDir, name), path.join(staged, name));
  }
}

/** Flushes every folder under `dir` (links not followed), the deepest first, `dir` itself last. */
function syncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) syncTree(path.join(dir, entry.name));
  syncDirectory(dir);
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
        ensureRoom(staging, manifest);
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
    // The free space the check saw was taken by something else meanwhile (or a quota).
    if (manifest !== null && noSpace(error)) throw restoreNoSpaceError(path.dirname(staging), roomNeeded(staging, manifest), null);
    throw error;
  }
  if (manifest === null) throw backupInvalidError(file, 'it is an empty archive');
  const missing = manifest.files.filter((f) => !seen.has(f.name));
  if (missing.length > 0) throw backupInvalidError(file, `it lacks ${missing.map((f) => f.name).join(', ')}`);
  return manifest;
}

/**
 * What the backup's files take on the staging folder's disk: each rounded up to the disk's
 * block (a file of one byte takes a whole one), so many small files do not pass the check
 * and then fill the disk.
 */
function roomNeeded(staging: string, manifest: BackupManifest, block = blockSize(staging)): number {
  return manifest.files.reduce((sum, f) => sum + Math.max(1, Math.ceil(f.size / block)) * block, 0);
}

function blockSize(staging: string): number {
  try {
    const { bsize } = fs.statfsSync(staging);
    return Number.isInteger(bsize) && bsize > 0 ? bsize : 1;
  } catch {
    return 1;
  }
}

/** The disk or the quota is full (SQLite says so in its own words). */
function noSpace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/**
 * The restored copy is staged while the current data stays whole (until the swap), so both
 * must fit: refused before a byte is written when the staging folder's disk lacks the room.
 */
function ensureRoom(staging: string, manifest: BackupManifest): void {
  let disk: fs.StatsFs;
  try {
    disk = fs.statfsSync(staging);
  } catch {
    // A filesystem that does not say: the writes find out (ENOSPC).
    return;
  }
  const free = disk.bavail * disk.bsize;
  const needed = roomNeeded(staging, manifest, disk.bsize > 0 ? disk.bsize : 1);
  if (needed > free) throw restoreNoSpaceError(path.dirname(staging), needed, free);
}

/** `where`: the folder whose disk the restore fills (the data directory in place, else its parent). */
function restoreNoSpaceError(where: string, needed: number | null, free: number | null): ApiError {
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const sizes = needed === null ? '' : ` (the backup's files take ${mib(needed)}${free === null ? '' : `, ${mib(free)} are free`})`;
  return new ApiError(
    'RESTORE_NO_SPACE',
    `There is no room on the disk of ${where} for the restored copy${sizes}; nothing was restored.`,
    `Free ${needed === null || free === null ? 'space' : `at least ${mib(needed - free)}`} there (the current data stays whole until the restored copy is checked and swapped in, so both must fit), or restore into a data directory on a larger disk.`,
  );
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

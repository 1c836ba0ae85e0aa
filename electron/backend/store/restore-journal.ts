import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../contract';
import { BACKUP_DATABASE_NAME, BACKUP_FOLDERS } from './backup-format';
import type { ProcessOwner } from './owner-process';

/**
 * The journal of a restore into a data directory that is a mount point (restore-entry-swap.ts):
 * which of the directory's entries it sets aside, which restored ones it moves in from its
 * staging folder, and whether it got to the end (`committed`). The next store open or restore
 * reads it to finish or undo a swap a kill interrupted. It lives in the data directory and
 * anyone who can write there can edit it, so every field is checked before a name in it is
 * used in a path: only the entries a restore replaces, only our staging folder's name.
 */
export const JOURNAL_NAME = '.sutazai-restore-journal.json';
/** The old entries, set aside until the swap is committed (inside the data directory: the same filesystem). */
export const ENTRY_ASIDE_NAME = '.sutazai-restore-old';
/** The restored tree being built inside the data directory (mkdtemp's six characters follow). */
export const ENTRY_STAGED_PREFIX = '.sutazai-restore-new-';
export const ENTRY_STAGED_PATTERN = /^\.sutazai-restore-new-[A-Za-z0-9]{6}$/;

/** The database with its journal files, and the folders a backup carries: what a restore replaces. */
export const DATABASE_FILES = ['', '-wal', '-shm', '-journal'].map((suffix) => `${BACKUP_DATABASE_NAME}${suffix}`);
export const REPLACED_ENTRIES: ReadonlySet<string> = new Set([...DATABASE_FILES, ...BACKUP_FOLDERS]);

export interface RestoreJournal {
  /** The restoring process: while it runs, no one else touches the directory. */
  owner: ProcessOwner;
  /** The staging folder's name inside the data directory. */
  staged: string;
  /** The data directory's entries set aside, in the order they are moved. */
  old: string[];
  /** The staging folder's entries moved in, in order. */
  new: string[];
  /** Every restored entry is in place: the swap goes forward from here, never back. */
  committed: boolean;
}

const MAX_JOURNAL_BYTES = 4096;
const TEMP_SUFFIX = '.tmp';

const Entry = z.string().refine((name) => REPLACED_ENTRIES.has(name));
const Entries = z
  .array(Entry)
  .max(REPLACED_ENTRIES.size)
  .refine((names) => new Set(names).size === names.length);
const JournalSchema = z.object({
  format: z.literal('sutazai-restore-journal'),
  version: z.literal(1),
  owner: z.object({
    pid: z.number().int().positive(),
    startedAt: z
      .string()
      .regex(/^\d{1,20}$/)
      .nullable(),
  }),
  staged: z.string().regex(ENTRY_STAGED_PATTERN),
  old: Entries,
  new: Entries,
  committed: z.boolean(),
});

/** The journal in `dataDir`, null when there is none; RESTORE_INTERRUPTED when it is not one a restore wrote. */
export function readJournal(dataDir: string): RestoreJournal | null {
  const file = path.join(dataDir, JOURNAL_NAME);
  let text: string;
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size > MAX_JOURNAL_BYTES) throw journalUnreadable(dataDir, 'it is not a small plain file');
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    if (error instanceof ApiError) throw error;
    throw journalUnreadable(dataDir, (error as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw journalUnreadable(dataDir, 'it is not JSON');
  }
  const parsed = JournalSchema.safeParse(value);
  if (!parsed.success) throw journalUnreadable(dataDir, 'it names entries or a folder a restore never moves');
  const { owner, staged, old, new: moved, committed } = parsed.data;
  return { owner, staged, old, new: moved, committed };
}

/**
 * Replaces the journal in one step (written beside it, flushed, renamed over it, the
 * directory flushed): a kill leaves the previous journal or the new one, never half of one.
 */
export function writeJournal(dataDir: string, journal: RestoreJournal): void {
  const file = path.join(dataDir, JOURNAL_NAME);
  const temp = file + TEMP_SUFFIX;
  // Anyone who can write the directory could plant a link at the temporary name: it is removed
  // (the link itself, never what it points at) and made anew, refusing to follow one put back.
  fs.rmSync(temp, { force: true });
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify({ format: 'sutazai-restore-journal', version: 1, ...journal }));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  syncDirectory(dataDir);
}

/** Removes the journal (and a half-written one a kill left beside it), then flushes the directory. */
export function removeJournal(dataDir: string): void {
  fs.rmSync(path.join(dataDir, JOURNAL_NAME), { force: true });
  removeHalfWrittenJournal(dataDir);
  syncDirectory(dataDir);
}

/** A journal write a kill stopped before its rename: the swap it was for never began (or the journal before it stands). */
export function removeHalfWrittenJournal(dataDir: string): void {
  fs.rmSync(path.join(dataDir, JOURNAL_NAME + TEMP_SUFFIX), { force: true });
}

/** Makes renames in `dir` durable before the next step depends on them (not every system can flush a directory). */
export function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a directory for flushing; its renames are journaled by NTFS itself.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * The staging folder or the aside folder a journal names must be a real folder on the data
 * directory's own filesystem before anything is renamed into or out of it: a link planted at
 * its name would carry the store out of the data directory (or pull files in from elsewhere).
 * Absent is fine (a swap not begun, or already finished); anything else is refused.
 */
export function checkSwapFolder(dataDir: string, name: string): void {
  const folder = path.join(dataDir, name);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const why = stat.isSymbolicLink()
    ? 'it is a symbolic link'
    : !stat.isDirectory()
      ? 'it is not a folder'
      : stat.dev !== fs.statSync(dataDir).dev
        ? 'it is on another filesystem (a mount of its own)'
        : null;
  if (why === null) return;
  throw new ApiError(
    'RESTORE_INTERRUPTED',
    `A restore into ${dataDir} was interrupted, and ${folder}, which its journal moves entries through, cannot be used (${why}); nothing was moved.`,
    `Look at ${folder} and the data directory: keep the entries you want in the data directory, remove ${name} (rm ${folder}; a link's target is not touched), ${ENTRY_ASIDE_NAME} if it is left, and ${JOURNAL_NAME}, then start again.`,
  );
}

export function journalUnreadable(dataDir: string, detail: string): ApiError {
  return new ApiError(
    'RESTORE_INTERRUPTED',
    `A restore into ${dataDir} was interrupted, and its journal ${path.join(dataDir, JOURNAL_NAME)} cannot be used (${detail}); nothing was moved.`,
    `Look at ${path.join(dataDir, ENTRY_ASIDE_NAME)} (the entries the restore set aside) and the data directory: keep the entries you want in the data directory, remove ${ENTRY_ASIDE_NAME}, the ${ENTRY_STAGED_PREFIX}* folders and ${JOURNAL_NAME}, then start again.`,
  );
}

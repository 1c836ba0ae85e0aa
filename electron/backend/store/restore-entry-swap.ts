import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { failurePoint } from './failure-point';
import { liveWorkDirOwner, OWNER_FILE, sweepStaleWorkDirs } from './owned-work-dir';
import { ownerAlive, thisProcess, type ProcessOwner } from './owner-process';
import {
  checkSwapFolder,
  ENTRY_ASIDE_NAME,
  ENTRY_STAGED_PATTERN,
  readJournal,
  REPLACED_ENTRIES,
  removeHalfWrittenJournal,
  removeJournal,
  syncDirectory,
  writeJournal,
  type RestoreJournal,
} from './restore-journal';
import { liveRestoreLockOwner, removeDeadRestoreLock } from './restore-lock';
import { entryMountPointError, isMountPoint, renameOntoMount } from './restore-mount';

/**
 * A restore into a data directory that is a mount point (a Docker volume, a disk of its own,
 * a bind mount), which cannot itself be renamed: the restored tree is staged inside it (a
 * hidden folder on the same filesystem) and swapped in entry by entry, under a journal:
 *
 *   1. the journal names the entries to set aside (the database, `bundles/`) and the
 *      restored ones to move in; written in one step, flushed;
 *   2. each old entry is renamed into `.sutazai-restore-old/`, then each restored one
 *      renamed from the staging folder into the data directory;
 *   3. the journal is rewritten `committed`; the old entries are removed, then the journal.
 *
 * A kill before step 3's rewrite is undone by the next store open or restore (each restored
 * entry back into the staging folder, each old one back in place), after it finished (the old
 * entries removed): the old state whole or the restored state whole, never a mix. Entries a
 * restore does not replace (logs, the desktop app's key, the operator's files) stay where
 * they are throughout.
 */

export type EntrySettleOutcome = 'nothing' | 'rolled-back' | 'completed';

/** Puts the restored entries of `staged` (a folder inside `dataDir`) in the place of the data directory's own. */
export function swapEntriesIn(dataDir: string, staged: string): void {
  const moving = fs
    .readdirSync(staged)
    .filter((name) => name !== OWNER_FILE)
    .sort();
  const unknown = moving.find((name) => !REPLACED_ENTRIES.has(name));
  if (unknown !== undefined) throw new Error(`the staged restore holds ${unknown}, which a restore does not replace`);
  const replaced = fs
    .readdirSync(dataDir)
    .filter((name) => REPLACED_ENTRIES.has(name))
    .sort();
  // Refused before the journal is written: nothing has moved.
  for (const name of replaced) if (isMountPoint(path.join(dataDir, name))) throw entryMountPointError(dataDir, name);

  const journal: RestoreJournal = { owner: thisProcess(), staged: path.basename(staged), old: replaced, new: moving, committed: false };
  writeJournal(dataDir, journal);
  failurePoint('restore-journal-written');
  const aside = path.join(dataDir, ENTRY_ASIDE_NAME);
  let current = '.';
  try {
    fs.mkdirSync(aside, { mode: 0o700 });
    replaced.forEach((name, index) => {
      current = name;
      fs.renameSync(path.join(dataDir, name), path.join(aside, name));
      if (index === 0) failurePoint('restore-entry-set-aside');
    });
    failurePoint('restore-set-aside');
    moving.forEach((name, index) => {
      current = name;
      fs.renameSync(path.join(staged, name), path.join(dataDir, name));
      if (index === 0) failurePoint('restore-entry-moved-in');
    });
    // All three folders changed: the commit below must not reach the disk before their renames do.
    syncDirectory(aside);
    syncDirectory(staged);
    syncDirectory(dataDir);
    failurePoint('restore-moved-in');
  } catch (error) {
    // Not committed: undone now as the next open would undo a kill here.
    rollBack(dataDir, journal);
    if (renameOntoMount(error)) throw entryMountPointError(dataDir, current);
    throw error;
  }
  try {
    writeJournal(dataDir, { ...journal, committed: true });
  } catch (error) {
    // Not committed (a full disk, say): undone now, as the next open would.
    rollBack(dataDir, journal);
    throw error;
  }
  failurePoint('restore-swapped');
  finish(dataDir, journal);
}

/**
 * Finishes or undoes what a killed entry swap in `dataDir` left (see above), and removes the
 * staging folders of restores that died before their swap. The caller has made sure the
 * restoring process is gone (`liveEntryRestore`).
 */
export function settleEntrySwap(dataDir: string): EntrySettleOutcome {
  removeDeadRestoreLock(dataDir);
  const journal = readJournal(dataDir);
  if (journal === null) {
    removeHalfWrittenJournal(dataDir);
    sweepStaleWorkDirs(dataDir, ENTRY_STAGED_PATTERN);
    removeEmptyAside(dataDir);
    return 'nothing';
  }
  // Checked before anything moves: the journal's names are valid, but what stands at them is anyone's.
  checkSwapFolder(dataDir, journal.staged);
  checkSwapFolder(dataDir, ENTRY_ASIDE_NAME);
  if (journal.committed) {
    finish(dataDir, journal);
    return 'completed';
  }
  rollBack(dataDir, journal);
  return 'rolled-back';
}

/** The pid of another process restoring into `dataDir` in place (its journal or its staging folder inside names it), or null. */
export function liveEntryRestore(dataDir: string): number | null {
  let journal: RestoreJournal | null = null;
  try {
    journal = readJournal(dataDir);
  } catch {
    // An unusable journal is settle's to report.
  }
  const owners: ProcessOwner[] = journal !== null && ownerAlive(journal.owner) ? [journal.owner] : [];
  // A restore holding the lock may not have written its journal or made its staging folder yet.
  const locked = liveRestoreLockOwner(dataDir);
  if (locked !== null) owners.push(locked);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dataDir).filter((name) => ENTRY_STAGED_PATTERN.test(name));
  } catch {
    // No data directory yet: nothing is restored into it.
  }
  for (const name of names) {
    const owner = liveWorkDirOwner(path.join(dataDir, name));
    if (owner !== null) owners.push(owner);
  }
  return owners.find((owner) => owner.pid !== process.pid)?.pid ?? null;
}

/** Committed: the old entries go, then the journal (a kill in between repeats this), then the emptied staging folder. */
function finish(dataDir: string, journal: RestoreJournal): void {
  fs.rmSync(path.join(dataDir, ENTRY_ASIDE_NAME), { recursive: true, force: true });
  syncDirectory(dataDir);
  failurePoint('restore-old-removed');
  removeJournal(dataDir);
  fs.rmSync(path.join(dataDir, journal.staged), { recursive: true, force: true });
}

/**
 * Not committed: each restored entry goes back into the staging folder, then each old one
 * back in place, then the journal goes. Every step looks before it moves, so a kill during
 * this is settled by running it again.
 */
function rollBack(dataDir: string, journal: RestoreJournal): void {
  const staged = path.join(dataDir, journal.staged);
  const aside = path.join(dataDir, ENTRY_ASIDE_NAME);
  const setAside = journal.old.filter((name) => present(path.join(aside, name)));
  if (present(staged)) {
    for (const name of journal.new) {
      // Moved in (its staged copy gone, the old one already aside): it goes back.
      if (!present(path.join(staged, name)) && present(path.join(dataDir, name))) {
        fs.renameSync(path.join(dataDir, name), path.join(staged, name));
        failurePoint('restore-rollback-entry');
      }
    }
  } else if (setAside.length > 0) {
    throw interruptedConflict(dataDir, `its staging folder ${journal.staged} is gone`);
  }
  for (const name of setAside) {
    if (present(path.join(dataDir, name))) throw interruptedConflict(dataDir, `${name} has been made anew since`);
    fs.renameSync(path.join(aside, name), path.join(dataDir, name));
    failurePoint('restore-rollback-entry');
  }
  syncDirectory(dataDir);
  removeJournal(dataDir);
  fs.rmSync(staged, { recursive: true, force: true });
  removeEmptyAside(dataDir);
}

/** Left empty by a rollback; one with anything in it is never removed without its journal. */
function removeEmptyAside(dataDir: string): void {
  const aside = path.join(dataDir, ENTRY_ASIDE_NAME);
  try {
    fs.rmdirSync(aside);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw interruptedConflict(dataDir, 'its journal is gone');
    throw error;
  }
}

function present(target: string): boolean {
  try {
    fs.lstatSync(target);
    return true;
  } catch {
    return false;
  }
}

function interruptedConflict(dataDir: string, why: string): ApiError {
  const aside = path.join(dataDir, ENTRY_ASIDE_NAME);
  return new ApiError(
    'RESTORE_INTERRUPTED',
    `A restore into ${dataDir} was interrupted and cannot be undone by itself (${why}); the entries it replaced are kept in ${aside}.`,
    `Look at both: keep the database and bundles/ you want in ${dataDir}, remove ${aside} and any .sutazai-restore-* entries, then start again.`,
  );
}

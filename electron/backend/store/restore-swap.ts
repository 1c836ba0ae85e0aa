import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { failurePoint } from './failure-point';
import { liveWorkDirOwner, OWNER_FILE, sweepStaleWorkDirs } from './owned-work-dir';
import { liveEntryRestore, settleEntrySwap } from './restore-entry-swap';
import { renameOntoMount, unseenMountPointError } from './restore-mount';

/**
 * A restore replaces the whole data directory by renames (one that is a mount point cannot be
 * renamed: its entries are swapped instead, restore-entry-swap.ts), so that a kill at any moment
 * leaves a whole directory — the old one or the restored one — never a mix:
 *
 *   1. the restored directory is built beside it (`.NAME.restore-new-XXXXXX`, with the
 *      restoring process's owner file in it), checked whole;
 *   2. an empty data directory is replaced by one rename (rename(2) over an empty folder);
 *   3. otherwise the old one is set aside (`.NAME.restore-old`), the new one renamed in, and
 *      the old one renamed to `.NAME.restore-old-done` and removed; the owner file is the
 *      mark that step 3's second rename happened.
 *
 * `settleInterruptedRestore` (run by every store open and every restore) finishes what a
 * killed restore left: set aside with nothing in its place, the old directory goes back;
 * swapped in, the old one is removed; and the same for an entry swap inside the directory.
 */

const asideOf = (dataDir: string) => path.join(path.dirname(dataDir), `.${path.basename(dataDir)}.restore-old`);
const doneOf = (dataDir: string) => `${asideOf(dataDir)}-done`;
/** The restored directory being built beside the data directory (mkdtemp's six characters). */
export const stagedPattern = (dataDir: string) => new RegExp(`^\\.${escapeRegExp(path.basename(dataDir))}\\.restore-new-[A-Za-z0-9]{6}$`);
export const stagedPrefix = (dataDir: string) => `.${path.basename(dataDir)}.restore-new-`;

export type SettleOutcome = 'nothing' | 'rolled-back' | 'completed';

/**
 * Settles what a killed restore left (see above); DATA_DIR_IN_USE while another process's
 * restore into `dataDir` is running.
 */

export function settleInterruptedRestore(dataDir: string): SettleOutcome {
  const parent = path.dirname(dataDir);
  // A restore running now (another process) owns the directory and what is beside it: between
  // its renames the directory is briefly absent, and an open that made it anew there would
  // serve an empty store and make the restore fail halfway. Refused until it finishes.
  const restoring = liveRestore(dataDir) ?? liveEntryRestore(dataDir);
  if (restoring !== null) throw restoreRunningError(dataDir, restoring);
  sweepStaleWorkDirs(parent, stagedPattern(dataDir));
  const inPlace = settleEntrySwap(dataDir);
  if (inPlace !== 'nothing') return inPlace;
  fs.rmSync(doneOf(dataDir), { recursive: true, force: true });
  const aside = asideOf(dataDir);
  const ownerMark = path.join(dataDir, OWNER_FILE);
  if (!fs.existsSync(aside)) {
    fs.rmSync(ownerMark, { force: true });
    return 'nothing';
  }
  if (fs.existsSync(ownerMark)) {
    // The restored directory is in place (it carries the mark): the old one goes.
    fs.renameSync(aside, doneOf(dataDir));
    fs.rmSync(doneOf(dataDir), { recursive: true, force: true });
    fs.rmSync(ownerMark, { force: true });
    return 'completed';
  }
  const here = fs.existsSync(dataDir) ? fs.readdirSync(dataDir) : null;
  if (here === null || here.length === 0) {
    // Set aside, nothing renamed in yet: the old directory goes back whole.
    if (here !== null) fs.rmdirSync(dataDir);
    fs.renameSync(aside, dataDir);
    return 'rolled-back';
  }
  throw new ApiError(
    'RESTORE_INTERRUPTED',
    `A restore into ${dataDir} was interrupted and something else has since written there; the directory it replaced is kept at ${aside}.`,
    `Look at both: keep the one you want as ${dataDir} and remove the other (rm -r ${aside}), then start again.`,
  );
}

/** Puts the restored directory `staged` (its owner file inside) in the place of `dataDir`. */
export function swapIn(dataDir: string, staged: string): void {
  const here = fs.readdirSync(dataDir);
  if (here.length === 0) {
    // rename(2) replaces an empty directory in one step (and fails if it is no longer empty).
    try {
      fs.renameSync(staged, dataDir);
    } catch (error) {
      if (renameOntoMount(error)) throw unseenMountPointError(dataDir);
      throw error;
    }
  } else {
    const aside = asideOf(dataDir);
    try {
      fs.renameSync(dataDir, aside);
    } catch (error) {
      // Nothing has moved yet.
      if (renameOntoMount(error)) throw unseenMountPointError(dataDir);
      throw error;
    }
    failurePoint('restore-set-aside');
    try {
      fs.renameSync(staged, dataDir);
    } catch (error) {
      // Something made the directory anew in between (a backend starting): the old one goes back if it can.
      if (!fs.existsSync(dataDir)) fs.renameSync(aside, dataDir);
      throw error;
    }
    failurePoint('restore-swapped');
    fs.renameSync(aside, doneOf(dataDir));
    fs.rmSync(doneOf(dataDir), { recursive: true, force: true });
  }
  failurePoint('restore-old-removed');
  fs.rmSync(path.join(dataDir, OWNER_FILE), { force: true });
}

/** The pid of another process restoring into `dataDir` now (its staged directory, or the swapped-in one, names it), or null. */
function liveRestore(dataDir: string): number | null {
  const parent = path.dirname(dataDir);
  const pattern = stagedPattern(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    names = [];
  }
  const marked = [...names.filter((name) => pattern.test(name)).map((name) => path.join(parent, name)), dataDir];
  for (const dir of marked) {
    const owner = liveWorkDirOwner(dir);
    if (owner !== null && owner.pid !== process.pid) return owner.pid;
  }
  return null;
}

function restoreRunningError(dataDir: string, pid: number): ApiError {
  return new ApiError(
    'DATA_DIR_IN_USE',
    `The data directory ${dataDir} is in use by another control center: sutazai restore (pid ${pid}) is replacing it.`,
    `Wait until that restore has finished, or stop it first (Ctrl+C where it runs, or kill ${pid}); then start again.`,
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

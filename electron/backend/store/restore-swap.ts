import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { failurePoint } from './failure-point';
import { OWNER_FILE, sweepStaleWorkDirs, workDirOwnerAlive } from './owned-work-dir';

/**
 * A restore replaces the whole data directory by renames, so that a kill at any moment
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
 * swapped in, the old one is removed.
 */

const asideOf = (dataDir: string) => path.join(path.dirname(dataDir), `.${path.basename(dataDir)}.restore-old`);
const doneOf = (dataDir: string) => `${asideOf(dataDir)}-done`;
/** The restored directory being built beside the data directory (mkdtemp's six characters). */
export const stagedPattern = (dataDir: string) => new RegExp(`^\\.${escapeRegExp(path.basename(dataDir))}\\.restore-new-[A-Za-z0-9]{6}$`);
export const stagedPrefix = (dataDir: string) => `.${path.basename(dataDir)}.restore-new-`;

export type SettleOutcome = 'nothing' | 'rolled-back' | 'completed';

export function settleInterruptedRestore(dataDir: string): SettleOutcome {
  const parent = path.dirname(dataDir);
  // A restore running now owns what is beside the directory: it finishes or is killed first.
  if (liveRestore(dataDir)) return 'nothing';
  sweepStaleWorkDirs(parent, stagedPattern(dataDir));
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
    fs.renameSync(staged, dataDir);
  } else {
    const aside = asideOf(dataDir);
    fs.renameSync(dataDir, aside);
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

function liveRestore(dataDir: string): boolean {
  const parent = path.dirname(dataDir);
  const pattern = stagedPattern(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return false;
  }
  return names.some((name) => pattern.test(name) && workDirOwnerAlive(path.join(parent, name))) || workDirOwnerAlive(dataDir);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { ownerAlive, thisProcess, type ProcessOwner } from './owner-process';

/**
 * The lock an in-place restore (into a data directory that is a mount point) holds from its
 * settle step until its swap has finished: two restores started together into an empty
 * mount would otherwise both pass the settle before either made its staging folder, then
 * overwrite each other's journal and share one aside folder. A file in the data directory
 * naming the owning process, made whole beside it and linked in (link(2) fails if one is
 * there), so no one ever reads half of one; a dead owner's lock is taken over.
 */
export const RESTORE_LOCK_NAME = '.sutazai-restore.lock';

const MAX_LOCK_BYTES = 200;
const ATTEMPTS = 3;

export interface RestoreLock {
  /** Removes the lock (idempotent). */
  release(): void;
}

/** Takes the in-place restore lock in `dataDir`; DATA_DIR_IN_USE naming the pid while another live process holds it. */
export function takeRestoreLock(dataDir: string): RestoreLock {
  const lock = path.join(dataDir, RESTORE_LOCK_NAME);
  const temp = `${lock}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    try {
      fs.writeSync(fd, JSON.stringify(thisProcess()));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        fs.linkSync(temp, lock);
        return held(lock);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readLockOwner(lock);
      if (owner !== null && owner.pid === process.pid) throw new Error(`this process already holds ${lock}`);
      if (owner !== null && ownerAlive(owner)) throw restoreLockedError(dataDir, owner.pid);
      takeOver(dataDir, lock);
    }
    throw restoreLockedError(dataDir, null);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** The live process holding `dataDir`'s restore lock, or null. */
export function liveRestoreLockOwner(dataDir: string): ProcessOwner | null {
  const owner = readLockOwner(path.join(dataDir, RESTORE_LOCK_NAME));
  return owner !== null && ownerAlive(owner) ? owner : null;
}

/**
 * Removes the lock a killed restore left (its owner gone); one a live process holds stays.
 * Run by the settle, after it made sure no other restore runs (`liveEntryRestore`).
 */
export function removeDeadRestoreLock(dataDir: string): void {
  const lock = path.join(dataDir, RESTORE_LOCK_NAME);
  const owner = readLockOwner(lock);
  // None there is fine too: the take-over finds nothing to move.
  if (owner !== null && ownerAlive(owner)) return;
  takeOver(dataDir, lock);
}

/**
 * A dead owner's lock (or one that is not a lock of ours) is moved to a name of our own before
 * it is removed; if what was moved names a live owner after all (another restore took it over
 * in between), it is put back and the restore refused.
 */
function takeOver(dataDir: string, lock: string): void {
  const stale = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(lock, stale);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const owner = readLockOwner(stale);
  if (owner !== null && owner.pid !== process.pid && ownerAlive(owner)) {
    try {
      fs.linkSync(stale, lock);
    } finally {
      fs.rmSync(stale, { force: true });
    }
    throw restoreLockedError(dataDir, owner.pid);
  }
  fs.rmSync(stale, { recursive: true, force: true });
}

function held(lock: string): RestoreLock {
  let done = false;
  return {
    release() {
      if (done) return;
      done = true;
      // Only ours: a lock taken over meanwhile (this process was taken for dead) is the other's.
      if (readLockOwner(lock)?.pid === process.pid) fs.rmSync(lock, { force: true });
    },
  };
}

function readLockOwner(file: string): ProcessOwner | null {
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size > MAX_LOCK_BYTES) return null;
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ProcessOwner> | null;
    if (!Number.isInteger(value?.pid) || value!.pid! <= 0) return null;
    const startedAt = value!.startedAt;
    if (!(startedAt === null || startedAt === undefined || (typeof startedAt === 'string' && /^\d{1,20}$/.test(startedAt)))) return null;
    return { pid: value!.pid!, startedAt: startedAt ?? null };
  } catch {
    return null;
  }
}

function restoreLockedError(dataDir: string, pid: number | null): ApiError {
  const who = pid === null ? 'another sutazai restore' : `sutazai restore (pid ${pid})`;
  return new ApiError(
    'DATA_DIR_IN_USE',
    `The data directory ${dataDir} is in use: ${who} is replacing its entries now (it holds ${path.join(dataDir, RESTORE_LOCK_NAME)}); nothing was restored.`,
    pid === null
      ? 'Wait until that restore has finished, then start again.'
      : `Wait until that restore has finished, or stop it first (Ctrl+C where it runs, or kill ${pid}); then start again.`,
  );
}

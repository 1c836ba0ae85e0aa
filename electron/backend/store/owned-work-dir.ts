import fs from 'node:fs';
import path from 'node:path';
import { ownerAlive, thisProcess, type ProcessOwner } from './owner-process';

/** The file in a work folder that names the process working in it. */
export const OWNER_FILE = '.owner.json';

/**
 * A work folder (a backup's copy of the database, a restore's staged directory) that names
 * the process using it, is removed when that process exits or is stopped by SIGINT/SIGTERM,
 * and — when the process was killed outright (SIGKILL, power loss) and could not remove it —
 * is swept by the next run that finds it (`sweepStaleWorkDirs`), once its process is gone.
 */
export interface OwnedWorkDir {
  readonly path: string;
  /** Removes the folder (idempotent) and stops watching for exit and signals. */
  remove(): void;
  /** Forgets the folder without removing it (it was renamed into place and is no longer work). */
  release(): void;
}

export function makeOwnedWorkDir(parent: string, prefix: string, mode = 0o700): OwnedWorkDir {
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  fs.chmodSync(dir, mode);
  fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(thisProcess()), { mode: 0o600 });
  let done = false;
  const unwatch = watchExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    path: dir,
    remove() {
      if (done) return;
      done = true;
      unwatch();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    release() {
      if (done) return;
      done = true;
      unwatch();
      fs.rmSync(path.join(dir, OWNER_FILE), { force: true });
    },
  };
}

/**
 * Removes the folders in `parent` whose names `pattern` matches and whose owner file names
 * a process that is gone. A folder without an owner file, or naming a live process (another
 * backup running now), is left alone: only what a dead run of ours left is ours to remove.
 * Answers the names removed.
 */
export function sweepStaleWorkDirs(parent: string, pattern: RegExp): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(parent, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !pattern.test(entry.name)) continue;
    const dir = path.join(parent, entry.name);
    const owner = readOwner(path.join(dir, OWNER_FILE));
    if (owner === null || ownerAlive(owner)) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed;
}

/** The process `dir`'s owner file names, while it runs; null otherwise. */
export function liveWorkDirOwner(dir: string): ProcessOwner | null {
  const owner = readOwner(path.join(dir, OWNER_FILE));
  return owner !== null && ownerAlive(owner) ? owner : null;
}

function readOwner(file: string): ProcessOwner | null {
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size > 200) return null;
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ProcessOwner>;
    if (!Number.isInteger(value.pid) || !(value.startedAt === null || typeof value.startedAt === 'string')) return null;
    return { pid: value.pid!, startedAt: value.startedAt ?? null };
  } catch {
    return null;
  }
}

/**
 * Runs `cleanup` when the process exits, or on SIGINT/SIGTERM; then, if no one else listens
 * for that signal, raises it again so the process ends as it would have without us.
 */
function watchExit(cleanup: () => void): () => void {
  const onExit = () => cleanup();
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup();
    unwatch();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const unwatch = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return unwatch;
}

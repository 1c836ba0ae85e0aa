/**
 * One daemon per state directory: `<state_dir>/sutazai-runtime.lock` holds the owner's pid
 * and /proc start time. A second daemon refuses to start while that process lives; a lock
 * left by a dead daemon (kill -9, power loss) is taken over. The pid + start time pair also
 * tells `stop-all` which process to signal, even after pid reuse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isSameProcess, processStartTime } from '../process/proc-identity';
import { sha256Hex } from '../hash/sha256';
import { RuntimeError } from '../runtime-error';

export const LOCK_FILE = 'sutazai-runtime.lock';
export const STATE_FILE = 'state.json';

export interface LockOwner {
  pid: number;
  startTime: string;
}

/** Another live daemon holds the state directory (the CLI exits with its own code for it). */
export class LockHeldError extends RuntimeError {
  constructor(
    readonly owner: LockOwner,
    stateDir: string,
  ) {
    super(
      'CONFIG_INVALID',
      `another sutazai-runtime (pid ${owner.pid}) already supervises the state directory ${stateDir}`,
      'use that daemon (sutazai-runtime status), stop it first (systemctl stop sutazai-runtime), or give this one its own state_dir',
    );
  }
}

export interface DaemonLock {
  file: string;
  release(): void;
}

/** The marker the driver puts in every child's environment: one per state directory. */
export function runtimeIdFor(stateDir: string): string {
  return `rt-${sha256Hex(path.resolve(stateDir)).slice(0, 16)}`;
}

/** The live daemon holding the lock, or null (no lock, unreadable, or its owner is gone). */
export function lockOwner(stateDir: string): LockOwner | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path.join(stateDir, LOCK_FILE), 'utf8'));
  } catch {
    return null;
  }
  const owner = parsed as Partial<LockOwner> | null;
  if (owner === null || typeof owner !== 'object' || !Number.isInteger(owner.pid) || typeof owner.startTime !== 'string') return null;
  return isSameProcess(owner.pid as number, owner.startTime) ? { pid: owner.pid as number, startTime: owner.startTime } : null;
}

export function acquireLock(stateDir: string): DaemonLock {
  const file = path.join(stateDir, LOCK_FILE);
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o750 });
    fs.accessSync(stateDir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (cause) {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `the state directory ${stateDir} cannot be created or written (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
      `create ${stateDir} and make it writable by the user sutazai-runtime runs as, or point state_dir elsewhere in the runtime config`,
      { cause },
    );
  }
  const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid) ?? 'unknown' };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      try {
        fs.writeSync(fd, `${JSON.stringify(me)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return {
        file,
        release() {
          try {
            const now = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
            if (now.pid === me.pid && now.startTime === me.startTime) fs.rmSync(file, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new RuntimeError(
          'CONFIG_INVALID',
          `cannot create the lock file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
          `make ${stateDir} writable by the user sutazai-runtime runs as`,
          {
            cause: error,
          },
        );
      }
      const owner = lockOwner(stateDir);
      if (owner !== null) {
        throw new LockHeldError(owner, stateDir);
      }
      // Stale: its owner is dead. Take it over.
      fs.rmSync(file, { force: true });
    }
  }
  throw new RuntimeError(
    'CONFIG_INVALID',
    `could not take the lock file ${file}: another daemon keeps recreating it`,
    `check for other sutazai-runtime processes (pgrep -af sutazai-runtime)`,
  );
}

/**
 * FIFO helpers shared by the log collector's pipes (logs/log-collector-client.ts) and the
 * lifelines (process/lifelines.ts): both make their FIFOs once with mkfifo, mode 0600, and
 * keep them across runs. Node has no mkfifo(3), so it is one short process per batch.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';

/** True when `file` is a FIFO (not followed if a symbolic link). */
export function isFifo(file: string): boolean {
  try {
    return fs.lstatSync(file).isFIFO();
  } catch {
    return false;
  }
}

/** Runs `mkfifo -m 0600 FILES...` (`mkfifo`: the binary, found in /usr/bin:/bin when a bare name); the caller judges the result. */
export function runMkfifo(files: readonly string[], mkfifo = 'mkfifo'): SpawnSyncReturns<string> {
  return spawnSync(mkfifo, ['-m', '0600', ...files], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, encoding: 'utf8', timeout: 10_000 });
}

export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

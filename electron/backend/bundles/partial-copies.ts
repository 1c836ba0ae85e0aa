import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ownerAlive, thisProcess } from '../store/owner-process';

/**
 * A bundle being imported is copied under a temporary name first. The name carries the
 * importing process's PID and start time, so that a copy left by a killed import (a Node
 * binary makes it ~100 MB) can be told from one a running import is still writing.
 */
const PARTIAL = /^\.import-(\d+)-(\d+)-[0-9a-f]{8}\.partial$/;
/** Names before the start time was added: only the PID tells. */
const PID_ONLY_PARTIAL = /^\.import-(\d+)-[0-9a-f]{8}\.partial$/;

export function partialCopyPath(dir: string): string {
  const { pid, startedAt } = thisProcess();
  // "0" where the start time cannot be read: then the PID alone tells.
  return path.join(dir, `.import-${pid}-${startedAt ?? '0'}-${randomBytes(4).toString('hex')}.partial`);
}

/**
 * Removes the partial copies in `dir` whose process no longer runs (a PID reused by
 * another process has another start time). A copy of a running import, and any file not
 * named as a partial copy, is left alone. Returns what it removed.
 */
export function removeStalePartialCopies(dir: string): Array<{ file: string; bytes: number }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: Array<{ file: string; bytes: number }> = [];
  for (const name of names) {
    const match = PARTIAL.exec(name);
    const pidOnly = match ? null : PID_ONLY_PARTIAL.exec(name);
    if (!match && !pidOnly) continue;
    const started = match ? match[2]! : '0';
    if (ownerAlive({ pid: Number((match ?? pidOnly)![1]), startedAt: started === '0' ? null : started })) continue;
    const file = path.join(dir, name);
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    fs.rmSync(file, { force: true });
    removed.push({ file, bytes: stat.size });
  }
  return removed;
}

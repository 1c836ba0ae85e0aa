import fs from 'node:fs';
import { RuntimeError } from '../runtime-error';
import { LogFiles, diskFull, fileIn, isDiskFull, notWritable } from './log-files';

/** What rotation tells the supervisor about: the daemon turns these into events and carries on. */
export interface LogEvent {
  instance: string | null;
  error: RuntimeError;
}

/**
 * Copy-truncate rotation of one instance: shift `.log.N` up by one (dropping those past
 * keepFiles), copy the live file to `.log.1`, then truncate the live file in place. The
 * child keeps writing through its O_APPEND fd and lands at the start of the emptied file.
 * Bytes appended while copying are copied too before truncating, so only a write in the
 * last instant between the final copy and the truncate can be lost (logrotate's caveat).
 * Returns true when it rotated.
 */
export function rotateIfNeeded(files: LogFiles, instance: string): boolean {
  const live = files.logPath(instance);
  let size: number;
  try {
    size = fs.statSync(live).size;
  } catch {
    return false;
  }
  if (size <= files.limits.maxFileBytes) return false;

  if (files.limits.keepFiles <= 0) {
    fs.truncateSync(live, 0);
    return true;
  }
  shiftRotated(files, instance);
  const first = files.rotatedPath(instance, 1);
  try {
    copyThenTruncate(live, first);
  } catch (error) {
    fs.rmSync(first, { force: true });
    throw error;
  }
  return true;
}

/**
 * Rotation by the log's only writer (the log collector, at write time): shift `.log.N` up by
 * one and rename the live file to `.log.1`; the writer then creates a new live file. Nothing
 * is copied and no write can fall between a copy and a truncate. With keepFiles 0 the live
 * file is removed. A live file that is not there is nothing to rotate.
 */
export function rotateByRename(files: LogFiles, instance: string): void {
  const live = files.logPath(instance);
  if (!fs.existsSync(live)) return;
  if (files.limits.keepFiles <= 0) {
    fs.rmSync(live, { force: true });
    return;
  }
  shiftRotated(files, instance);
  fs.renameSync(live, files.rotatedPath(instance, 1));
}

/** Makes room for a new `.log.1`: `.log.N` becomes `.log.N+1`, the one at keepFiles is dropped. */
function shiftRotated(files: LogFiles, instance: string): void {
  const keep = files.limits.keepFiles;
  for (let n = keep; n >= 1; n -= 1) {
    const from = files.rotatedPath(instance, n);
    if (!fs.existsSync(from)) continue;
    if (n === keep) fs.rmSync(from, { force: true });
    else fs.renameSync(from, files.rotatedPath(instance, n + 1));
  }
}

function copyThenTruncate(live: string, target: string): void {
  const src = fs.openSync(live, 'r');
  const dst = fs.openSync(target, 'w', 0o640);
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let offset = 0;
    // Copy until the source stops growing (bounded rounds), then truncate straight away.
    for (let round = 0; round < 8; round += 1) {
      const end = fs.fstatSync(src).size;
      if (offset >= end && round > 0) break;
      while (offset < end) {
        const n = fs.readSync(src, buf, 0, Math.min(buf.length, end - offset), offset);
        if (n <= 0) break;
        fs.writeSync(dst, buf, 0, n);
        offset += n;
      }
    }
    fs.truncateSync(live, 0);
  } finally {
    fs.closeSync(src);
    fs.closeSync(dst);
  }
}

/**
 * Keeps the whole directory under maxTotalBytes: deletes rotated files oldest first (by
 * mtime, any instance); if live files alone still exceed the cap, truncates the largest
 * live file. Returns the paths it removed or truncated.
 */
export function enforceTotalCap(files: LogFiles, listed?: LogEntry[]): string[] {
  const entries = listed ?? listLogEntries(files.dir);
  let total = entries.reduce((sum, e) => sum + e.size, 0);
  const touched: string[] = [];
  const rotated = entries.filter((e) => !e.live).sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const e of rotated) {
    if (total <= files.limits.maxTotalBytes) return touched;
    fs.rmSync(e.path, { force: true });
    total -= e.size;
    touched.push(e.path);
  }
  const live = entries.filter((e) => e.live).sort((a, b) => b.size - a.size);
  for (const e of live) {
    if (total <= files.limits.maxTotalBytes) break;
    fs.truncateSync(e.path, 0);
    total -= e.size;
    touched.push(e.path);
  }
  return touched;
}

interface LogEntry {
  /** The file's name in the directory. */
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  live: boolean;
}

function listLogEntries(dir: string): LogEntry[] {
  const out: LogEntry[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const live = name.endsWith('.log');
    if (!live && !/\.log\.\d+$/.test(name)) continue;
    const file = fileIn(dir, name);
    try {
      const st = fs.statSync(file);
      if (st.isFile()) out.push({ name, path: file, size: st.size, mtimeMs: st.mtimeMs, live });
    } catch {
      // vanished between readdir and stat
    }
  }
  return out;
}

export interface LogRotatorOptions {
  /**
   * Sizes (rotation and the directory cap) are checked every this many ticks (default 1).
   * The daemon passes more when the log collector writes the logs: it rotates and caps at
   * write time itself, so this pass is only a backstop for files something else wrote (runs
   * adopted from a daemon with another stamper), and an idle daemon need not list and stat
   * every log file each second for it.
   */
  sizesEvery?: number;
  /** Below this many free bytes on the log file system, LOG_DISK_FULL is reported (once until it recovers). */
  minFreeBytes?: number;
  onEvent: (event: LogEvent) => void;
}

/**
 * Rotation, the total cap and the free-space check, a pass per tick. It has no timer of its
 * own: the daemon ticks it from the metrics sampler's wake-up (afterTick: each second while
 * anyone watches the metrics, every 5 s while nobody does), so an idle daemon wakes once for
 * both. Failures become events (LOG_DISK_FULL, LOG_DIR_NOT_WRITABLE), reported once per
 * condition until it clears; they never throw into the supervisor.
 */
export class LogRotator {
  private readonly reported = new Set<string>();
  private readonly minFreeBytes: number;
  private readonly sizesEvery: number;
  private checks = 0;

  constructor(
    private readonly files: LogFiles,
    private readonly options: LogRotatorOptions,
  ) {
    this.minFreeBytes = options.minFreeBytes ?? 1024 * 1024;
    this.sizesEvery = Math.max(1, Math.floor(options.sizesEvery ?? 1));
  }

  /** One tick's work: free space, and sizes every `sizesEvery` ticks. */
  tick(): void {
    this.checks += 1;
    if (this.checks % this.sizesEvery === 0) this.checkNow();
    else this.checkFreeSpace();
  }

  /** One pass over every instance's log and the directory cap, then free space. */
  checkNow(): void {
    // One readdir and one stat per file serve the instances, the size checks and the cap:
    // with 100 instances a second stat of every live file was half of the idle daemon's
    // syscalls, and a second readdir for the instances' names was one more each pass.
    const listed = listLogEntries(this.files.dir);
    let rotatedAny = false;
    for (const entry of listed) {
      if (!entry.live) continue;
      const instance = entry.name.slice(0, -'.log'.length);
      try {
        // A name no instance can have is refused here (CONFIG_INVALID), as before; the path is the entry's.
        this.files.logPath(instance);
        if (entry.size > this.files.limits.maxFileBytes) rotatedAny = rotateIfNeeded(this.files, instance) || rotatedAny;
        this.clear(`rotate:${instance}`);
      } catch (error) {
        rotatedAny = true; // it may have moved files before failing
        this.fail(`rotate:${instance}`, instance, error);
      }
    }
    try {
      enforceTotalCap(this.files, rotatedAny ? undefined : listed);
      this.clear('cap');
    } catch (error) {
      this.fail('cap', null, error);
    }
    this.checkFreeSpace();
  }

  private checkFreeSpace(): void {
    try {
      const st = fs.statfsSync(this.files.dir);
      const free = st.bavail * st.bsize;
      if (free < this.minFreeBytes) {
        this.report('space', null, diskFull(this.files.dir, new Error(`${free} bytes free`)));
      } else {
        this.clear('space');
      }
    } catch {
      // statfs unsupported here: the write failures above still report
    }
  }

  private fail(key: string, instance: string | null, error: unknown): void {
    const err =
      error instanceof RuntimeError ? error : isDiskFull(error) ? diskFull(this.files.dir, error) : notWritable(this.files.dir, error);
    this.report(key, instance, err);
  }

  private report(key: string, instance: string | null, error: RuntimeError): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.onEvent({ instance, error });
  }

  private clear(key: string): void {
    this.reported.delete(key);
  }
}

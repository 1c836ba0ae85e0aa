/**
 * /proc files the 1 Hz metrics tick reads again and again, kept open and re-read in place
 * (pread at offset 0: procfs makes the text anew on every read) instead of open, read,
 * close each second. Why: with 100 idle instances, opening and closing the same files was
 * a third of the tick's system time (bench:runtime's idle CPU target is PM2's, which does
 * not sample at all when idle).
 *
 * A /proc/<pid>/stat descriptor belongs to that process, not to the number: once it has
 * exited, reads fail (ESRCH) even if the pid is reused, so a kept descriptor can never read
 * another process. That is a property of procfs: on a fixture directory (tests) a removed
 * file stays readable through an open descriptor, so PidStatFiles keeps descriptors open
 * only under the real /proc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { closeQuietly } from '../process/fifo';
import { DEFAULT_PROC_ROOT, parsePidStatBytes, type PidStat } from './proc-readers';

/** One buffer for every read: reads are synchronous, so it is never shared. Grows for a long file (/proc/stat of a many-core host). */
let buffer = Buffer.alloc(16 * 1024);

/** Reads the whole file behind `fd` from offset 0 into the shared buffer; the byte count, or null when the read fails. */
function preadWhole(fd: number): number | null {
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    } catch {
      return null;
    }
    if (n < buffer.length) return n;
    buffer = Buffer.alloc(buffer.length * 2);
  }
}

/** A host-wide /proc file (stat, meminfo, loadavg...) kept open; reopened after a failed read. */
export class ProcTextFile {
  private fd: number | null = null;

  constructor(readonly file: string) {}

  /** The file's text now; null when it cannot be read (then the next call tries to open it again). */
  read(): string | null {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch {
        return null;
      }
    }
    const n = preadWhole(this.fd);
    if (n === null) {
      this.close();
      return null;
    }
    return buffer.toString('latin1', 0, n);
  }

  close(): void {
    if (this.fd !== null) closeQuietly(this.fd);
    this.fd = null;
  }
}

/**
 * /proc/<pid>/stat of the processes a tick reads, each kept open from its first read until
 * a sweep finds it was not read since the previous sweep (the process left every group
 * the runtime watches) or a read fails (it exited).
 */
export class PidStatFiles {
  private readonly open = new Map<number, { fd: number; readInRound: number }>();
  private round = 0;
  private readonly keepOpen: boolean;

  constructor(private readonly procRoot = DEFAULT_PROC_ROOT) {
    this.keepOpen = path.resolve(procRoot) === DEFAULT_PROC_ROOT;
  }

  /** The process's stat now, read once and not kept (a scan of every process); null when it is gone. */
  readOnce(pid: number): PidStat | null {
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.procRoot, String(pid), 'stat'), 'r');
    } catch {
      return null;
    }
    try {
      const n = preadWhole(fd);
      return n === null || n === 0 ? null : parsePidStatBytes(buffer, n);
    } finally {
      closeQuietly(fd);
    }
  }

  /** The process's stat now, its file kept open for the next ticks; null when it is gone (or unreadable). */
  read(pid: number): PidStat | null {
    if (!this.keepOpen) return this.readOnce(pid);
    let entry = this.open.get(pid);
    if (entry === undefined) {
      let fd: number;
      try {
        fd = fs.openSync(`${DEFAULT_PROC_ROOT}/${pid}/stat`, 'r');
      } catch {
        return null;
      }
      entry = { fd, readInRound: this.round };
      this.open.set(pid, entry);
    }
    entry.readInRound = this.round;
    const n = preadWhole(entry.fd);
    const stat = n === null || n === 0 ? null : parsePidStatBytes(buffer, n);
    if (stat === null) this.forget(pid, entry.fd);
    return stat;
  }

  /** Closes the files not read since the previous sweep; the tick calls it once at its end. */
  sweep(): void {
    for (const [pid, entry] of this.open) if (entry.readInRound !== this.round) this.forget(pid, entry.fd);
    this.round += 1;
  }

  closeAll(): void {
    for (const [pid, entry] of this.open) this.forget(pid, entry.fd);
  }

  /** Files held open now (tests). */
  get size(): number {
    return this.open.size;
  }

  private forget(pid: number, fd: number): void {
    closeQuietly(fd);
    this.open.delete(pid);
  }
}

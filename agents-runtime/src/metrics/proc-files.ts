/**
 * /proc files the metrics tick (each second while watched, every 5 s unwatched) reads again
 * and again, kept open and re-read in place (pread at offset 0: procfs makes the text anew on
 * every read) instead of open, read, close each tick. Why: with 100 idle instances, opening
 * and closing the same files was a third of the tick's system time (bench:runtime's idle CPU
 * target is PM2's, which does not sample at all when idle).
 *
 * A /proc/<pid>/stat descriptor belongs to that process, not to the number: once it has
 * exited, reads fail (ESRCH) even if the pid is reused, so a kept descriptor can never read
 * another process. That is a property of procfs: on a fixture directory (tests) a removed
 * file stays readable through an open descriptor, so PidStatFiles keeps descriptors open
 * only under the real /proc.
 *
 * Idle members are not re-read in full (readUnlessIdle): generating /proc/<pid>/stat costs
 * the kernel ~6 us a file on a loaded 2-core VM (52 formatted fields, the thread group's CPU
 * summed), /proc/<pid>/schedstat ~2 us (three numbers), and with 100 idle instances the stat
 * reads were half of the tick. schedstat holds the thread's run time, wait time and count of
 * timeslices: when all three are unchanged the thread has not run since, so for a process
 * with one thread (its last stat said so) its CPU time, thread count, state and group are
 * what the last stat said, and that stat is reused. RSS is the one field that can change
 * without the process running (the kernel reclaiming its pages under memory pressure), so
 * an idle member is still read in full every STAT_AT_LEAST_EVERY ticks: its RSS may lag by
 * up to that many seconds, only after a reclaim, never its CPU or threads.
 *
 * Once long idle (below) its stat is read in full every STAT_AT_LEAST_EVERY_LONG_IDLE ticks.
 *
 * A member idle for IDLE_AFTER_LOOKS looks in a row is then looked at (its schedstat read)
 * only every IDLE_LOOK_EVERY ticks, each on its own tick by pid, so a tick reads a quarter of
 * the long-idle members: with 100 idle instances the schedstat reads were still a third of an
 * idle daemon's CPU (bench:runtime; issue 13's target is PM2's, which samples nothing). What
 * it costs: a long-idle member that starts running is seen up to IDLE_LOOK_EVERY - 1 ticks
 * late, and the CPU it used since its last look is reported as its rate over those ticks
 * (lookWindow), so no tick shows more than the member can use; a member that runs is looked
 * at every tick again. Its CPU total is never lost: a long sleeper is its own steady state.
 */
import fs from 'node:fs';
import path from 'node:path';
import { closeQuietly } from '../process/fifo';
import { DEFAULT_PROC_ROOT, parsePidStatBytes, type PidStat } from './proc-readers';

/** One buffer for every read: reads are synchronous, so it is never shared. Grows for a long file (/proc/stat of a many-core host). */
let buffer = Buffer.alloc(16 * 1024);
/**
 * The buffer as readvSync takes it. readvSync rather than readSync: the same pread, but
 * Node checks two arguments instead of five, each check a wrapper that allocates its
 * arguments. The tick reads some thirty files a second, interpreted (lite mode), and those
 * checks were a quarter of its garbage with 100 idle instances.
 */
let buffers = [buffer];

/** Reads the whole file behind `fd` from offset 0 into the shared buffer; the byte count, or null when the read fails. */
function preadWhole(fd: number): number | null {
  for (;;) {
    let n: number;
    try {
      n = fs.readvSync(fd, buffers, 0);
    } catch {
      return null;
    }
    if (n < buffer.length) return n;
    buffer = Buffer.alloc(buffer.length * 2);
    buffers = [buffer];
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
/**
 * An idle member's stat is reused for at most this many ticks in a row, then read in full
 * (its RSS can fall without it running: see the file's comment).
 */
export const STAT_AT_LEAST_EVERY = 10;

/**
 * A long-idle member's stat is read in full at least this often (its RSS may lag by this many
 * seconds after the kernel reclaims its pages; its CPU and threads never lag, see above).
 */
export const STAT_AT_LEAST_EVERY_LONG_IDLE = 30;

/** Looks in a row that found a member idle before it is looked at less often. */
export const IDLE_AFTER_LOOKS = 10;

/** A long-idle member is looked at on one tick of this many. */
export const IDLE_LOOK_EVERY = 4;

/** Longest /proc/<pid>/schedstat line kept: three unsigned 64-bit numbers, two spaces, a newline. */
const SCHEDSTAT_MAX = 64;

interface KeptStat {
  fd: number;
  readInRound: number;
  /** /proc/<pid>/schedstat, opened on the first readUnlessIdle; -1 until then or when it cannot be read. */
  schedFd: number;
  /** Its bytes when the stat was last read in full (length 0: none yet). */
  sched: Uint8Array;
  schedLength: number;
  /** Stats reused in a row since the last full read. */
  reused: number;
  /** Looks in a row that found the schedstat unchanged. */
  idleLooks: number;
  /** Ticks passed over without a look since the last look (long idle only). */
  skipped: number;
  /** Ticks the stat returned by the last look covers: 1, or more after ticks passed over. */
  window: number;
  /** Stamp of the last read that found (or could not rule out) that the process ran: see activityOf. */
  activity: number;
}

/** True when `a[0..n)` equals `b[0..n)`. */
function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

export class PidStatFiles {
  private readonly open = new Map<number, KeptStat>();
  private round = 0;
  /**
   * Kept files read in this round, so that a sweep where all were read (every idle tick) does
   * not walk the map: a Map's for-of allocates an entry and a result per file, interpreted.
   */
  private readInThisRound = 0;
  /** The last activity stamp handed out: unique across files, so a reopened file never repeats an old stamp. */
  private activitySeq = 0;
  private readonly keepOpen: boolean;

  constructor(private readonly procRoot = DEFAULT_PROC_ROOT) {
    this.keepOpen = path.resolve(procRoot) === DEFAULT_PROC_ROOT;
  }

  /** The process's stat now, read once and not kept (a scan of every process); null when it is gone. */
  readOnce(pid: number): PidStat | null {
    // A member kept open and read here (a full scan) is looked at: what this read says
    // covers the ticks passed over since its last look.
    const kept = this.open.get(pid);
    if (kept !== undefined) this.looked(kept);
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
    return this.readKept(pid, true);
  }

  /**
   * A stamp that changes whenever a read finds that the process has run (or cannot rule it
   * out) since the previous one; -1 when its file is not kept (a fixture /proc, or not read
   * yet). Equal stamps at two ticks: the process did not run in between, as far as the looks
   * at it tell (a long-idle member is looked at one tick in IDLE_LOOK_EVERY), so whatever
   * only the process itself changes, its open files, is as it was.
   */
  activityOf(pid: number): number {
    return this.open.get(pid)?.activity ?? -1;
  }

  /** read(), saying whether this read follows a look that found the process ran (or could not tell). */
  private readKept(pid: number, ran: boolean): PidStat | null {
    if (!this.keepOpen) return this.readOnce(pid);
    let entry = this.open.get(pid);
    if (entry === undefined) {
      let fd: number;
      try {
        fd = fs.openSync(`${DEFAULT_PROC_ROOT}/${pid}/stat`, 'r');
      } catch {
        return null;
      }
      entry = {
        fd,
        readInRound: -1,
        schedFd: -1,
        sched: new Uint8Array(SCHEDSTAT_MAX),
        schedLength: 0,
        reused: 0,
        idleLooks: 0,
        skipped: 0,
        window: 1,
        activity: -1,
      };
      this.open.set(pid, entry);
      ran = true;
    }
    if (ran) entry.activity = ++this.activitySeq;
    this.markRead(entry);
    const n = preadWhole(entry.fd);
    const stat = n === null || n === 0 ? null : parsePidStatBytes(buffer, n);
    if (stat === null) this.forget(pid, entry);
    return stat;
  }

  /**
   * `previous` (this pid's stat from an earlier tick) when the process has not run since it
   * was read: one thread, its schedstat unchanged, and reused fewer than STAT_AT_LEAST_EVERY
   * ticks in a row. Otherwise the stat read now, as read() (null when it is gone), with the
   * schedstat it was read at kept for the next tick. The schedstat is read before the stat,
   * so a run in between shows as a change next tick: a stale figure is never kept.
   */
  readUnlessIdle(pid: number, previous: PidStat): PidStat | null {
    const entry = this.keepOpen ? this.open.get(pid) : undefined;
    if (entry === undefined || previous.pid !== pid || previous.threads !== 1) {
      if (entry !== undefined) this.looked(entry, false);
      return this.readKept(pid, true);
    }
    const longIdle = entry.idleLooks >= IDLE_AFTER_LOOKS;
    /** Reuses in a row after which the stat is read in full. */
    const reuseAtMost = (longIdle ? STAT_AT_LEAST_EVERY_LONG_IDLE : STAT_AT_LEAST_EVERY) - 1;
    // Long idle: passed over on this tick, unless it is this member's turn or its stat is due in full.
    if (longIdle && (this.round + pid) % IDLE_LOOK_EVERY !== 0 && entry.skipped < IDLE_LOOK_EVERY - 1 && entry.reused < reuseAtMost) {
      this.markRead(entry);
      entry.reused += 1;
      entry.skipped += 1;
      return previous;
    }
    if (entry.schedFd === -1) {
      try {
        entry.schedFd = fs.openSync(`${DEFAULT_PROC_ROOT}/${pid}/schedstat`, 'r');
      } catch {
        this.looked(entry, false);
        return this.readKept(pid, true); // tried again next tick; the stat read says whether it is gone
      }
    }
    const n = preadWhole(entry.schedFd);
    // "0 0 0": the kernel keeps no scheduler statistics (no CONFIG_SCHED_INFO), so it says nothing.
    const usable =
      n !== null && n > 0 && n <= SCHEDSTAT_MAX && !(n === 6 && buffer[0] === 0x30 && buffer[2] === 0x30 && buffer[4] === 0x30);
    const idle = usable && n === entry.schedLength && sameBytes(buffer, entry.sched, n);
    this.looked(entry, idle);
    if (idle && entry.reused < reuseAtMost) {
      this.markRead(entry);
      entry.reused += 1;
      return previous;
    }
    if (usable) {
      entry.sched.set(buffer.subarray(0, n));
      entry.schedLength = n;
    } else {
      entry.schedLength = 0;
    }
    entry.reused = 0;
    // Idle but due in full (its RSS): read without a new activity stamp, since it has not run.
    return this.readKept(pid, !idle);
  }

  /**
   * The ticks the stat last returned for `pid` covers: 1, or more when ticks were passed over
   * before the look that returned it (its CPU since the previous look is spread over them).
   */
  lookWindow(pid: number): number {
    return this.open.get(pid)?.window ?? 1;
  }

  /** Closes the files not read since the previous sweep; the tick calls it once at its end. */
  sweep(): void {
    if (this.readInThisRound < this.open.size) {
      this.open.forEach((entry, pid) => {
        if (entry.readInRound !== this.round) this.forget(pid, entry);
      });
    }
    this.round += 1;
    this.readInThisRound = 0;
  }

  closeAll(): void {
    this.open.forEach((entry, pid) => this.forget(pid, entry));
  }

  /** Files held open now (tests). */
  get size(): number {
    return this.open.size;
  }

  /**
   * A look at the member: the ticks passed over since the last one are its window. `idle`:
   * whether it found the member not run since (counted towards passing over ticks); left out
   * by a read that does not say (a full scan's), which leaves the count as it was.
   */
  private looked(entry: KeptStat, idle?: boolean): void {
    entry.window = entry.skipped + 1;
    entry.skipped = 0;
    if (idle !== undefined) entry.idleLooks = idle ? entry.idleLooks + 1 : 0;
  }

  private markRead(entry: KeptStat): void {
    if (entry.readInRound === this.round) return;
    entry.readInRound = this.round;
    this.readInThisRound += 1;
  }

  private forget(pid: number, entry: KeptStat): void {
    if (entry.readInRound === this.round) this.readInThisRound -= 1;
    closeQuietly(entry.fd);
    if (entry.schedFd !== -1) closeQuietly(entry.schedFd);
    this.open.delete(pid);
  }
}

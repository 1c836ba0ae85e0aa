import fs from 'node:fs';

/** Lines longer than this are cut into pieces of this many bytes (as the bash loops and the Node shim do). */
export const MAX_LINE_BYTES = 16 * 1024;
/** A partial line (a prompt, a progress dot) is written after this much silence on its stream. */
export const PARTIAL_FLUSH_MS = 500;

export type StreamTag = 'out' | 'err';
export const STREAM_TAGS: readonly StreamTag[] = ['out', 'err'];

const NEWLINE = 0x0a;

/** Receives one line: the bytes `data[start, end)`, valid only during the call. */
export type LineSink = (data: Buffer, start: number, end: number) => void;

/**
 * Splits one stream's bytes into lines. What follows the last newline is kept for the next
 * chunk (or `rest()`), and is cut at MAX_LINE_BYTES so a program that never writes a newline
 * cannot grow it without bound.
 */
export class LineSplitter {
  private partial: Buffer | null = null;

  get hasPartial(): boolean {
    return this.partial !== null;
  }

  /** The complete lines of `chunk` (after what was kept), without their newlines. */
  take(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    this.each(chunk, (data, start, end) => lines.push(data.subarray(start, end)));
    return lines;
  }

  /**
   * Hands each complete line of `chunk` (after what was kept) to `sink`, without a Buffer per
   * line: the collector's path, where a flood's lines must not each leave garbage behind.
   * `chunk` may be reused once this returns (what is kept is copied).
   */
  each(chunk: Buffer, sink: LineSink): void {
    let from = 0;
    if (this.partial !== null) {
      // Only the kept line and this chunk up to its first newline are joined, not the whole read
      // (a flood's reads seldom end on a newline: that would be a 64 KiB copy a read).
      const nl = chunk.indexOf(NEWLINE);
      from = nl === -1 ? chunk.length : nl + 1;
      const joined = Buffer.concat([this.partial, chunk.subarray(0, from)]);
      this.partial = null;
      const rest = scan(joined, 0, sink);
      if (rest < joined.length) {
        this.partial = Buffer.from(joined.subarray(rest)); // no newline in the whole chunk
        return;
      }
    }
    const rest = scan(chunk, from, sink);
    // A copy: the kept bytes must not pin (or be overwritten in) the caller's read buffer.
    this.partial = rest < chunk.length ? Buffer.from(chunk.subarray(rest)) : null;
  }

  /** The kept partial line, handed out once (at silence, exit or end of file). */
  rest(): Buffer | null {
    const rest = this.partial;
    this.partial = null;
    return rest;
  }
}

/** Hands `sink` the lines of `data` from `start` on, cut at MAX_LINE_BYTES; returns where the unfinished rest begins. */
function scan(data: Buffer, start: number, sink: LineSink): number {
  for (;;) {
    const nl = data.indexOf(NEWLINE, start);
    const end = nl === -1 ? data.length : nl;
    // A line of exactly MAX_LINE_BYTES stays whole when its newline is there already.
    while (nl === -1 ? end - start >= MAX_LINE_BYTES : end - start > MAX_LINE_BYTES) {
      sink(data, start, start + MAX_LINE_BYTES);
      start += MAX_LINE_BYTES;
    }
    if (nl === -1) return start;
    sink(data, start, nl);
    start = nl + 1;
  }
}

/** A batch's lines, and how many of them the disk refused. */
export interface WrittenLines {
  lines: number;
  dropped: number;
}

/** Rotation at write time, for a log whose only writer is this file (the collector's). */
export interface WriteTimeRotation {
  /** The live file is rotated before a write would take it past this many bytes. */
  maxFileBytes(): number;
  /** Moves the live file aside (the next write creates a new one); throws when it cannot. */
  rotate(): void;
}

/**
 * Stamped output is assembled here and written in one call per buffer-full: one buffer for
 * every file of the process, which every write fills and empties within one synchronous call.
 */
const OUT = Buffer.allocUnsafe(256 * 1024);
/**
 * Lines shorter than this are copied byte by byte: Buffer#copy of part of a buffer makes a
 * view object per call (Node 20), which for a flood of short lines is most of the garbage.
 */
const COPY_LOOP_MAX = 256;

/**
 * Appends stamped lines, `<ISO time> <tag> <text>`, to one instance's log file through an
 * O_APPEND descriptor (so the rotator's copy-truncate is safe), one write per buffer-full.
 * A failed write (disk full) drops that write's lines and counts them; the next write that
 * succeeds is preceded by a `sys` line saying how many were dropped, after a newline (a
 * write cut short may have left half a line behind), as in the bash loops and the shim.
 * A file that cannot be opened counts as a failed write and is tried again next batch.
 * With a WriteTimeRotation the file is rotated between two lines before it would pass its
 * size (only a single line longer than the limit makes a file pass it), so a flood cannot
 * outrun rotation the way a periodic size check lets it.
 */
export class StampedLogFile {
  private fd: number | null = null;
  /** The live file's size while `fd` is open (read at open, then counted). */
  private size = 0;
  private dropped = 0;
  private used = 0;
  private usedLines = 0;
  private droppedNow = 0;
  private batchLines = 0;
  /** Set when a rotation failed in this batch: not tried again line after line (the daemon's rotator reports why). */
  private rotationFailed = false;
  /** An open that failed in this batch is not tried again for each of its lines (a full inode table, a gone directory). */
  private openFailed = false;
  /** `<stamp> <tag> ` of the batch being written. */
  private head = Buffer.alloc(0);
  private stamp = '';
  private readonly sink: LineSink = (data, start, end) => this.append(data, start, end);

  constructor(
    readonly file: string,
    private readonly rotation: WriteTimeRotation | null = null,
  ) {}

  /** Lines the disk refused and no notice has reported yet. */
  get droppedLines(): number {
    return this.dropped;
  }

  write(stamp: string, tag: StreamTag, lines: readonly Buffer[]): WrittenLines {
    return this.writeLines(stamp, tag, (sink) => {
      for (const line of lines) sink(line, 0, line.length);
    });
  }

  /** Writes every line `produce` hands to its sink, stamped `stamp` and tagged `tag`. */
  writeLines(stamp: string, tag: StreamTag, produce: (sink: LineSink) => void): WrittenLines {
    this.stamp = stamp;
    this.head = Buffer.from(`${stamp} ${tag} `, 'latin1');
    this.batchLines = 0;
    this.droppedNow = 0;
    this.rotationFailed = false;
    this.openFailed = false;
    produce(this.sink);
    this.flush();
    return { lines: this.batchLines, dropped: this.droppedNow };
  }

  private append(data: Buffer, start: number, end: number): void {
    this.batchLines += 1;
    if (this.fd === null && !this.openFailed) this.open(); // the size decides rotation
    const head = this.head;
    const need = head.length + (end - start) + 1;
    if (this.used > 0 && this.used + need > OUT.length) this.flush();
    // No file open, no size known: no rotation (the size of a file no longer open would decide it).
    if (
      this.fd !== null &&
      this.rotation !== null &&
      !this.rotationFailed &&
      this.size + this.used > 0 &&
      this.size + this.used + need > this.rotation.maxFileBytes()
    ) {
      this.flush();
      this.rotate();
    }
    if (need > OUT.length) {
      // Longer than the buffer (not from the collector, whose lines are cut at MAX_LINE_BYTES): on its own.
      this.writeOut(Buffer.concat([head, data.subarray(start, end), Buffer.from('\n')]), 1);
      return;
    }
    head.copy(OUT, this.used); // a whole buffer: no view made
    let at = this.used + head.length;
    if (end - start < COPY_LOOP_MAX) {
      for (let i = start; i < end; i += 1) OUT[at++] = data[i]!;
    } else {
      at += data.copy(OUT, at, start, end);
    }
    OUT[at] = NEWLINE;
    this.used += need;
    this.usedLines += 1;
  }

  private flush(): void {
    if (this.used === 0) return;
    const out = OUT.subarray(0, this.used);
    const lines = this.usedLines;
    this.used = 0;
    this.usedLines = 0;
    this.writeOut(out, lines);
  }

  private writeOut(out: Buffer, lines: number): void {
    try {
      if (this.fd === null && this.openFailed) throw new Error('the log file could not be opened in this batch');
      const fd = this.openOrThrow();
      if (this.dropped > 0) {
        this.writeAll(
          fd,
          Buffer.from(
            `\n${this.stamp} sys [sutazai-runtime] ${this.dropped} log lines dropped: could not write the log file (disk full?)\n`,
          ),
        );
      }
      this.writeAll(fd, out);
      this.dropped = 0;
    } catch {
      this.dropped += lines;
      this.droppedNow += lines;
      // What a write cut short left behind is not counted: the size is read again at the next open.
      this.close();
    }
  }

  private writeAll(fd: number, out: Buffer): void {
    for (let at = 0; at < out.length;) {
      const n = fs.writeSync(fd, out, at);
      at += n;
      this.size += n;
    }
  }

  /** Opens the file when it is not (reading its size); false when it cannot be opened. */
  private open(): boolean {
    try {
      this.openOrThrow();
      return true;
    } catch {
      this.openFailed = true;
      return false;
    }
  }

  private openOrThrow(): number {
    if (this.fd !== null) return this.fd;
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    } catch (error) {
      this.size = 0; // no file open: the last one's size must not decide a rotation
      this.openFailed = true;
      throw error;
    }
    try {
      this.size = fs.fstatSync(fd).size;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    this.fd = fd;
    return fd;
  }

  private rotate(): void {
    this.close();
    try {
      this.rotation!.rotate();
    } catch {
      this.rotationFailed = true;
    }
    this.open();
  }

  /** The next write opens the file again (a new run of the instance, or the file was replaced). */
  close(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }
}

import fs from 'node:fs';

/** Lines longer than this are cut into pieces of this many bytes (as the bash loops and the Node shim do). */
export const MAX_LINE_BYTES = 16 * 1024;
/** A partial line (a prompt, a progress dot) is written after this much silence on its stream. */
export const PARTIAL_FLUSH_MS = 500;

export type StreamTag = 'out' | 'err';
export const STREAM_TAGS: readonly StreamTag[] = ['out', 'err'];

const NEWLINE = 0x0a;
const NL = Buffer.from('\n');

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
    const data = this.partial === null ? chunk : Buffer.concat([this.partial, chunk]);
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(NEWLINE, start);
      const end = nl === -1 ? data.length : nl;
      // A line of exactly MAX_LINE_BYTES stays whole when its newline is there already.
      while (nl === -1 ? end - start >= MAX_LINE_BYTES : end - start > MAX_LINE_BYTES) {
        lines.push(data.subarray(start, start + MAX_LINE_BYTES));
        start += MAX_LINE_BYTES;
      }
      if (nl === -1) break;
      lines.push(data.subarray(start, nl));
      start = nl + 1;
    }
    // A copy: the kept bytes must not pin the whole 64 KiB read buffer.
    this.partial = start < data.length ? Buffer.from(data.subarray(start)) : null;
    return lines;
  }

  /** The kept partial line, handed out once (at silence, exit or end of file). */
  rest(): Buffer | null {
    const rest = this.partial;
    this.partial = null;
    return rest;
  }
}

/**
 * Appends stamped lines, `<ISO time> <tag> <text>`, to one instance's log file through an
 * O_APPEND descriptor (so the rotator's copy-truncate is safe), one write per batch.
 * A failed write (disk full) drops the batch's lines and counts them; the next write that
 * succeeds is preceded by a `sys` line saying how many were dropped, after a newline
 * (a write cut short may have left half a line behind), as in the bash loops and the shim.
 * A file that cannot be opened counts as a failed write and is tried again next batch.
 */
export class StampedLogFile {
  private fd: number | null = null;
  private dropped = 0;

  constructor(readonly file: string) {}

  /** Lines the disk refused and no notice has reported yet. */
  get droppedLines(): number {
    return this.dropped;
  }

  /** Returns how many of `lines` the disk refused (0 or all of them). */
  write(stamp: string, tag: StreamTag, lines: readonly Buffer[]): number {
    if (lines.length === 0) return 0;
    const head = Buffer.from(`${stamp} ${tag} `);
    const parts: Buffer[] = [];
    if (this.dropped > 0) {
      parts.push(
        Buffer.from(`\n${stamp} sys [sutazai-runtime] ${this.dropped} log lines dropped: could not write the log file (disk full?)\n`),
      );
    }
    for (const line of lines) parts.push(head, line, NL);
    const out = Buffer.concat(parts);
    try {
      this.fd ??= fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
      for (let at = 0; at < out.length;) at += fs.writeSync(this.fd, out, at);
      this.dropped = 0;
      return 0;
    } catch {
      this.dropped += lines.length;
      return lines.length;
    }
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

import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { LogFiles } from './log-files';

export interface LogLine {
  /** ISO time the shim stamped, or null for a line written without the shim (raw mode). */
  time: string | null;
  stream: 'out' | 'err' | 'sys' | null;
  text: string;
}

const STAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (out|err|sys) (.*)$/s;

export function parseLogLine(raw: string): LogLine {
  const m = STAMPED.exec(raw);
  if (m === null) return { time: null, stream: null, text: raw };
  return { time: m[1]!, stream: m[2] as LogLine['stream'], text: m[3]! };
}

/** The most lines `tail` returns, and the most bytes it reads looking for them. */
export const TAIL_MAX_LINES = 10_000;
const TAIL_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The hard caps of a tail by bytes (`tailBytes`): what it reads (the support bundle's largest
 * --log-mb) and the lines it holds. 2,500,000 lines of 64 MiB average under 27 bytes, less
 * than the shortest stamped line (30), so for a stamped log the byte bound is the one that binds.
 * Its memory stays near three times TAIL_BYTES_CAP (the bytes, their text, the lines).
 */
export const TAIL_BYTES_CAP = 64 * 1024 * 1024;
export const TAIL_BYTES_MAX_LINES = 2_500_000;

/** How much a tail keeps: the last `lines` lines, or (`maxBytes`) the last whole lines that fit in as many bytes. */
export type TailLimit = { lines: number } | { maxBytes: number };

/**
 * The last `lines` complete-or-partial lines of an instance, oldest first, reading the live
 * file backwards and continuing into `.log.1`, `.log.2` when it holds too few.
 */
export function tail(files: LogFiles, instance: string, lines: number): LogLine[] {
  return tailRaw(files, instance, lines, false).lines.map(parseLogLine);
}

/**
 * The last whole lines whose bytes (newlines included) fit in `maxBytes` (at most
 * TAIL_BYTES_CAP and TAIL_BYTES_MAX_LINES), oldest first, from the live file and on into
 * `.log.1`, `.log.2` while the budget lasts; a line cut by the budget is left out.
 */
export function tailBytes(files: LogFiles, instance: string, maxBytes: number): LogLine[] {
  return runStepsSync(tailSteps(files, instance, { maxBytes }, false)).lines.map(parseLogLine);
}

/** The last `n` lines as text. */
export function lastLines(files: LogFiles, instance: string, n = 20): string[] {
  return tailRaw(files, instance, n, false).lines;
}

/**
 * The last `n` lines written up to `untilMs`, for a crash event, read without blocking the
 * event loop: the crash's run is restarted before they are read, so lines of the next run
 * (stamped after the exit was reported) may already follow them and are left out. A line
 * without a stamp (logs.timestamps raw) cannot be told apart and is kept.
 */
export async function lastLinesUntil(files: LogFiles, instance: string, n: number, untilMs: number): Promise<string[]> {
  let want = n;
  for (;;) {
    const { lines } = await runStepsAsync(tailSteps(files, instance, { lines: want }, false));
    let end = lines.length;
    while (end > 0 && stampedAfter(lines[end - 1]!, untilMs)) end -= 1;
    // Lines of the next run took places: read again for as many more (rarely needed: it has barely started).
    if (end === lines.length || lines.length < want || want >= TAIL_MAX_LINES) return lines.slice(0, end).slice(-n);
    want = Math.min(TAIL_MAX_LINES, want + (lines.length - end));
  }
}

function stampedAfter(raw: string, untilMs: number): boolean {
  const { time } = parseLogLine(raw);
  return time !== null && Date.parse(time) > untilMs;
}

/**
 * The last complete lines, and the offset in the live file just past them, where a
 * `follow` started with `from` goes on: a line written between the two calls is then
 * neither lost nor repeated, and a line half written when the tail read the file comes
 * whole through the follow instead of cut in two.
 */
export function tailForFollow(files: LogFiles, instance: string, lines: number): { lines: LogLine[]; liveEnd: number } {
  const { lines: raw, liveEnd } = tailRaw(files, instance, lines, true);
  return { lines: raw.map(parseLogLine), liveEnd };
}

interface TailResult {
  lines: string[];
  liveEnd: number;
}

function tailRaw(files: LogFiles, instance: string, lines: number, completeOnly: boolean): TailResult {
  return runStepsSync(tailSteps(files, instance, { lines }, completeOnly));
}

/**
 * What a tail reads, as steps (one algorithm for the blocking and the non-blocking reader):
 * it yields a file to open (answered with its size, or null when it is not there) or a
 * range of the file last opened to read (answered with the bytes).
 */
type TailStep = { op: 'open'; file: string } | { op: 'read'; pos: number; len: number };
type TailSteps = Generator<TailStep, TailResult, number | null | Buffer>;

function* tailSteps(files: LogFiles, instance: string, limit: TailLimit, completeOnly: boolean): TailSteps {
  const byBytes = 'maxBytes' in limit;
  const want = byBytes ? TAIL_BYTES_MAX_LINES : Math.max(0, Math.min(Math.floor(limit.lines), TAIL_MAX_LINES));
  let collected: string[] = [];
  let budget = byBytes ? Math.max(0, Math.min(Math.floor(limit.maxBytes), TAIL_BYTES_CAP)) : TAIL_MAX_BYTES;
  if (byBytes && budget === 0) return { lines: [], liveEnd: 0 };
  let liveEnd = 0;
  const live = files.logPath(instance);
  for (const file of [live, ...files.rotatedCandidates(instance)]) {
    const size = (yield { op: 'open', file }) as number | null;
    if (size === null) continue;
    const isLive = file === live;
    // By bytes is never completeOnly (a follow starts from a tail by lines), so its `end` is the file's size.
    const got = byBytes
      ? yield* fileTailBytesSteps(size, want - collected.length, budget)
      : yield* fileTailSteps(size, want - collected.length, budget, isLive && completeOnly);
    if (isLive) liveEnd = got.end;
    // concat, not unshift(...): a tail by bytes may hold millions of lines, past what a call's arguments take.
    collected = got.lines.concat(collected);
    budget -= got.bytesRead;
    // A file not read back to its start leaves a gap before it: the older files cannot follow.
    if (collected.length >= want || budget <= 0 || !got.toStart) break;
  }
  return { lines: want === 0 ? [] : collected.slice(-want), liveEnd };
}

/** `end`: the offset the lines end at (the file's size, or with `completeOnly` just past its last newline). */
function* fileTailSteps(
  size: number,
  want: number,
  maxBytes: number,
  completeOnly: boolean,
): Generator<TailStep, FileTail, number | null | Buffer> {
  let pos = size;
  let chunks: Buffer[] = [];
  let newlines = 0;
  let bytesRead = 0;
  const chunk = 64 * 1024;
  // Read backwards until we hold want+1 newlines (the extra one bounds the first line);
  // at least one chunk, so that `completeOnly` finds the last newline even for no lines.
  while (pos > 0 && (newlines <= want || bytesRead === 0) && bytesRead < maxBytes) {
    const len = Math.min(chunk, pos);
    pos -= len;
    const buf = (yield { op: 'read', pos, len }) as Buffer;
    bytesRead += len;
    for (const b of buf) if (b === 0x0a) newlines += 1;
    chunks = [buf, ...chunks];
  }
  let bytes = Buffer.concat(chunks);
  if (completeOnly) bytes = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
  const end = pos + bytes.length;
  const toStart = pos === 0;
  if (want <= 0) return { lines: [], bytesRead, end, toStart };
  let text = bytes.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text === '') return { lines: [], bytesRead, end, toStart };
  const all = text.split('\n');
  // When we stopped before the file start, the first piece may be a cut line.
  if (pos > 0) all.shift();
  return { lines: all.slice(-want), bytesRead, end, toStart };
}

interface FileTail {
  lines: string[];
  /** Bytes counted against the tail's budget: those read (by lines), those of the lines kept (by bytes). */
  bytesRead: number;
  end: number;
  /** Whether the lines reach back to the file's first byte. */
  toStart: boolean;
}

/**
 * The last whole lines of one file within `maxBytes`: reads the last maxBytes+1 bytes (never
 * more), so that the piece before the first newline, cut or whole, is what is left over: when
 * the byte before the budget is a newline, that piece is the newline alone and every kept line fits.
 */
function* fileTailBytesSteps(size: number, want: number, maxBytes: number): Generator<TailStep, FileTail, number | null | Buffer> {
  const limit = maxBytes + 1;
  let pos = size;
  const chunks: Buffer[] = [];
  let bytesRead = 0;
  while (pos > 0 && bytesRead < limit) {
    const len = Math.min(64 * 1024, pos, limit - bytesRead);
    pos -= len;
    chunks.push((yield { op: 'read', pos, len }) as Buffer);
    bytesRead += len;
  }
  let bytes = Buffer.concat(chunks.reverse());
  // More than the budget (the file goes on before it, or is exactly one byte over): the piece
  // before the first newline is the line cut by the budget, dropped whole; no newline at all
  // means the last line alone is past the budget, and nothing fits.
  const cut = pos > 0 || bytes.length > maxBytes;
  if (cut) {
    const newline = bytes.indexOf(0x0a);
    bytes = bytes.subarray(newline === -1 ? bytes.length : newline + 1);
  }
  const toStart = !cut;
  if (bytes.length === 0 || want <= 0) return { lines: [], bytesRead: bytes.length, end: size, toStart };
  let text = bytes.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  const all = text.split('\n');
  const lines = all.length > want ? all.slice(-want) : all;
  return { lines, bytesRead: bytes.length, end: size, toStart };
}

function runStepsSync(steps: TailSteps): TailResult {
  let fd: number | null = null;
  try {
    let step = steps.next(0);
    while (!step.done) {
      const request = step.value;
      if (request.op === 'open') {
        if (fd !== null) fs.closeSync(fd);
        fd = null;
        try {
          fd = fs.openSync(request.file, 'r');
        } catch {
          step = steps.next(null);
          continue;
        }
        step = steps.next(fs.fstatSync(fd).size);
      } else {
        const buf = Buffer.alloc(request.len);
        fs.readSync(fd!, buf, 0, request.len, request.pos);
        step = steps.next(buf);
      }
    }
    return step.value;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

async function runStepsAsync(steps: TailSteps): Promise<TailResult> {
  let handle: fs.promises.FileHandle | null = null;
  try {
    let step = steps.next(0);
    while (!step.done) {
      const request = step.value;
      if (request.op === 'open') {
        await handle?.close();
        handle = null;
        try {
          handle = await fs.promises.open(request.file, 'r');
        } catch {
          step = steps.next(null);
          continue;
        }
        step = steps.next((await handle.stat()).size);
      } else {
        const buf = Buffer.alloc(request.len);
        await handle!.read(buf, 0, request.len, request.pos);
        step = steps.next(buf);
      }
    }
    return step.value;
  } finally {
    await handle?.close();
  }
}

export interface FollowOptions {
  /** Polling period; fs.watch wakes it sooner where inotify works. */
  pollMs?: number;
  /** Most bytes read per wake-up, so a flood cannot stall the daemon. */
  maxReadBytes?: number;
  /** Where in the live file to start (`tailForFollow`'s `liveEnd`); its current end when not given. */
  from?: number;
}

/**
 * Calls `onLines` with each batch of complete new lines appended to the instance's log,
 * starting from the current end (or `from`), at once when there is more than that. Survives rotation: when the live file shrinks
 * (copy-truncate) or is another file (renamed to `.log.1` by the log collector), the bytes past our offset are read from `.log.1` first. Returns `stop`.
 */
export function follow(files: LogFiles, instance: string, onLines: (lines: LogLine[]) => void, options: FollowOptions = {}): () => void {
  const file = files.logPath(instance);
  const pollMs = options.pollMs ?? 250;
  const maxRead = options.maxReadBytes ?? 1024 * 1024;
  let offset = options.from ?? sizeOf(file);
  /** The live file's inode: another one means it was renamed to `.log.1` (the log collector rotates by rename). */
  let inode = fs.statSync(file, { throwIfNoEntry: false })?.ino;
  let partial = '';
  const decoder = new StringDecoder('utf8');
  let stopped = false;
  let watcher: fs.FSWatcher | undefined;

  const emit = (text: string): void => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    if (partial.length > 64 * 1024) {
      parts.push(partial);
      partial = '';
    }
    if (parts.length > 0) onLines(parts.map(parseLogLine));
  };

  const readRange = (path: string, from: number, to: number): Buffer => {
    if (to <= from) return Buffer.alloc(0);
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch {
      return Buffer.alloc(0);
    }
    try {
      const len = Math.min(to - from, maxRead);
      const buf = Buffer.allocUnsafe(len);
      const n = fs.readSync(fd, buf, 0, len, from);
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  };

  const check = (): void => {
    if (stopped) return;
    const st = fs.statSync(file, { throwIfNoEntry: false });
    const size = st?.size ?? 0;
    // A new file under the name, though it may have grown past our offset already: rotated by rename.
    const renamed = st !== undefined && inode !== undefined && st.ino !== inode;
    // None between the rename and the writer's next open: handled below as a shrink, so the file that comes next is read from 0, once.
    inode = st?.ino;
    if (size < offset || renamed) {
      // Rotated (copy-truncate, or rename): finish what .log.1 holds past our offset, then restart at 0.
      const rotated = files.rotatedPath(instance, 1);
      emit(decoder.write(readRange(rotated, offset, sizeOf(rotated))));
      offset = 0;
    }
    // A watch is on a file, not a name: the new file gets one (also one that did not exist when follow began).
    if (st !== undefined && st.ino !== watched) watch(st.ino);
    if (size > offset) {
      const bytes = readRange(file, offset, size);
      offset += bytes.length;
      emit(decoder.write(bytes));
    }
  };

  let watched: number | undefined;
  const watch = (ino: number | undefined): void => {
    watcher?.close();
    watched = ino;
    try {
      watcher = fs.watch(file, { persistent: false }, () => check());
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined; // no inotify (or no file yet): polling alone
    }
  };

  const timer = setInterval(check, pollMs);
  timer.unref();
  // What was written since `from` is sent now, not at the first wake-up.
  setImmediate(check);
  watch(inode);
  return () => {
    stopped = true;
    clearInterval(timer);
    watcher?.close();
  };
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

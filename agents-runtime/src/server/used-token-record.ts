/**
 * The one-use record of access tokens (access-token.ts), kept across restarts: each token
 * accepted is appended as one line (its expiry and a digest of its `jti`) to a file in the
 * state directory before its call is served, and a starting runtime reads the file back, so
 * a token used before a restart (a kill -9 of the daemon included: the line is in the page
 * cache once write() returns) is refused after it. A whole-host crash in the seconds before
 * the kernel writes the page out can lose the last lines; an fsync per call would close that
 * at the price of a disk flush in every operator's call (milliseconds), so none is made.
 *
 * The file is only ever a list of refusals: a line that is not an entry is skipped and
 * counted, and an entry can do nothing but refuse the token it names. Its lines hold a
 * SHA-256 digest of the `jti`, never the `jti` itself, so every entry has one fixed form
 * whatever a token carried. Expired entries are dropped at start, and the file is rewritten
 * (a temporary file renamed over it) with the live ones when it has grown past a bound.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../runtime-error';
import { CLOCK_TOLERANCE_S } from './token-clock';

/** The record's name in the state directory, beside the access state. */
export const USED_TOKENS_FILE = 'access-tokens.used';

/** The most a start reads: the newest part of a larger file (entries are appended in time order). */
export const USED_TOKENS_READ_LIMIT_BYTES = 4 * 1024 * 1024;
/** Appended bytes that make a rewrite due: this, or the size the last rewrite left, whichever is larger. */
export const USED_TOKENS_COMPACT_FLOOR_BYTES = 64 * 1024;
const SWEEP_EVERY_MS = 10_000;

/** `<exp, seconds since the epoch> <base64url SHA-256 of the jti>`. */
const ENTRY = /^(\d{1,12}) ([A-Za-z0-9_-]{43})$/;
const LONGEST_LINE = 12 + 1 + 43;
/** Never through a link; O_NONBLOCK so that a FIFO put in its place cannot hang the daemon (no effect on a file). */
const { O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = fs.constants;
const APPEND_FLAGS = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

/** What a start found in the file; the daemon's log says it when anything was off. */
export interface UsedTokensLoad {
  /** Entries of tokens not yet expired, now refused. */
  kept: number;
  /** Entries of tokens expired: dropped. */
  expired: number;
  /** Lines that are not entries (cut short by a crash, or written by something else): skipped. */
  skipped: number;
  /** Why the file could not be read whole (too large, not a file, unreadable), or null. */
  unread: string | null;
}

export interface UsedTokenRecord {
  /** Whether a token with this `jti` was accepted before and has not expired. */
  has(jti: string, nowMs: number): boolean;
  /**
   * Records the token as used, on disk before memory; throws a RuntimeError (STATE_FILE_INVALID)
   * when the line cannot be written, and the call must then be refused: a use not kept could
   * be replayed after a restart.
   */
  add(jti: string, expiresAtMs: number, nowMs: number): void;
  /** What the start read. */
  readonly loaded: UsedTokensLoad;
  /** Closes the file (a later add opens it again). */
  close(): void;
}

const digestOf = (jti: string): string => process.getBuiltinModule('node:crypto').createHash('sha256').update(jti).digest('base64url');

/** A token still inside its life, the clock tolerance included: jose would accept it, so its entry is kept. */
const isLive = (expiresAtMs: number, nowMs: number): boolean => expiresAtMs + CLOCK_TOLERANCE_S * 1000 >= nowMs;

function unwritable(file: string, error: unknown): RuntimeError {
  return new RuntimeError(
    'STATE_FILE_INVALID',
    `the use of this access token cannot be recorded in ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}), and a token not recorded could be replayed after a restart, so the call is refused`,
    "make the state directory writable by the user sutazai-runtime runs as and free space on its disk; the control center's own calls go on meanwhile",
    { cause: error },
  );
}

/**
 * `file`: where the record is kept (the daemon: `<state_dir>/access-tokens.used`, named by
 * its config, never by a request); null keeps it in memory only (tests, a runtime without
 * a state directory). `onProblem` hears what a start found wrong with the file and a
 * rewrite that failed; neither stops the runtime.
 */
export function openUsedTokenRecord(file: string | null, nowMs: number, onProblem?: (detail: string) => void): UsedTokenRecord {
  /** digest -> when its token expires (ms). */
  const used = new Map<string, number>();
  const loaded: UsedTokensLoad = { kept: 0, expired: 0, skipped: 0, unread: null };
  let fd = -1;
  /** Bytes appended since the file was last written whole, and when the next rewrite is due. */
  let appended = 0;
  let rewriteAfter = USED_TOKENS_COMPACT_FLOOR_BYTES;
  /** Set when the file may not match memory (a failed append may have left part of a line): rewrite it before the next append. */
  let rewriteDue = false;
  let nextSweepMs = 0;

  const sweep = (now: number, force = false): void => {
    if (!force && now < nextSweepMs) return;
    nextSweepMs = now + SWEEP_EVERY_MS;
    for (const [digest, expiresAtMs] of used) if (!isLive(expiresAtMs, now)) used.delete(digest);
  };

  const closeFd = (): void => {
    if (fd === -1) return;
    try {
      fs.closeSync(fd);
    } catch {
      // Closing is all that is left to do with it.
    }
    fd = -1;
  };

  /** The live entries written to a temporary file renamed over the record; throws when it cannot be. */
  const rewrite = (now: number): void => {
    const target = file as string;
    sweep(now, true);
    const text = [...used].map(([digest, expiresAtMs]) => `${Math.ceil(expiresAtMs / 1000)} ${digest}\n`).join('');
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    try {
      fs.rmSync(temp, { force: true });
      // wx: never through a link or a file someone placed under that name.
      fs.writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
      fs.renameSync(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
    closeFd();
    appended = 0;
    rewriteAfter = Math.max(USED_TOKENS_COMPACT_FLOOR_BYTES, Buffer.byteLength(text));
    rewriteDue = false;
  };

  if (file !== null) {
    const read = readRecord(file);
    loaded.unread = read.unread;
    for (const line of read.lines) {
      if (line === '') continue;
      const entry = line.length <= LONGEST_LINE ? ENTRY.exec(line) : null;
      if (entry === null) {
        loaded.skipped += 1;
        continue;
      }
      const expiresAtMs = Number(entry[1]) * 1000;
      if (!isLive(expiresAtMs, nowMs)) {
        loaded.expired += 1;
        continue;
      }
      const digest = entry[2] as string;
      used.set(digest, Math.max(expiresAtMs, used.get(digest) ?? 0));
    }
    loaded.kept = used.size;
    if (loaded.unread !== null) onProblem?.(`${file}: ${loaded.unread}; the entries it holds beyond what was read are not refused`);
    if (loaded.skipped > 0)
      onProblem?.(`${file}: ${loaded.skipped} line(s) are not entries (cut short by a crash, or written by something else): skipped`);
    // Whatever was dropped or skipped (or a file with loose permissions) goes with a rewrite now, not at the next bound.
    if (loaded.expired > 0 || loaded.skipped > 0 || loaded.unread !== null || read.loose) {
      try {
        rewrite(nowMs);
      } catch (error) {
        rewriteDue = true;
        onProblem?.(`${file} cannot be rewritten: ${(error as Error).message}; the next token's use tries again`);
      }
    }
  }

  return {
    loaded,
    has(jti, now) {
      sweep(now);
      const expiresAtMs = used.get(digestOf(jti));
      return expiresAtMs !== undefined && isLive(expiresAtMs, now);
    },
    add(jti, expiresAtMs, now) {
      const digest = digestOf(jti);
      if (file !== null) {
        const line = `${Math.ceil(expiresAtMs / 1000)} ${digest}\n`;
        try {
          if (rewriteDue || appended >= rewriteAfter) {
            // The new entry goes with the rewrite: in memory first, taken back if the rewrite fails.
            const before = used.get(digest);
            used.set(digest, expiresAtMs);
            try {
              rewrite(now);
            } catch (error) {
              if (before === undefined) used.delete(digest);
              else used.set(digest, before);
              rewriteDue = true;
              throw error;
            }
            return;
          }
          if (fd === -1) fd = fs.openSync(file, APPEND_FLAGS, 0o600);
          const written = fs.writeSync(fd, line);
          if (written !== line.length) throw new Error(`only ${written} of ${line.length} bytes were written`);
          appended += written;
        } catch (error) {
          // A part of a line may be on disk: the next append rewrites the file from memory first.
          rewriteDue = true;
          closeFd();
          throw unwritable(file, error);
        }
      }
      used.set(digest, expiresAtMs);
    },
    close: closeFd,
  };
}

/** The file's lines, at most the newest USED_TOKENS_READ_LIMIT_BYTES of it; never through a link. */
function readRecord(file: string): { lines: string[]; unread: string | null; loose: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { lines: [], unread: null, loose: false };
    return { lines: [], unread: code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be read (${code ?? String(error)})`, loose: false };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { lines: [], unread: 'it is not a regular file', loose: false };
    const loose = (stat.mode & 0o077) !== 0;
    const size = stat.size;
    const length = Math.min(size, USED_TOKENS_READ_LIMIT_BYTES);
    const buffer = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, buffer, got, length - got, size - length + got);
      if (n === 0) break;
      got += n;
    }
    const lines = buffer.subarray(0, got).toString('latin1').split('\n');
    if (size <= USED_TOKENS_READ_LIMIT_BYTES) return { lines, unread: null, loose };
    // Read from the middle of a line: the first piece is not one.
    lines.shift();
    return {
      lines,
      unread: `it is ${size} bytes, more than the ${USED_TOKENS_READ_LIMIT_BYTES} read: only its newest part was read`,
      loose,
    };
  } catch (error) {
    return { lines: [], unread: `it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, loose: false };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A runtime's own audit log (issue 14, item 6): one JSON object a line, appended only, each
 * entry hash-chained to the one before with the control center's format (audit-chain.ts), so
 * the same verifier reads both. The files are the daemon's alone (0600); a segment is never
 * rewritten, only appended to with O_APPEND. Past `maxFileBytes` the live `audit.log` is sealed
 * as `audit.log.<its first seq>` and a new one begun, the chain running on (audit-segments.ts);
 * past `keepFiles` sealed segments the oldest is dropped, after an entry saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { auditHash, GENESIS_HASH, type AuditFields } from './audit-chain';
import {
  DROP_METHOD,
  dropTarget,
  orderSegments,
  sealedSegmentName,
  sealedSegmentStart,
  verifyAuditSegments,
  type SegmentsVerification,
} from './audit-segments';
import { AUDIT_LOG_FILE, parseAuditRow, parseAuditText, type AuditLine } from './audit-text';
import type { AuditAnchor, AuditRow } from './verify-audit-chain';

export { AUDIT_LOG_FILE } from './audit-text';

/** How large the live segment grows and how many sealed ones are kept (runtime.yaml `audit:`). */
export interface AuditLimits {
  maxFileBytes: number;
  keepFiles: number;
}

/**
 * 2 MiB a segment and 6 sealed ones beside the live one: at most 14 MiB, under the 16 MiB the
 * control center reads over SSH to verify a host's log (`sutazai audit verify --host`).
 */
export const DEFAULT_AUDIT_LIMITS: AuditLimits = { maxFileBytes: 2 * 1024 * 1024, keepFiles: 6 };

export interface AuditFile {
  /** Appends one entry after the newest, chained to it; answers its seq. */
  append(fields: AuditFields): number;
  /** Idempotent; an append after it throws. */
  close(): void;
}

/** Opens (creating) the log for appending, after its last complete entry (in the live segment, or the newest sealed one). */
export function openAuditFile(file: string, limits: AuditLimits = DEFAULT_AUDIT_LIMITS): AuditFile {
  const dir = path.dirname(file);
  const openLive = () => fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
  let fd = openLive();
  const live = segmentEntries(file);
  const last = live.last ?? newestSealedEntry(dir);
  let seq = last?.seq ?? 0;
  let hash = last?.hash ?? GENESIS_HASH;
  // The live segment's first entry names it when it is sealed.
  let liveFirst = live.first?.seq ?? null;
  let size = fs.fstatSync(fd).size;
  let closed = false;
  if (!live.endsInNewline) {
    // A line cut short by a crash stays as it is (verify names it); the next entry starts on its own line.
    size += fs.writeSync(fd, '\n');
  }

  const write = (fields: AuditFields): number => {
    if (fd === -1) {
      fd = openLive();
      size = fs.fstatSync(fd).size;
    }
    const entry: AuditRow = { seq: seq + 1, ...fields, prevHash: hash, hash: auditHash(fields, hash) };
    size += fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
    fs.fsyncSync(fd);
    seq = entry.seq;
    hash = entry.hash;
    liveFirst ??= entry.seq;
    return seq;
  };

  /** Seals the live segment, begins a new one, and drops the oldest sealed past the cap, each drop recorded first. */
  const rotate = (atMs: number): void => {
    const first = liveFirst ?? seq + 1;
    let sealed = path.join(dir, sealedSegmentName(first));
    // Only a hand-made file could hold the name; it is kept, and this segment takes a suffix.
    if (fs.existsSync(sealed)) sealed = `${sealed}.${atMs}`;
    try {
      fs.renameSync(file, sealed);
    } catch {
      // Not sealed (a directory planted at the name, a full disk): the live segment grows past its cap
      // and the next append tries again. Its fd stays open and valid: nothing was closed.
      return;
    }
    // Closed once: fd is -1 until the new live segment is open, so a failed open is retried by the
    // next write and never closes a number the process has since given to another file.
    const sealedFd = fd;
    fd = -1;
    size = 0;
    liveFirst = null;
    fs.closeSync(sealedFd);
    fd = openLive();
    const segments = orderSegments(fs.readdirSync(dir)).filter((name) => name !== AUDIT_LOG_FILE);
    const excess = segments.length - limits.keepFiles;
    const lastSealed = seq;
    for (let i = 0; i < excess; i += 1) {
      const name = segments[i]!;
      const from = sealedSegmentStart(name)!;
      const through = (sealedSegmentStart(segments[i + 1] ?? '') ?? lastSealed + 1) - 1;
      // Recorded before the file goes: a crash between the two leaves a drop said and not done, never one done and not said.
      write({
        atMs,
        operator: null,
        actor: 'runtime',
        peer: 'local',
        action: 'audit',
        method: DROP_METHOD,
        target: dropTarget(from, through, name, lastHashOf(path.join(dir, name), through)),
        outcome: 'ok',
      });
      fs.rmSync(path.join(dir, name), { force: true });
    }
  };

  return {
    append(fields) {
      if (closed) throw new Error('the audit log is closed');
      const bytes = Buffer.byteLength(JSON.stringify({ seq: seq + 1, ...fields, prevHash: hash, hash })) + 1;
      if (size > 0 && size + bytes > limits.maxFileBytes) rotate(fields.atMs);
      return write(fields);
    },
    close() {
      if (closed) return;
      closed = true;
      if (fd !== -1) fs.closeSync(fd);
      fd = -1;
    },
  };
}

/** The live segment's entries in file order, a line that is not one an entry of its own kind (see verifyAuditSegments). */
export function readAuditFile(file: string): AuditLine[] {
  return parseAuditText(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
}

/** Every segment beside `file` (the live one), oldest first, with its text. */
export function readAuditSegments(file: string): Array<{ name: string; text: string }> {
  const dir = path.dirname(file);
  const names = fs.existsSync(dir) ? orderSegments(fs.readdirSync(dir)) : [];
  return names.map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
}

/** verifyAuditSegments of the log on this host: the live segment and every sealed one kept beside it. */
export function verifyAuditFile(file: string, anchor?: AuditAnchor): SegmentsVerification {
  return verifyAuditSegments(readAuditSegments(file), anchor);
}

function segmentEntries(file: string): { first: AuditRow | null; last: AuditRow | null; endsInNewline: boolean } {
  const text = fs.readFileSync(file, 'utf8');
  const rows = text
    .split('\n')
    .map((line) => (line === '' ? null : parseAuditRow(line)))
    .filter((row): row is AuditRow => row !== null);
  return { first: rows[0] ?? null, last: rows.at(-1) ?? null, endsInNewline: text === '' || text.endsWith('\n') };
}

/** The hash of entry `seq` in a segment about to be dropped; null where it is not there (a hand-edited file). */
function lastHashOf(file: string, seq: number): string | null {
  const text = fs.readFileSync(file, 'utf8');
  return parseAuditText(text).find((entry): entry is AuditRow => 'seq' in entry && entry.seq === seq)?.hash ?? null;
}

/** The last entry of the newest sealed segment: the chain goes on from it when the live one is new (sealed, then a crash). */
function newestSealedEntry(dir: string): AuditRow | null {
  const sealed = orderSegments(fs.readdirSync(dir)).filter((name) => name !== AUDIT_LOG_FILE);
  for (let i = sealed.length - 1; i >= 0; i -= 1) {
    const last = lastEntryOf(path.join(dir, sealed[i]!));
    if (last !== null) return last;
  }
  return null;
}

/**
 * A segment's last complete entry, read backwards from its end a chunk at a time: the start
 * never reads a whole sealed segment as one string (past ~512 MiB that throws and the runtime
 * would not start). Lines are cut at newline bytes, so no character is split.
 */
export function lastEntryOf(file: string, chunkBytes = 64 * 1024): AuditRow | null {
  const fd = fs.openSync(file, 'r');
  try {
    let end = fs.fstatSync(fd).size;
    // The bytes before the first newline seen so far: a line whose start is not read yet.
    let partial = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - chunkBytes);
      const chunk = Buffer.alloc(end - start);
      fs.readSync(fd, chunk, 0, chunk.length, start);
      end = start;
      const tail = Buffer.concat([chunk, partial]);
      const firstNewline = start === 0 ? -1 : tail.indexOf(0x0a);
      if (start !== 0 && firstNewline === -1) {
        partial = tail;
        continue;
      }
      const lines = tail
        .subarray(firstNewline + 1)
        .toString('utf8')
        .split('\n');
      for (let i = lines.length - 1; i >= 0; i -= 1) {
        const row = lines[i] === '' ? null : parseAuditRow(lines[i]!);
        if (row !== null) return row;
      }
      partial = tail.subarray(0, Math.max(firstNewline, 0));
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

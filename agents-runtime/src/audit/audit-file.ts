/**
 * A runtime's own audit log (issue 14, item 6): one JSON object a line in
 * `<state_dir>/audit.log`, appended only, each entry hash-chained to the one before with the
 * control center's format (audit-chain.ts), so the same verifier reads both. The file is
 * the daemon's alone (0600); it is never rewritten, only appended to with O_APPEND.
 */
import fs from 'node:fs';
import { auditHash, GENESIS_HASH, type AuditFields } from './audit-chain';
import { verifyAuditRows, type AuditAnchor, type AuditRow, type AuditVerification } from './verify-audit-chain';

export const AUDIT_LOG_FILE = 'audit.log';

export interface AuditFile {
  /** Appends one entry after the newest, chained to it; answers its seq. */
  append(fields: AuditFields): number;
  /** Idempotent; an append after it throws. */
  close(): void;
}

/** Opens (creating) the log for appending, after its last complete entry. */
export function openAuditFile(file: string): AuditFile {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
  const last = lastEntry(file);
  let seq = last.seq;
  let hash = last.hash;
  let closed = false;
  if (!last.endsInNewline) {
    // A line cut short by a crash stays as it is (verify names it); the next entry starts on its own line.
    fs.writeSync(fd, '\n');
  }
  return {
    append(fields) {
      if (closed) throw new Error('the audit log is closed');
      const entry: AuditRow = { seq: seq + 1, ...fields, prevHash: hash, hash: auditHash(fields, hash) };
      fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
      fs.fsyncSync(fd);
      seq = entry.seq;
      hash = entry.hash;
      return seq;
    },
    close() {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
}

/** The log's entries in file order, a line that is not one an entry of its own kind (see verifyAuditFile). */
export function readAuditFile(file: string): Array<AuditRow | { line: number; text: string }> {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => parseRow(line) ?? { line: index + 1, text: line });
}

/**
 * Checks every entry of the log against its hash and the one before it (verifyAuditRows); a
 * line that is not an entry at all (a cut-short or hand-edited line) is an edit where it stands.
 * The newest entries removed from the end show only against an anchor written down earlier.
 */
export function verifyAuditFile(file: string, anchor?: AuditAnchor): AuditVerification {
  const entries = readAuditFile(file);
  const bad = entries.findIndex((entry) => !('seq' in entry));
  if (bad !== -1) {
    const before = entries.slice(0, bad).filter((entry): entry is AuditRow => 'seq' in entry);
    const seq = (before.at(-1)?.seq ?? 0) + 1;
    const line = entries[bad] as { line: number };
    const head = before.at(-1);
    return {
      entries: entries.length,
      head: head ? { seq: head.seq, hash: head.hash } : null,
      broken: {
        seq,
        kind: 'edited',
        message: `Line ${line.line} of the audit log is not an entry (cut short or edited), where entry ${seq} stands.`,
      },
    };
  }
  // The record is each entry's seq and the chain, not where its line stands in the file.
  const rows = (entries as AuditRow[]).slice().sort((a, b) => a.seq - b.seq);
  const bySeq = new Map(rows.map((row) => [row.seq, row]));
  return verifyAuditRows({
    rows,
    highestSeq: rows.reduce((max, row) => Math.max(max, row.seq), 0),
    seqOfHash: (h) => rows.find((row) => row.hash === h)?.seq ?? null,
    rowAt: (s) => bySeq.get(s) ?? null,
    ...(anchor !== undefined ? { anchor } : {}),
  });
}

function lastEntry(file: string): { seq: number; hash: string; endsInNewline: boolean } {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return { seq: 0, hash: GENESIS_HASH, endsInNewline: true };
  const lines = text.split('\n').filter((line) => line !== '');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const row = parseRow(lines[i]!);
    if (row) return { seq: row.seq, hash: row.hash, endsInNewline: text.endsWith('\n') };
  }
  return { seq: 0, hash: GENESIS_HASH, endsInNewline: text.endsWith('\n') };
}

const HASH = /^[0-9a-f]{64}$/;

function parseRow(line: string): AuditRow | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const row = value as Partial<AuditRow> | null;
  const text = (v: unknown) => typeof v === 'string';
  const textOrNull = (v: unknown) => v === null || typeof v === 'string';
  if (
    typeof row !== 'object' ||
    row === null ||
    !Number.isInteger(row.seq) ||
    !Number.isInteger(row.atMs) ||
    !textOrNull(row.operator) ||
    !text(row.actor) ||
    !text(row.peer) ||
    !text(row.action) ||
    !text(row.method) ||
    !textOrNull(row.target) ||
    !text(row.outcome) ||
    !HASH.test(String(row.prevHash)) ||
    !HASH.test(String(row.hash))
  )
    return null;
  return row as AuditRow;
}

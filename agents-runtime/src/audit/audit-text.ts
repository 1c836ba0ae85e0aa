/**
 * A runtime's audit log as text (audit-file.ts writes it): one JSON entry a line. Pure, so
 * the control center verifies a log it read from a host over SSH with the same code the
 * runtime's own `audit-verify` runs. The text is the host's: nothing in it is trusted.
 */
import { verifyAuditRows, type AuditAnchor, type AuditRow, type AuditVerification } from './verify-audit-chain';

/** The log's file name in the runtime's state_dir. */
export const AUDIT_LOG_FILE = 'audit.log';

/** An entry, or a line that is not one (cut short by a crash, or edited), with its 1-based line number. */
export type AuditLine = AuditRow | { line: number; text: string };

/** The log's lines in file order. */
export function parseAuditText(text: string): AuditLine[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => parseAuditRow(line) ?? { line: index + 1, text: line });
}

/**
 * Checks every entry of the log against its hash and the one before it (verifyAuditRows); a
 * line that is not an entry at all (a cut-short or hand-edited line) is an edit where it stands.
 * The newest entries removed from the end show only against an anchor written down earlier.
 */
export function verifyAuditText(text: string, anchor?: AuditAnchor): AuditVerification {
  const entries = parseAuditText(text);
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

const HASH = /^[0-9a-f]{64}$/;

export function parseAuditRow(line: string): AuditRow | null {
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
    // The contract's seq is positive and both are exact integers: anything else is not an entry (named by its line).
    !Number.isSafeInteger(row.seq) ||
    (row.seq as number) < 1 ||
    !Number.isSafeInteger(row.atMs) ||
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

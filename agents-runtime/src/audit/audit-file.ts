/**
 * A runtime's own audit log (issue 14, item 6): one JSON object a line in
 * `<state_dir>/audit.log`, appended only, each entry hash-chained to the one before with the
 * control center's format (audit-chain.ts), so the same verifier reads both. The file is
 * the daemon's alone (0600); it is never rewritten, only appended to with O_APPEND.
 */
import fs from 'node:fs';
import { auditHash, GENESIS_HASH, type AuditFields } from './audit-chain';
import { parseAuditRow, parseAuditText, verifyAuditText, type AuditLine } from './audit-text';
import type { AuditAnchor, AuditRow, AuditVerification } from './verify-audit-chain';

export { AUDIT_LOG_FILE } from './audit-text';

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

/** The log's entries in file order, a line that is not one an entry of its own kind (see verifyAuditText). */
export function readAuditFile(file: string): AuditLine[] {
  return parseAuditText(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
}

/** verifyAuditText of the log on this host. */
export function verifyAuditFile(file: string, anchor?: AuditAnchor): AuditVerification {
  return verifyAuditText(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '', anchor);
}

function lastEntry(file: string): { seq: number; hash: string; endsInNewline: boolean } {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return { seq: 0, hash: GENESIS_HASH, endsInNewline: true };
  const lines = text.split('\n').filter((line) => line !== '');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const row = parseAuditRow(lines[i]!);
    if (row) return { seq: row.seq, hash: row.hash, endsInNewline: text.endsWith('\n') };
  }
  return { seq: 0, hash: GENESIS_HASH, endsInNewline: text.endsWith('\n') };
}

/** What an entry says, the fields its hash covers (not its seq: its place is in the chain of hashes). */
export interface AuditFields {
  atMs: number;
  operator: string | null;
  actor: string;
  peer: string;
  action: string;
  method: string;
  target: string | null;
  outcome: string;
}

/** The previous hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Names the encoding, so a later one cannot be mistaken for this one. */
const ENCODING = 'sutazai-audit-v1';

/**
 * SHA-256 over the previous entry's hash and a canonical encoding of the entry's fields:
 * a JSON array in a fixed order (integers and strings only, so one value has one text).
 * Changing any field, or the entry before it, changes this hash.
 */
export function auditHash(fields: AuditFields, prevHash: string): string {
  const canonical = JSON.stringify([
    ENCODING,
    prevHash,
    fields.atMs,
    fields.operator,
    fields.actor,
    fields.peer,
    fields.action,
    fields.method,
    fields.target,
    fields.outcome,
  ]);
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(canonical, 'utf8').digest('hex');
}

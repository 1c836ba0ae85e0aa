import { auditHash, GENESIS_HASH, type AuditFields } from './audit-chain';

/**
 * The verification's words, shared by the control center's log and each runtime's: the
 * contract's zod schemas (electron/contract/audit.ts) describe the same shapes on the API.
 */
export type AuditBreakKind = 'edited' | 'removed' | 'reordered';

/** An entry an auditor wrote down earlier (its seq and hash): the log must still hold it, unchanged. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

export interface AuditVerification {
  /** How many entries the log holds. */
  entries: number;
  /** The newest entry's seq and hash. */
  head: { seq: number; hash: string } | null;
  /** The first place the chain breaks; null when every entry is as appended. */
  broken: { seq: number; kind: AuditBreakKind; message: string } | null;
}

export interface AuditRow extends AuditFields {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditRowSource {
  /** Every row in seq order. */
  rows: Iterable<AuditRow>;
  /** The highest seq ever appended (SQLite's sqlite_sequence for the table); 0 when none was. */
  highestSeq: number;
  /** The seq of the row with this hash, if any (only asked where the chain breaks). */
  seqOfHash(hash: string): number | null;
  rowAt(seq: number): AuditRow | null;
  anchor?: AuditAnchor;
  /**
   * Where the kept chain starts when older entries were dropped on purpose (a runtime's oldest
   * segments, audit-segments.ts, which checks the drop was recorded): the first seq and the hash it is chained to.
   */
  start?: { seq: number; prevHash: string };
}

type Break = NonNullable<AuditVerification['broken']>;

/**
 * Walks the log from its first entry and reports the first place it is not as appended:
 * - a gap in seq, or the newest seqs missing: removed;
 * - an entry whose fields do not give its hash: edited;
 * - an entry chained to one that stands elsewhere in the log: reordered;
 * - an entry chained to one that is nowhere (the one before it was rewritten with a new
 *   hash, or entries were removed and the rest renumbered): edited, at the entry before.
 * An anchor (an entry written down earlier) must still be there with the same hash.
 */
export function verifyAuditRows(source: AuditRowSource): AuditVerification {
  let broken: Break | AuditRow | null = null;
  let expectedSeq = source.start?.seq ?? 1;
  let prevHash = source.start?.prevHash ?? GENESIS_HASH;
  let entries = 0;
  let head: AuditVerification['head'] = null;
  for (const row of source.rows) {
    entries += 1;
    broken ??= checkRow(row, expectedSeq, prevHash);
    expectedSeq = row.seq + 1;
    prevHash = row.hash;
    head = { seq: row.seq, hash: row.hash };
  }
  // Looked up after the walk: the connection answers nothing else while it iterates.
  if (broken !== null && 'prevHash' in broken) broken = misplaced(broken, source.seqOfHash(broken.prevHash));
  if (broken === null && source.highestSeq >= expectedSeq) {
    broken = removed(
      expectedSeq,
      source.highestSeq === expectedSeq
        ? `Entry ${expectedSeq}, the newest appended, was removed from the end of the log.`
        : `Entries ${expectedSeq} to ${source.highestSeq}, the newest appended, were removed from the end of the log.`,
    );
  }
  if (broken === null && source.anchor !== undefined) broken = checkAnchor(source.anchor, source.rowAt(source.anchor.seq));
  return { entries, head, broken };
}

/** The break at this row, itself when it is chained to another entry than the one before it (see misplaced), or null. */
function checkRow(row: AuditRow, expectedSeq: number, prevHash: string): Break | AuditRow | null {
  if (row.seq > expectedSeq) {
    const missing =
      row.seq === expectedSeq + 1 ? `Entry ${expectedSeq} was removed` : `Entries ${expectedSeq} to ${row.seq - 1} were removed`;
    const follows = expectedSeq === 1 ? `entry ${row.seq} is the first in the log` : `entry ${row.seq} follows entry ${expectedSeq - 1}`;
    return removed(expectedSeq, `${missing}: ${follows}.`);
  }
  if (auditHash(row, row.prevHash) !== row.hash) {
    return at(row.seq, 'edited', `Entry ${row.seq} was edited: its fields no longer give its hash.`);
  }
  return row.prevHash === prevHash ? null : row;
}

/** Where an entry chained to another than the one before it stands: `chainedTo` holds the hash it was appended after. */
function misplaced(row: AuditRow, chainedTo: number | null): Break {
  if (chainedTo !== null) {
    return at(
      row.seq,
      'reordered',
      `Entry ${row.seq} was appended after entry ${chainedTo}, not after entry ${row.seq - 1}: the entries were reordered.`,
    );
  }
  if (row.seq === 1)
    return at(1, 'removed', 'Entry 1 was appended after an entry that is no longer in the log: the first entries were removed.');
  return at(
    row.seq - 1,
    'edited',
    `Entry ${row.seq - 1} is not the entry that entry ${row.seq} was appended after: it was rewritten (its hash computed again), or entries were removed and the rest renumbered.`,
  );
}

function checkAnchor(anchor: AuditAnchor, row: AuditRow | null): Break | null {
  if (row === null)
    return removed(anchor.seq, `Entry ${anchor.seq}, which you wrote down with hash ${anchor.hash}, is no longer in the log.`);
  if (row.hash !== anchor.hash)
    return at(
      anchor.seq,
      'edited',
      `Entry ${anchor.seq} has hash ${row.hash}, not ${anchor.hash} as you wrote it down: the log was rewritten.`,
    );
  return null;
}

function removed(seq: number, message: string): Break {
  return at(seq, 'removed', message);
}

function at(seq: number, kind: AuditBreakKind, message: string): Break {
  return { seq, kind, message };
}

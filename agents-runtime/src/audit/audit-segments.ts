/**
 * The runtime's audit log in segments (issue 14, item 6): the live `audit.log` and the sealed
 * ones before it, `audit.log.<seq of its first entry>`. The hash chain runs on across segments
 * (a new segment's first entry is chained to the last hash of the one before), so a segment is
 * only a file boundary: removing a whole segment from the middle is a gap in the chain. The
 * oldest segments past the keep cap are dropped by the runtime, which first appends an entry
 * saying which entries it drops (DROP_METHOD): a chain that starts after entry 1 is whole only
 * where such an entry, itself in the chain, accounts for what is missing before it.
 *
 * Pure text in, verification out, so the control center verifies what it read over SSH with
 * the code `sutazai-runtime audit-verify` runs on the host.
 */
import { AUDIT_LOG_FILE, parseAuditRow } from './audit-text';
import { verifyAuditRows, type AuditAnchor, type AuditRow, type AuditVerification } from './verify-audit-chain';

/** The method of the entry the runtime appends before it drops its oldest segment. */
export const DROP_METHOD = 'DropAuditSegment';

/** A sealed segment's name: `audit.log.<first seq>`, with a suffix only if that name was taken. */
const SEALED = /^audit\.log\.(\d{1,15})(?:\.(\d{1,15}))?$/;

/** The first seq a sealed segment's name says it starts at; null for a name that is not a segment's. */
export function sealedSegmentStart(name: string): number | null {
  const match = SEALED.exec(name);
  return match ? Number(match[1]) : null;
}

/** The name a sealed segment starting at `firstSeq` is given. */
export function sealedSegmentName(firstSeq: number): string {
  return `${AUDIT_LOG_FILE}.${firstSeq}`;
}

/** The segment names among `names` (a directory's listing), oldest first, the live one last. */
export function orderSegments(names: readonly string[]): string[] {
  const sealed = names
    .map((name) => ({ name, start: sealedSegmentStart(name) }))
    .filter((entry): entry is { name: string; start: number } => entry.start !== null)
    .sort((a, b) => a.start - b.start || a.name.localeCompare(b.name))
    .map((entry) => entry.name);
  return names.includes(AUDIT_LOG_FILE) ? [...sealed, AUDIT_LOG_FILE] : sealed;
}

/**
 * What a drop entry's target says: `entries 1 to 812 dropped (audit.log.1), last hash <hex>`.
 * The last dropped entry's hash is in the (hashed) target so verify can check the kept chain's
 * first entry is chained to exactly it: otherwise the oldest kept entries could be deleted
 * with no hash computed (the hash does not cover seq). Older runtimes wrote no hash.
 */
export function dropTarget(from: number, through: number, name: string, lastHash: string | null): string {
  return `entries ${from} to ${through} dropped (${name})${lastHash === null ? '' : `, last hash ${lastHash}`}`;
}

const DROPPED = /^entries (\d{1,15}) to (\d{1,15}) dropped\b(?:.*, last hash ([0-9a-f]{64})$)?/;

/** The last entry a drop entry says was dropped, and its hash where recorded; null for any other entry. */
function droppedThrough(row: AuditRow): { through: number; lastHash: string | null } | null {
  if (row.method !== DROP_METHOD || row.actor !== 'runtime' || row.target === null) return null;
  const match = DROPPED.exec(row.target);
  return match ? { through: Number(match[2]), lastHash: match[3] ?? null } : null;
}

/** Where the kept chain starts when the oldest segments were dropped by the keep cap. */
export interface KeptChainStart {
  /** The first entry kept. */
  firstSeq: number;
  /** The hash it is chained to: the last entry of the dropped segments. */
  prevHash: string;
  /** The entry that recorded the drop. */
  recordedAt: number;
  /** An anchor older than the kept chain: it was dropped and cannot be checked. */
  anchorDropped: boolean;
  message: string;
}

export interface SegmentsVerification extends AuditVerification {
  /** Null while the chain starts at entry 1. */
  kept: KeptChainStart | null;
  segments: number;
}

/**
 * Verifies the segments as one chain (verifyAuditRows): every entry against its hash and
 * the one before, across segment boundaries; a line that is not an entry is an edit where it
 * stands (named by segment and line). A chain that starts after entry 1 must be accounted for
 * by a drop entry in it; otherwise the first entries were removed.
 */
export function verifyAuditSegments(segments: ReadonlyArray<{ name: string; text: string }>, anchor?: AuditAnchor): SegmentsVerification {
  const rows: AuditRow[] = [];
  let lines = 0;
  for (const segment of segments) {
    const texts = segment.text.split('\n');
    if (texts.at(-1) === '') texts.pop();
    for (const [index, text] of texts.entries()) {
      lines += 1;
      const row = parseAuditRow(text);
      if (row === null) {
        const before = rows.reduce((max, r) => Math.max(max, r.seq), 0);
        const head = rows.find((r) => r.seq === before);
        return {
          entries: lines,
          head: head ? { seq: head.seq, hash: head.hash } : null,
          broken: {
            seq: before + 1,
            kind: 'edited',
            message: `Line ${index + 1} of ${segment.name} is not an entry (cut short or edited), where entry ${before + 1} stands.`,
          },
          kept: null,
          segments: segments.length,
        };
      }
      rows.push(row);
    }
  }
  // The record is each entry's seq and the chain, not which file or line holds it.
  rows.sort((a, b) => a.seq - b.seq);
  const bySeq = new Map(rows.map((row) => [row.seq, row]));
  const first = rows[0];
  const start = first !== undefined && first.seq > 1 ? { seq: first.seq, prevHash: first.prevHash } : undefined;
  const anchorKept = anchor !== undefined && (start === undefined || anchor.seq >= start.seq);
  const result = verifyAuditRows({
    rows,
    highestSeq: rows.at(-1)?.seq ?? 0,
    seqOfHash: (h) => rows.find((row) => row.hash === h)?.seq ?? null,
    rowAt: (s) => bySeq.get(s) ?? null,
    ...(start !== undefined ? { start } : {}),
    ...(anchor !== undefined && anchorKept ? { anchor } : {}),
  });
  if (start === undefined || result.broken !== null) return { ...result, kept: null, segments: segments.length };
  const drops = rows
    .map((row) => ({ row, said: droppedThrough(row) }))
    .filter((drop): drop is { row: AuditRow; said: { through: number; lastHash: string | null } } => drop.said !== null)
    .map((drop) => ({ row: drop.row, through: drop.said.through, lastHash: drop.said.lastHash }));
  // The drop must end exactly before the kept chain and name the hash its first entry is chained to:
  // a drop that says more (or another hash) leaves the oldest kept entries deletable unseen.
  const covering = drops
    .filter(
      (drop) =>
        drop.through === start.seq - 1 && drop.row.seq > drop.through && (drop.lastHash === null || drop.lastHash === start.prevHash),
    )
    .at(-1);
  const mismatched =
    covering === undefined ? drops.filter((drop) => drop.row.seq > drop.through && drop.through >= start.seq - 1).at(-1) : undefined;
  if (mismatched !== undefined) {
    return {
      ...result,
      broken: {
        seq: start.seq,
        kind: 'removed',
        message: `The oldest entries kept were removed: entry ${start.seq} is the first kept, but the drop recorded at entry ${mismatched.row.seq} says entries through ${mismatched.through} were dropped${mismatched.lastHash === null ? '' : `, the last with hash ${mismatched.lastHash}`}, and entry ${start.seq} is chained to ${start.prevHash}.`,
      },
      kept: null,
      segments: segments.length,
    };
  }
  if (covering === undefined) {
    const from = Math.max(0, ...drops.map((drop) => drop.through).filter((through) => through < start.seq)) + 1;
    return {
      ...result,
      broken: {
        seq: from,
        kind: 'removed',
        message:
          from === start.seq - 1
            ? `Entry ${from} was removed: the oldest segment kept starts at entry ${start.seq}, and no entry records its drop.`
            : `Entries ${from} to ${start.seq - 1} were removed: the oldest segment kept starts at entry ${start.seq}, and no entry records their drop.`,
      },
      kept: null,
      segments: segments.length,
    };
  }
  const anchorDropped = anchor !== undefined && !anchorKept;
  // An anchor older than the kept chain proves nothing: whoever can delete the segments up to
  // it and append one chained drop entry could rewrite everything after it. Not verified is a failure.
  const unverified =
    anchor !== undefined && anchorDropped
      ? {
          seq: anchor.seq,
          kind: 'removed' as const,
          message: `NOT verified against your anchor: entry ${anchor.seq} is older than the oldest entry kept (entry ${start.seq}), so the log cannot be checked against it. A drop by the keep cap and a deletion by hand look the same here; compare with a copy you trust, and write down a newer entry next time.`,
        }
      : null;
  return {
    ...result,
    ...(unverified !== null ? { broken: unverified } : {}),
    kept: {
      firstSeq: start.seq,
      prevHash: start.prevHash,
      recordedAt: covering.row.seq,
      anchorDropped,
      message:
        `The kept chain starts at entry ${start.seq}, chained to ${start.prevHash}: the entries before it were dropped by the keep cap (recorded at entry ${covering.row.seq}).` +
        (anchorDropped
          ? ` Your anchor, entry ${anchor.seq}, was among them: it can no longer be checked; write down the newest entry instead.`
          : ''),
    },
    segments: segments.length,
  };
}

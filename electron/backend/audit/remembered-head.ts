import type { SegmentsVerification } from '../../../agents-runtime/src/wire';
import type { ApiErrorBody, AuditVerification, RememberedHead } from '../../contract';
import type { HostAuditHead, RuntimeIdentity } from '../store/host-audit-heads-repo';

/**
 * The implicit anchor (issue 14, item 6): the newest entry of a host's runtime log that the
 * control center last found intact. A chain that verifies by itself proves nothing about its
 * end: cutting off the newest entries (or the newest segment with the drops it recorded) leaves
 * a shorter chain just as whole. So every later read must still hold that entry, same seq and
 * same hash, or have been the last entry of the segments the runtime dropped (the keep cap),
 * the kept chain chained to its hash; otherwise the log was cut off (AUDIT_HOST_TRUNCATED),
 * entries after it were dropped before this control center saw them (AUDIT_HOST_UNSEEN_DROPPED),
 * or another runtime's fresh log stands there (AUDIT_HOST_RUNTIME_REPLACED). Only an admin's
 * accepted reset takes such a log.
 */
export interface RememberedHeadCheck {
  /** What was remembered, and how the log stands to it; null when nothing was. */
  remembered: RememberedHead | null;
  /** Where the log breaks against it (`broken` of the verification); null when it holds. */
  broken: AuditVerification['broken'];
  error: ApiErrorBody | null;
}

type Break = NonNullable<AuditVerification['broken']>;

export function checkRememberedHead(input: {
  host: string;
  remembered: HostAuditHead | null;
  identity: RuntimeIdentity;
  verification: Pick<SegmentsVerification, 'head' | 'broken' | 'kept'>;
  /** The hash of the entry at `seq` in the log read, or null when it holds none. */
  hashAt(seq: number): string | null;
}): RememberedHeadCheck {
  const { remembered, verification, identity, host } = input;
  if (remembered === null) return { remembered: null, broken: null, error: null };
  const view = (standing: RememberedHead['standing']) => rememberedView(remembered, standing);
  // A chain broken by itself is said as such; the remembered head is checked once it is whole.
  if (verification.broken !== null) return { remembered: view('unchecked'), broken: null, error: null };
  const { kept, head } = verification;
  const seen = `the control center found entry ${remembered.seq} (hash ${remembered.hash}) there on ${new Date(remembered.verifiedAt).toISOString()} (${remembered.verifiedBy})`;
  let standing: RememberedHead['standing'];
  let broken: Break | null = null;
  let code: 'AUDIT_HOST_TRUNCATED' | 'AUDIT_HOST_UNSEEN_DROPPED' = 'AUDIT_HOST_TRUNCATED';
  if (kept !== null && remembered.seq < kept.firstSeq) {
    // Dropped by the keep cap, as the drop entry in the chain (checked by verifyAuditSegments) says. That accounts for
    // it only where the drop the kept chain starts after ends exactly at it: the first kept entry is then chained to
    // its very hash, and every entry dropped was one this control center saw. A drop ending later took entries it never
    // saw, and root on the host can write such a drop by hand over an empty log (one line, chained to any hash it likes):
    // an older drop entry naming the remembered hash proves nothing either, its text is not a link of the chain.
    if (remembered.seq === kept.firstSeq - 1 && kept.prevHash !== remembered.hash) {
      standing = 'rewritten';
      broken = {
        seq: remembered.seq,
        kind: 'edited',
        message: `Entry ${remembered.seq} is not the one ${seen}: the kept chain starts at entry ${kept.firstSeq}, chained to ${kept.prevHash}. The log was cut off and written again from there.`,
      };
    } else if (remembered.seq === kept.firstSeq - 1) standing = 'dropped';
    else {
      standing = 'dropped-unseen';
      code = 'AUDIT_HOST_UNSEEN_DROPPED';
      const from = remembered.seq + 1;
      const through = kept.firstSeq - 1;
      broken = {
        seq: from,
        kind: 'removed',
        message:
          (from === through
            ? `Entry ${from} was dropped on the host before this control center saw it`
            : `Entries ${from} to ${through} were dropped on the host before this control center saw them`) +
          `: ${seen}, and the kept chain starts at entry ${kept.firstSeq} (the drop is recorded at entry ${kept.recordedAt}). A drop by the keep cap and a deletion by hand followed by a drop entry written by hand look the same here.`,
      };
    }
  } else {
    const hash = input.hashAt(remembered.seq);
    if (hash === remembered.hash) standing = 'held';
    else if (hash === null) {
      standing = 'missing';
      const from = (head?.seq ?? 0) + 1;
      broken = {
        seq: from,
        kind: 'removed',
        message:
          (from === remembered.seq
            ? `Entry ${from} was cut off the end of the log`
            : `Entries ${from} to ${remembered.seq} (at least) were cut off the end of the log`) +
          `: ${seen}, and ${head === null ? 'the log holds no entry now' : `the newest entry now is ${head.seq}`}.`,
      };
    } else {
      standing = 'rewritten';
      broken = {
        seq: remembered.seq,
        kind: 'edited',
        message: `Entry ${remembered.seq} now has hash ${hash}, not the one ${seen}: the entries up to it were cut off and others written in their place.`,
      };
    }
  }
  if (broken === null) return { remembered: view(standing), broken: null, error: null };
  // What an admin names to accept the log as it is now: its newest entry (an empty log has none to name yet).
  const newest = head === null ? null : `${head.seq}:${head.hash}`;
  const emptyNote = newest === null ? ' It holds no entry yet: accept it once the runtime has logged one.' : '';
  const replaced =
    remembered.installId !== identity.installId ||
    remembered.installCaSerial !== identity.installCaSerial ||
    remembered.stateDir !== identity.stateDir;
  if (replaced) {
    return {
      remembered: view('replaced'),
      broken,
      error: {
        code: 'AUDIT_HOST_RUNTIME_REPLACED',
        message: `The runtime on ${host} is not the one whose log the control center verified before (install ${remembered.installName}, ${remembered.stateDir}); it is install ${identity.installName}'s, in ${identity.stateDir}, and its log does not hold the entry remembered: ${broken.message}`,
        remedy: `If the runtime was reinstalled on purpose, an admin accepts its new log on the Audit page (Runtime audit logs on hosts: Accept this log as a new start); that is recorded in the audit log.${emptyNote} Otherwise keep the files on ${host} as evidence and find out who changed them.`,
        cliRemedy: `If the runtime was reinstalled on purpose, an admin accepts its new log: \`sutazai audit accept-reset --host ${host} --anchor ${newest ?? 'SEQ:HASH'}\` (recorded in the audit log).${emptyNote} Otherwise keep the files on ${host} as evidence and find out who changed them.`,
      },
    };
  }
  if (code === 'AUDIT_HOST_UNSEEN_DROPPED')
    return {
      remembered: view(standing),
      broken,
      error: {
        code,
        message: `The runtime's audit log on ${host} cannot be checked against the newest entry the control center last found intact: ${broken.message}`,
        remedy: `Verify this host's log more often than its runtime drops segments (runtime.audit.max_file_bytes and keep_files), so that every entry is seen before it is dropped. Compare the dropped entries with a copy you trust if you have one; only then may an admin accept the log as it is now (Accept this log as a new start, below); that is recorded in the audit log.`,
        cliRemedy: `Verify this host's log more often than its runtime drops segments (runtime.audit.max_file_bytes and keep_files), so that every entry is seen before it is dropped. Compare the dropped entries with a copy you trust if you have one; only then may an admin accept the log as it is now: \`sutazai audit accept-reset --host ${host} --anchor ${newest ?? 'SEQ:HASH'}\` (recorded in the audit log).`,
      },
    };
  return {
    remembered: view(standing),
    broken,
    error: {
      code: 'AUDIT_HOST_TRUNCATED',
      message: `The runtime's audit log on ${host} no longer holds the newest entry the control center last found intact: ${broken.message}`,
      remedy: `Someone who could write the log on ${host} (root or the runtime's user) removed entries. Keep its files as evidence and find out who. Only once you know why may an admin accept the log as it is now (Accept this log as a new start, below); that is recorded in the audit log.${emptyNote}`,
      cliRemedy: `Someone who could write the log on ${host} (root or the runtime's user) removed entries. Keep its files as evidence and find out who. Only once you know why may an admin accept the log as it is now: \`sutazai audit accept-reset --host ${host} --anchor ${newest ?? 'SEQ:HASH'}\` (recorded in the audit log).${emptyNote}`,
    },
  };
}

/** What was remembered as the log read now stands to it, for an accepted reset's answer. */
export function rememberedView(remembered: HostAuditHead, standing: RememberedHead['standing']): RememberedHead {
  return {
    seq: remembered.seq,
    hash: remembered.hash,
    atMs: remembered.verifiedAt,
    by: remembered.verifiedBy,
    install: remembered.installName,
    stateDir: remembered.stateDir,
    accepted: remembered.acceptedAt !== null ? { atMs: remembered.acceptedAt, by: remembered.acceptedBy ?? '' } : null,
    standing,
  };
}

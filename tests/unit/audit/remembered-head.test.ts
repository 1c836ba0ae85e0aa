// The implicit anchor of a host's runtime audit log (issue 14, item 6): the head the control
// center last found intact must still be in the log read later (same seq, same hash) or have
// been dropped by the keep cap as a drop entry records; a log cut off at its end (or cut off and
// appended to again), or another runtime's fresh log, fails with its code. Real logs written by
// the runtime's own appender in a temporary directory, and the head kept in a real SQLite store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditHash, type AuditFields } from '../../../agents-runtime/src/audit/audit-chain';
import { AUDIT_LOG_FILE, openAuditFile, readAuditSegments, type AuditLimits } from '../../../agents-runtime/src/audit/audit-file';
import { DROP_METHOD, dropTarget, orderSegments, verifyAuditSegments } from '../../../agents-runtime/src/audit/audit-segments';
import { parseAuditRow } from '../../../agents-runtime/src/audit/audit-text';
import { checkRememberedHead } from '../../../electron/backend/audit/remembered-head';
import {
  createHostAuditHeadsRepo,
  type HostAuditHeadsRepo,
  type RuntimeIdentity,
} from '../../../electron/backend/store/host-audit-heads-repo';
import { openMemoryStore } from '../../support/memory-store';

let dir = '';
let db: Database.Database;
let heads: HostAuditHeadsRepo;
let hostId = 0;
const file = () => path.join(dir, AUDIT_LOG_FILE);
const RUNTIME: RuntimeIdentity = { installId: 1, installName: 'prod', installCaSerial: '4f1c', stateDir: '/var/lib/sutazai' };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-remembered-head-'));
  db = openMemoryStore();
  heads = createHostAuditHeadsRepo(db);
  hostId = Number(
    db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('db-2', 'ssh', '198.18.0.2', 1)").run().lastInsertRowid,
  );
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (i: number): AuditFields => ({
  atMs: 1_700_000_000_000 + i,
  operator: 'alice',
  actor: 'certificate:operator',
  peer: '127.0.0.1:5000',
  action: 'control',
  method: 'RestartProcess',
  target: `process agent-${i}`,
  outcome: 'ok',
});

const ONE_FILE: AuditLimits = { maxFileBytes: 64 * 1024 * 1024, keepFiles: 6 };
// About 300 bytes an entry: 4 KiB holds 13; two sealed segments kept, the oldest dropped after an entry saying so.
const SMALL: AuditLimits = { maxFileBytes: 4096, keepFiles: 2 };

function append(count: number, limits: AuditLimits, from: number): void {
  const log = openAuditFile(file(), limits);
  try {
    for (let i = from; i < from + count; i += 1) log.append(call(i));
  } finally {
    log.close();
  }
}

/** The log as the control center reads it (every segment), verified, then checked against the head remembered of the host. */
function read(identity: RuntimeIdentity = RUNTIME) {
  const segments = readAuditSegments(file());
  const verification = verifyAuditSegments(segments);
  const hashes = new Map(
    segments.flatMap((segment) => segment.text.split('\n').flatMap((line) => parseAuditRow(line) ?? [])).map((row) => [row.seq, row.hash]),
  );
  const check = checkRememberedHead({
    host: 'db-2',
    remembered: heads.get(hostId),
    identity,
    verification,
    hashAt: (seq) => hashes.get(seq) ?? null,
  });
  // As the control center does: an intact read that holds the remembered head advances it.
  if (verification.broken === null && check.broken === null && verification.head !== null)
    heads.advance(hostId, identity, verification.head, 'alice (desktop)', 1_800_000_000_000);
  return { verification, check };
}

const cutNewestLines = (name: string, n: number) => {
  const lines = fs.readFileSync(path.join(dir, name), 'utf8').trimEnd().split('\n');
  fs.writeFileSync(
    path.join(dir, name),
    lines
      .slice(0, -n)
      .map((line) => `${line}\n`)
      .join(''),
  );
};

describe('the head remembered of a host’s runtime audit log', () => {
  it('is taken at the first intact read, and advanced by each later one that still holds it', () => {
    append(5, ONE_FILE, 1);
    expect(read().check).toEqual({ remembered: null, broken: null, error: null });
    expect(heads.get(hostId)).toMatchObject({ seq: 5, verifiedBy: 'alice (desktop)', installName: 'prod' });
    append(3, ONE_FILE, 6);
    expect(read().check).toMatchObject({ remembered: { seq: 5, standing: 'held' }, broken: null, error: null });
    expect(heads.get(hostId)).toMatchObject({ seq: 8 });
  });

  it('finds the newest entries cut off the end, which the chain alone cannot', () => {
    append(8, ONE_FILE, 1);
    read();
    cutNewestLines(AUDIT_LOG_FILE, 3);
    const { verification, check } = read();
    // The shorter chain is whole by itself: only the remembered head tells.
    expect(verification.broken).toBeNull();
    expect(check.remembered).toMatchObject({ seq: 8, standing: 'missing' });
    expect(check.broken).toMatchObject({ seq: 6, kind: 'removed' });
    expect(check.broken!.message).toContain('Entries 6 to 8 (at least) were cut off the end of the log');
    expect(check.error).toMatchObject({ code: 'AUDIT_HOST_TRUNCATED' });
    expect(check.error!.cliRemedy).toContain('sutazai audit accept-reset --host db-2 --anchor 5:');
    // Not advanced: the next read finds the same.
    expect(heads.get(hostId)).toMatchObject({ seq: 8 });
    expect(read().check.error).toMatchObject({ code: 'AUDIT_HOST_TRUNCATED' });
  });

  it('finds every entry cut off, and says an empty log can be accepted only once it has an entry', () => {
    append(4, ONE_FILE, 1);
    read();
    fs.writeFileSync(file(), '');
    const { verification, check } = read();
    expect(verification).toMatchObject({ head: null, broken: null });
    expect(check.broken).toMatchObject({ seq: 1, kind: 'removed' });
    expect(check.broken!.message).toContain('the log holds no entry now');
    expect(check.error!.remedy).toContain('It holds no entry yet: accept it once the runtime has logged one.');
  });

  it('finds entries cut off and others appended in their place (same seq, another hash)', () => {
    append(8, ONE_FILE, 1);
    read();
    cutNewestLines(AUDIT_LOG_FILE, 3);
    // The runtime appends on from the file's last entry: seq 6 to 9, chained on, whole by themselves.
    append(4, ONE_FILE, 100);
    const { verification, check } = read();
    expect(verification.broken).toBeNull();
    expect(verification.head?.seq).toBe(9);
    expect(check.remembered).toMatchObject({ seq: 8, standing: 'rewritten' });
    expect(check.broken).toMatchObject({ seq: 8, kind: 'edited' });
    expect(check.error?.code).toBe('AUDIT_HOST_TRUNCATED');
  });

  /** Reads after every entry appended until the live file is sealed: the head remembered is then the last entry of a sealed segment. */
  function rememberSegmentEnd(limits: AuditLimits): number {
    for (let i = 1; i < 200; i += 1) {
      read();
      const sealedBefore = fs.readdirSync(dir).length;
      append(1, limits, 1000 + i);
      if (fs.readdirSync(dir).length > sealedBefore) return heads.get(hostId)!.seq;
    }
    throw new Error('the live file was never sealed');
  }

  /** Appends one entry at a time, unread, until the kept chain starts at `firstSeq` (the runtime's drops). */
  function appendUntilKeptFrom(firstSeq: number, limits: AuditLimits): void {
    for (let i = 0; i < 400; i += 1) {
      const kept = verifyAuditSegments(readAuditSegments(file())).kept;
      if (kept !== null && kept.firstSeq >= firstSeq) {
        expect(kept.firstSeq).toBe(firstSeq);
        return;
      }
      append(1, limits, 2000 + i);
    }
    throw new Error(`the kept chain never started at ${firstSeq}`);
  }

  it('takes a head dropped by the keep cap where the drop ends exactly at it (every entry dropped was seen here)', () => {
    append(10, SMALL, 1);
    const remembered = rememberSegmentEnd(SMALL);
    const hash = heads.get(hostId)!.hash;
    // More entries, unread: the runtime seals on and drops the segments up to and including the one ending at the head.
    appendUntilKeptFrom(remembered + 1, SMALL);
    const later = read();
    expect(later.verification.broken).toBeNull();
    expect(later.verification.kept).toMatchObject({ firstSeq: remembered + 1, prevHash: hash });
    expect(later.check).toMatchObject({ remembered: { seq: remembered, standing: 'dropped' }, broken: null, error: null });
    expect(heads.get(hostId)!.seq).toBe(later.verification.head!.seq);
  });

  it('finds entries after the head dropped by the keep cap before this control center saw them, and holds the head', () => {
    append(10, SMALL, 1);
    const remembered = rememberSegmentEnd(SMALL);
    // Past the drop that ends at the head: the next one drops entries never read here.
    appendUntilKeptFrom(remembered + 1, SMALL);
    const cap = verifyAuditSegments(readAuditSegments(file())).head!.seq;
    append(60, SMALL, 3000);
    const later = read();
    const firstKept = later.verification.kept!.firstSeq;
    expect(firstKept).toBeGreaterThan(remembered + 1);
    expect(firstKept).toBeGreaterThan(cap);
    expect(later.verification.broken).toBeNull();
    expect(later.check.remembered).toMatchObject({ seq: remembered, standing: 'dropped-unseen' });
    expect(later.check.broken).toMatchObject({ seq: remembered + 1, kind: 'removed' });
    expect(later.check.broken!.message).toContain(
      `Entries ${remembered + 1} to ${firstKept - 1} were dropped on the host before this control center saw them`,
    );
    expect(later.check.error).toMatchObject({ code: 'AUDIT_HOST_UNSEEN_DROPPED' });
    expect(later.check.error!.remedy).toContain("Verify this host's log more often than its runtime drops segments");
    expect(later.check.error!.cliRemedy).toContain(`sutazai audit accept-reset --host db-2 --anchor ${later.verification.head!.seq}:`);
    // Not advanced, and the next read says the same.
    expect(heads.get(hostId)!.seq).toBe(remembered);
    expect(read().check.error?.code).toBe('AUDIT_HOST_UNSEEN_DROPPED');
  });

  /** The one line root writes over an empty log: entry `seq`, a drop of entries 1 to seq - 1 ending at `lastHash`, chained to `prevHash`. */
  function forgeDrop(seq: number, lastHash: string, prevHash: string): void {
    for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name));
    const fields: AuditFields = {
      atMs: 1_700_000_100_000,
      operator: null,
      actor: 'runtime',
      peer: 'local',
      action: 'audit',
      method: DROP_METHOD,
      target: dropTarget(1, seq - 1, 'audit.log.1', lastHash),
      outcome: 'ok',
    };
    fs.writeFileSync(file(), `${JSON.stringify({ seq, ...fields, prevHash, hash: auditHash(fields, prevHash) })}\n`);
  }

  it('is not laundered by a drop entry written by hand over an emptied log that ends past it', () => {
    append(5, ONE_FILE, 1);
    read();
    const remembered = heads.get(hostId)!;
    // Entries 6 to 9 written, never read here; then root deletes every segment and writes one drop of 1 to 9.
    append(4, ONE_FILE, 6);
    const x = verifyAuditSegments(readAuditSegments(file())).head!.hash;
    forgeDrop(10, x, x);
    const { verification, check } = read();
    // Whole by itself: the chain alone cannot tell it from a rotation.
    expect(verification).toMatchObject({ broken: null, kept: { firstSeq: 10, prevHash: x }, head: { seq: 10 } });
    expect(check.remembered).toMatchObject({ seq: 5, standing: 'dropped-unseen' });
    expect(check.error?.code).toBe('AUDIT_HOST_UNSEEN_DROPPED');
    expect(check.broken!.message).toContain('Entries 6 to 9 were dropped on the host before this control center saw them');
    expect(heads.get(hostId)).toMatchObject({ seq: 5, hash: remembered.hash });
  });

  it('takes a drop written by hand that ends at the head and is chained to its hash: nothing unseen is gone', () => {
    append(8, ONE_FILE, 1);
    read();
    const h = heads.get(hostId)!.hash;
    // Root drops entries 1 to 8, all of which were read here, and goes on from entry 8's hash: as a rotation would.
    forgeDrop(9, h, h);
    expect(read().check).toMatchObject({ remembered: { seq: 8, standing: 'dropped' }, broken: null, error: null });
    expect(heads.get(hostId)?.seq).toBe(9);
  });

  it('finds the newest sealed segment and the live file removed, which leave a whole chain that ends too early', () => {
    append(45, { maxFileBytes: 4096, keepFiles: 100 }, 1);
    read();
    const head = heads.get(hostId)!;
    const sealed = orderSegments(fs.readdirSync(dir)).filter((name) => name !== AUDIT_LOG_FILE);
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    fs.rmSync(path.join(dir, sealed.at(-1)!));
    fs.rmSync(file());
    const cut = read();
    expect(cut.verification.broken).toBeNull();
    expect(cut.check.remembered).toMatchObject({ seq: head.seq, standing: 'missing' });
    expect(cut.check.error?.code).toBe('AUDIT_HOST_TRUNCATED');
    expect(cut.check.broken).toMatchObject({ seq: cut.verification.head!.seq + 1, kind: 'removed' });
  });

  it('says another runtime stands there when its fresh log lacks the head, and takes an accepted reset', () => {
    append(8, ONE_FILE, 1);
    read();
    fs.rmSync(file());
    append(2, ONE_FILE, 500);
    // Removed and installed again under the same name: SQLite gives the new install the same id; its CA is new.
    const reinstalled: RuntimeIdentity = { installId: 1, installName: 'prod', installCaSerial: '7a02', stateDir: '/var/lib/sutazai' };
    const { check } = read(reinstalled);
    expect(check.remembered).toMatchObject({ seq: 8, standing: 'replaced', install: 'prod' });
    expect(check.error?.code).toBe('AUDIT_HOST_RUNTIME_REPLACED');
    expect(check.broken).toMatchObject({ seq: 3, kind: 'removed' });
    // Never on its own: still refused on the next read.
    expect(read(reinstalled).check.error?.code).toBe('AUDIT_HOST_RUNTIME_REPLACED');
    // An admin's accepted reset takes the fresh log's head; then it passes and advances.
    heads.accept(
      hostId,
      reinstalled,
      { seq: 2, hash: read(reinstalled).verification.head!.hash },
      'root-admin (cli:ops)',
      1_900_000_000_000,
    );
    expect(heads.get(hostId)).toMatchObject({
      seq: 2,
      installCaSerial: '7a02',
      acceptedBy: 'root-admin (cli:ops)',
      acceptedAt: 1_900_000_000_000,
    });
    append(1, ONE_FILE, 600);
    expect(read(reinstalled).check).toMatchObject({
      remembered: { seq: 2, standing: 'held', accepted: { by: 'root-admin (cli:ops)' } },
      error: null,
    });
    expect(heads.get(hostId)?.seq).toBe(3);
  });

  it('never moves the head back when an older read finishes after a newer one', () => {
    expect(heads.advance(hostId, RUNTIME, { seq: 9, hash: 'a'.repeat(64) }, 'a', 1)).toBe(true);
    expect(heads.advance(hostId, RUNTIME, { seq: 7, hash: 'b'.repeat(64) }, 'b', 2)).toBe(false);
    expect(heads.get(hostId)).toMatchObject({ seq: 9, hash: 'a'.repeat(64), verifiedBy: 'a' });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from '../../../electron/backend/audit/audit-log';
import { auditHash, type AuditFields } from '../../../agents-runtime/src/audit/audit-chain';
import { createHostKeysRepo } from '../../../electron/backend/store/host-keys-repo';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { addStandInHost } from '../../support/stand-in-rows';
import { makeTempDir } from '../../support/temp-dir';

/**
 * The audit log in a real SQLite file: appended entries chain; the table refuses changes;
 * and an attacker with the file (who drops the triggers first) cannot edit, remove or
 * reorder an entry without `verify` naming the first one touched.
 */

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let audit: AuditLog;

function entry(n: number, overrides: Partial<AuditFields> = {}): AuditFields {
  return {
    atMs: 1_700_000_000_000 + n * 1000,
    operator: null,
    actor: 'cli:ops',
    peer: 'cli',
    action: 'control',
    method: 'fleet.restart',
    target: `host db-${n}, process agent`,
    outcome: 'ok',
    ...overrides,
  };
}

function appendSix(): void {
  for (let n = 1; n <= 6; n++) audit.append(entry(n));
}

/** What someone with write access to the file does first. */
function dropTriggers(): void {
  store.db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
}

beforeEach(() => {
  dir = makeTempDir('sutazai-audit-');
  store = openStore({ dataDir: dir.path });
  audit = createAuditLog(store.db);
});
afterEach(() => {
  store.close();
  dir.remove();
});

describe('the audit log', () => {
  it('numbers entries 1, 2, 3, chains each to the one before, and verifies an untouched log', () => {
    expect(audit.verify()).toEqual({ entries: 0, head: null, broken: null });
    appendSix();
    const { entries } = audit.list({ order: 'oldest', limit: 50 });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries[0]!.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(new Set(entries.map((e) => e.hash)).size).toBe(6);
    expect(audit.verify()).toEqual({ entries: 6, head: { seq: 6, hash: entries[5]!.hash }, broken: null });
    // An anchor written down earlier still matches.
    expect(audit.verify({ seq: 3, hash: entries[2]!.hash }).broken).toBeNull();
  });

  it('refuses to change or remove an entry (triggers)', () => {
    appendSix();
    expect(() => store.db.prepare("UPDATE audit_log SET outcome = 'ACCESS_DENIED' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(audit.verify().broken).toBeNull();
  });

  it('names an edited entry', () => {
    appendSix();
    dropTriggers();
    store.db.prepare("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = 4").run();
    expect(audit.verify().broken).toMatchObject({ seq: 4, kind: 'edited', message: expect.stringContaining('Entry 4 was edited') });
  });

  it('names an entry rewritten with its hash computed again (the next one no longer follows it)', () => {
    appendSix();
    const original = audit.list({ order: 'oldest', limit: 50 }).entries[2]!;
    dropTriggers();
    // The attacker knows the encoding: entry 3 gets a new outcome and a matching hash.
    const fields = { ...entry(3), outcome: 'ACCESS_DENIED' };
    store.db.prepare('UPDATE audit_log SET outcome = ?, hash = ? WHERE seq = 3').run('ACCESS_DENIED', auditHash(fields, original.prevHash));
    expect(audit.verify().broken).toMatchObject({ seq: 3, kind: 'edited', message: expect.stringContaining('Entry 3 is not the entry') });
  });

  it('names a removed entry in the middle, and the newest ones removed from the end', () => {
    appendSix();
    dropTriggers();
    store.db.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    expect(audit.verify().broken).toMatchObject({ seq: 3, kind: 'removed', message: expect.stringContaining('Entry 3 was removed') });

    const tail = makeTempDir('sutazai-audit-tail-');
    const other = openStore({ dataDir: tail.path });
    try {
      const log = createAuditLog(other.db);
      for (let n = 1; n <= 6; n++) log.append(entry(n));
      other.db.exec('DROP TRIGGER audit_log_no_delete');
      other.db.prepare('DELETE FROM audit_log WHERE seq >= 5').run();
      expect(log.verify()).toMatchObject({ entries: 4, broken: { seq: 5, kind: 'removed' } });
      expect(log.verify().broken!.message).toContain('Entries 5 to 6');
      // Appending afterwards does not hide it: the next entry is 7, after a gap.
      log.append(entry(7));
      expect(log.verify().broken).toMatchObject({ seq: 5, kind: 'removed' });
    } finally {
      other.close();
      tail.remove();
    }
  });

  it('names reordered entries', () => {
    appendSix();
    dropTriggers();
    // Entries 4 and 5 swap places (their seqs), each keeping its own fields and hashes.
    store.db.exec(
      'UPDATE audit_log SET seq = 100 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 100;',
    );
    expect(audit.verify().broken).toMatchObject({
      seq: 4,
      kind: 'reordered',
      message: 'Entry 4 was appended after entry 5, not after entry 3: the entries were reordered.',
    });
  });

  it('names an anchor that is gone or changed', () => {
    appendSix();
    const sixth = audit.list({ order: 'newest', limit: 1 }).entries[0]!;
    expect(audit.verify({ seq: 6, hash: 'f'.repeat(64) }).broken).toMatchObject({ seq: 6, kind: 'edited' });
    expect(audit.verify({ seq: 9, hash: sixth.hash }).broken).toMatchObject({ seq: 9, kind: 'removed' });
  });

  it('keeps one chain when two connections (the app and a command) append in turn', () => {
    const second = openStore({ dataDir: dir.path });
    try {
      const other = createAuditLog(second.db);
      for (let n = 1; n <= 10; n++) (n % 2 === 0 ? other : audit).append(entry(n, { actor: n % 2 === 0 ? 'cli:bob' : 'desktop' }));
      expect(audit.verify()).toMatchObject({ entries: 10, broken: null });
      expect(other.list({ order: 'oldest', limit: 50 }).entries.map((e) => e.actor)).toEqual(
        Array.from({ length: 10 }, (_, i) => ((i + 1) % 2 === 0 ? 'cli:bob' : 'desktop')),
      );
    } finally {
      second.close();
    }
  });

  it('filters by who, action, target, outcome and time, and pages both ways', () => {
    audit.append(entry(1, { operator: 'alice', actor: 'web:s1' }));
    audit.append(entry(2, { action: 'manage-hosts', method: 'hosts.remove', target: 'host db_2' }));
    audit.append(entry(3, { outcome: 'SECRETS_LOCKED', operator: 'bob', actor: 'web:s2' }));
    audit.append(entry(4, { outcome: 'FLEET_LINK_DOWN' }));
    const seqs = (params: Parameters<AuditLog['list']>[0]) => audit.list(params).entries.map((e) => e.seq);
    expect(seqs({ order: 'newest', limit: 50 })).toEqual([4, 3, 2, 1]);
    expect(seqs({ who: 'alice', order: 'newest', limit: 50 })).toEqual([1]);
    expect(seqs({ who: 'web:', order: 'newest', limit: 50 })).toEqual([3, 1]);
    expect(seqs({ action: 'manage-hosts', order: 'newest', limit: 50 })).toEqual([2]);
    // `_` is a character here, not LIKE's wildcard.
    expect(seqs({ target: 'db_2', order: 'newest', limit: 50 })).toEqual([2]);
    expect(seqs({ target: 'db-', order: 'newest', limit: 50 })).toEqual([4, 3, 1]);
    expect(seqs({ outcome: 'error', order: 'newest', limit: 50 })).toEqual([4, 3]);
    expect(seqs({ outcome: 'SECRETS_LOCKED', order: 'newest', limit: 50 })).toEqual([3]);
    expect(seqs({ outcome: 'ok', order: 'newest', limit: 50 })).toEqual([2, 1]);
    expect(seqs({ fromMs: entry(2).atMs, toMs: entry(4).atMs, order: 'newest', limit: 50 })).toEqual([3, 2]);
    const first = audit.list({ order: 'newest', limit: 3 });
    expect(first.entries.map((e) => e.seq)).toEqual([4, 3, 2]);
    expect(first.next).toBe(2);
    expect(audit.list({ order: 'newest', limit: 3, after: 2 })).toMatchObject({ entries: [{ seq: 1 }], next: null });
    expect(seqs({ order: 'oldest', limit: 2, after: 2 })).toEqual([3, 4]);
  });

  it('keeps every host-key decision and refusal after the host is removed, with its name', () => {
    const host = addStandInHost(store.db, 'db-7', '198.18.0.7');
    const keys = createHostKeysRepo(store.db);
    keys.pin(host.id, { keyType: 'ssh-ed25519', fingerprint: 'SHA256:one', publicKey: Buffer.from('k1') }, 1000, 'cli:alice');
    keys.recordRefusal(host.id, { keyType: 'ssh-ed25519', fingerprint: 'SHA256:two' }, 'SHA256:one', 2000, 'probe');
    keys.pin(host.id, { keyType: 'ssh-ed25519', fingerprint: 'SHA256:two', publicKey: Buffer.from('k2') }, 3000, 'desktop');
    createHostsRepo(store.db).remove(host.id);
    // The host's own key events went with it; the history stayed.
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM host_key_events').get()).toEqual({ n: 0 });
    const { events, next } = audit.hostKeys({ limit: 50 });
    expect(next).toBeNull();
    expect(events.map((e) => [e.hostName, e.event, e.fingerprint, e.previousFingerprint, e.source, e.atMs])).toEqual([
      ['db-7', 'retrusted', 'SHA256:two', 'SHA256:one', 'desktop', 3000],
      ['db-7', 'refused', 'SHA256:two', 'SHA256:one', 'probe', 2000],
      ['db-7', 'trusted', 'SHA256:one', null, 'cli:alice', 1000],
    ]);
    expect(audit.hostKeys({ host: 'db-', fromMs: 2000, limit: 1 })).toMatchObject({
      events: [{ event: 'retrusted' }],
      next: expect.any(Number),
    });
    expect(() => store.db.prepare('DELETE FROM host_key_history').run()).toThrow(/append-only/);
  });
});

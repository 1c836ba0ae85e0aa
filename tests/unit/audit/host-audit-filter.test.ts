// The Audit page's page of a runtime's audit entries (audit.hostLog): newest first, filtered by
// who, action, target and outcome, paged by `before` with `next` and `matched` agreeing.
import { describe, expect, it } from 'vitest';
import { targetsOf } from '../../../electron/backend/access/policy-gate';
import { filterHostAuditEntries } from '../../../electron/backend/audit/host-audit-filter';
import { HostAuditLogParamsSchema, METHOD_ACTIONS, type RuntimeAuditEntry } from '../../../electron/contract';
import { hostAuditExportText } from '../../../renderer/src/audit/host-audit-filters';

const entry = (seq: number, over: Partial<RuntimeAuditEntry> = {}): RuntimeAuditEntry => ({
  seq,
  atMs: 1_000 * seq,
  operator: seq % 2 === 0 ? 'alice' : 'victor',
  actor: seq % 2 === 0 ? 'token:operator' : 'certificate:viewer',
  peer: '127.0.0.1:1',
  action: seq % 2 === 0 ? 'scale' : 'control',
  method: seq % 2 === 0 ? 'ScaleProcess' : 'RestartProcess',
  target: `process p${seq}`,
  outcome: seq % 3 === 0 ? 'PERMISSION_DENIED' : 'ok',
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
  ...over,
});
const entries = Array.from({ length: 25 }, (_, i) => entry(i + 1));
const params = (p: object) => HostAuditLogParamsSchema.parse({ hostId: 1, ...p });

describe('a page of a runtime audit log', () => {
  it('pages newest first until the oldest, next and matched agreeing', () => {
    const seen: number[] = [];
    let before: number | undefined;
    for (let i = 0; i < 10; i += 1) {
      const page = filterHostAuditEntries(entries, params({ limit: 10, ...(before ? { before } : {}) }));
      expect(page.matched).toBe(25);
      seen.push(...page.entries.map((e) => e.seq));
      if (page.next === null) break;
      before = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  it('filters by who, action, target, outcome and time', () => {
    const seqs = (p: object) => filterHostAuditEntries(entries, params({ limit: 1000, ...p })).entries.map((e) => e.seq);
    expect(seqs({ who: 'ALICE' })).toEqual(seqs({ action: 'scale' }));
    expect(seqs({ who: 'certificate:' }).every((s) => s % 2 === 1)).toBe(true);
    expect(seqs({ target: 'p1' })).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1]);
    expect(seqs({ target: 'restart' }).every((s) => s % 2 === 1)).toBe(true);
    expect(seqs({ outcome: 'error' })).toEqual([24, 21, 18, 15, 12, 9, 6, 3]);
    expect(seqs({ outcome: 'PERMISSION_DENIED', action: 'scale' })).toEqual([24, 18, 12, 6]);
    expect(seqs({ fromMs: 20_000, toMs: 22_000 })).toEqual([21, 20]);
  });

  it('refuses an outcome that is not a code, and exports oldest first as JSON lines', () => {
    expect(HostAuditLogParamsSchema.safeParse({ hostId: 1, outcome: 'ok; rm -rf' }).success).toBe(false);
    expect(HostAuditLogParamsSchema.safeParse({ hostId: 1, limit: 1001 }).success).toBe(false);
    const text = hostAuditExportText([entry(3), entry(2), entry(1)]);
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as RuntimeAuditEntry).seq),
    ).toEqual([1, 2, 3]);
  });

  it('is a view of the one host it names, which an access policy judges as any view of that host', () => {
    expect(METHOD_ACTIONS['audit.hostLog']).toBe('view');
    expect(targetsOf('audit.hostLog', params({ who: 'alice' }))).toEqual([{ hostId: 1, process: undefined }]);
  });
});

import { describe, expect, it } from 'vitest';
import { ACTIONS, LOCAL_AUDIT_METHODS, METHOD_ACTIONS } from '../../../electron/contract';
import { auditListParams, NO_AUDIT_FILTERS, restoreAuditFilters } from '../../../renderer/src/audit/audit-filters';
import { actionWords, methodWords } from '../../../renderer/src/audit/audit-words';

describe('the Audit page’s words', () => {
  it('names actions and methods in words, not as the API spells them', () => {
    expect(actionWords('manage-hosts')).toBe('manage hosts');
    expect(actionWords('control')).toBe('control');
    expect(methodWords('hosts.add')).toBe('hosts · add');
    expect(methodWords('hosts.importKnownHosts')).toBe('hosts · import known hosts');
    expect(methodWords('installs.applyFile')).toBe('installs · apply file');
  });

  it('labels what was done on the machine outside the API (break-glass, the web certificate) by the contract’s words', () => {
    // They used to read as made-up API methods: "operators · reset admin", "web · certificate issue".
    expect(methodWords('operators.resetAdmin')).toBe('operators · break-glass reset of an admin, on the machine');
    expect(methodWords('web.certificateIssue')).toBe('web mode · server certificate issued at start, on the machine');
    for (const [method, { action }] of Object.entries(LOCAL_AUDIT_METHODS)) {
      // An action of the vocabulary (so the page's action filter finds it), and never a contract method's name.
      expect(ACTIONS).toContain(action);
      expect(Object.keys(METHOD_ACTIONS)).not.toContain(method);
    }
  });
});

describe('the Audit page’s filters', () => {
  it('become audit.list params, a relative range counted back from when it was chosen', () => {
    expect(auditListParams(NO_AUDIT_FILTERS, 1_000_000)).toEqual({ order: 'newest' });
    expect(auditListParams({ who: ' ada ', action: 'control', target: ' db-2 ', outcome: 'error', range: '1h' }, 10_000_000)).toEqual({
      order: 'newest',
      who: 'ada',
      action: 'control',
      target: 'db-2',
      outcome: 'error',
      fromMs: 10_000_000 - 3_600_000,
    });
  });

  it('restore only what they stored', () => {
    expect(restoreAuditFilters({ ...NO_AUDIT_FILTERS, action: 'control' })).toEqual({ ...NO_AUDIT_FILTERS, action: 'control' });
    expect(restoreAuditFilters({ ...NO_AUDIT_FILTERS, action: 'reboot' })).toBeNull();
    expect(restoreAuditFilters({ ...NO_AUDIT_FILTERS, range: 'custom' })).toBeNull();
    expect(restoreAuditFilters('x')).toBeNull();
  });
});

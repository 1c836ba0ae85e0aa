import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type MethodName } from '../../../electron/contract';
import { createAuditLog, type AuditLog } from '../../../electron/backend/audit/audit-log';
import { withAudit, withEventAudit } from '../../../electron/backend/audit/with-audit';
import type { Caller, EventSources, MethodHandlers } from '../../../electron/backend/server/dispatcher';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

/**
 * Refusals in the audit log (issue 14, item 6, and its bad input): a state-changing call is
 * recorded however it ends; a read, or a feed, only when a signed-in operator is refused it
 * (ACCESS_DENIED: the role or an access policy said no), not when a pipe asks before signing
 * in; and the `refused` filter finds every refusal code. On a real store's audit log.
 */

const dir = makeTempDir('sutazai-refusals-audited-');
let store: Store;
let audit: AuditLog;

const victor: Caller = { actor: 'web:s1', peer: 'ws:198.18.0.9:5000', operator: { id: 2, name: 'victor', role: 'viewer' } };
const anonymous: Caller = { actor: 'web:s2', peer: 'ws:198.18.0.10:5000' };
const refuse = (code: 'ACCESS_DENIED' | 'ACCESS_POLICY_DENIED' | 'SIGN_IN_REQUIRED' | 'MFA_STEP_UP_REQUIRED') => () => {
  throw new ApiError(code, `refused: ${code}`, 'a remedy');
};

// The handlers the access checks would leave: each refuses as its case says.
const handlers = {
  'fleet.logs': refuse('ACCESS_DENIED'),
  'hosts.list': refuse('SIGN_IN_REQUIRED'),
  'hosts.get': refuse('ACCESS_POLICY_DENIED'),
  'fleet.restart': refuse('ACCESS_DENIED'),
  'installs.uninstall': refuse('MFA_STEP_UP_REQUIRED'),
  'alerts.ack': () => ({}),
} as unknown as MethodHandlers;
const sources = {
  'fleet.logFollow': refuse('ACCESS_DENIED'),
  'metrics.live': refuse('SIGN_IN_REQUIRED'),
} as unknown as EventSources;

beforeAll(() => {
  store = openStore({ dataDir: dir.path });
  audit = createAuditLog(store.db);
});
afterAll(() => {
  store?.close();
  dir.remove();
});

describe('refusals in the audit log', () => {
  it('records refused reads and feeds of a signed-in operator, every state-changing call, and no anonymous read', async () => {
    const deps = { log: audit, names: { hostName: (id: number) => (id === 7 ? 'db-7' : null) }, now: () => 1_000, logger: { error() {} } };
    const wrapped = withAudit(handlers, deps) as unknown as Record<string, (params: unknown, caller: Caller) => Promise<unknown>>;
    const feeds = withEventAudit(sources, deps) as unknown as Record<string, (p: unknown, emit: () => void, c: Caller) => () => void>;
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (error: ApiError) => error.code,
      );

    expect(await code(wrapped['fleet.logs']!({ hostId: 7, instance: 'agent-1' }, victor))).toBe('ACCESS_DENIED');
    expect(await code(wrapped['hosts.list']!({}, anonymous))).toBe('SIGN_IN_REQUIRED');
    expect(await code(wrapped['hosts.get']!({ hostId: 7 }, victor))).toBe('ACCESS_POLICY_DENIED');
    expect(await code(wrapped['fleet.restart']!({ hostId: 7, process: 'agent' }, victor))).toBe('ACCESS_DENIED');
    expect(await code(wrapped['installs.uninstall']!({ name: 'prod' }, victor))).toBe('MFA_STEP_UP_REQUIRED');
    expect(await code(wrapped['alerts.ack']!({ id: 3 }, victor))).toBe('ok');
    expect(() => feeds['fleet.logFollow']!({ hostId: 7, instance: 'agent-1' }, () => {}, victor)).toThrow(/ACCESS_DENIED/);
    expect(() => feeds['metrics.live']!({}, () => {}, anonymous)).toThrow(/SIGN_IN_REQUIRED/);

    const entries = audit.list({ order: 'oldest', limit: 50 }).entries;
    expect(
      entries.map(({ operator, actor, peer, action, method, target, outcome }) => [operator, actor, peer, action, method, target, outcome]),
    ).toEqual([
      ['victor', 'web:s1', 'ws:198.18.0.9:5000', 'logs', 'fleet.logs', 'host db-7', 'ACCESS_DENIED'],
      ['victor', 'web:s1', 'ws:198.18.0.9:5000', 'view', 'hosts.get', 'host db-7', 'ACCESS_POLICY_DENIED'],
      ['victor', 'web:s1', 'ws:198.18.0.9:5000', 'control', 'fleet.restart', 'host db-7, process agent', 'ACCESS_DENIED'],
      ['victor', 'web:s1', 'ws:198.18.0.9:5000', 'uninstall', 'installs.uninstall', 'install prod', 'MFA_STEP_UP_REQUIRED'],
      ['victor', 'web:s1', 'ws:198.18.0.9:5000', 'acknowledge', 'alerts.ack', 'alert 3', 'ok'],
      ['victor', 'web:s1', 'ws:198.18.0.9:5000', 'logs', 'fleet.logFollow', 'host db-7', 'ACCESS_DENIED'],
    ]);
    expect(audit.verify().broken).toBeNull();

    // `refused` selects the refusals, not the other outcomes.
    const refused = audit
      .list({ outcome: 'refused', order: 'oldest', limit: 50 })
      .entries.map((entry) => entry.method as MethodName | string);
    expect(refused).toEqual(['fleet.logs', 'hosts.get', 'fleet.restart', 'installs.uninstall', 'fleet.logFollow']);
  });
});

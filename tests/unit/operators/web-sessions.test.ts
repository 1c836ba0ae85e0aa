// Browser sign-ins of web mode for a team over a real SQLite store (migration 022), with an
// injected clock: idle and absolute expiry, listing, ending, and an operator's removal or
// disabling ending its sessions; only a hash of the cookie's secret is stored.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOperatorService, type OperatorService } from '../../../electron/backend/operators/operator-service';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createWebSessions, type WebSessions } from '../../../electron/backend/operators/web-sessions';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const POLICY = { idleMs: 30 * 60_000, absoluteMs: 8 * 60 * 60_000 };
const ORIGIN = { address: '198.18.0.7', userAgent: 'test' };

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let clock: number;
let sessions: WebSessions;
let operators: OperatorService;
let adminId: number;
let viewerId: number;

beforeEach(async () => {
  dir = makeTempDir('sutazai-web-sessions-');
  store = openStore({ dataDir: dir.path });
  clock = Date.UTC(2026, 11, 6, 4, 0, 0);
  sessions = createWebSessions({ db: store.db, now: () => clock, policy: POLICY });
  operators = createOperatorService({
    repo: createOperatorsRepo(store.db),
    now: () => clock,
    endSignIns: (id, reason) => sessions.endAllOf(id, reason),
  });
  adminId = (await operators.add({ name: 'admin', role: 'admin', password: 'correct horse battery', attributes: {} })).id;
  viewerId = (await operators.add({ name: 'vera', role: 'viewer', password: 'correct horse battery', attributes: {} })).id;
});

afterEach(() => {
  store.close();
  dir.remove();
});

describe('web sessions', () => {
  it('ends after the idle limit without a call, and a call moves it', () => {
    const { token, id } = sessions.create(viewerId, ORIGIN);
    expect(sessions.byToken(token)).toEqual({ id, operatorId: viewerId });
    clock += POLICY.idleMs - 1;
    expect(sessions.operatorOf(id)).toBe(viewerId);
    sessions.touch(id);
    clock += POLICY.idleMs - 1;
    expect(sessions.operatorOf(id)).toBe(viewerId);
    clock += 1;
    expect(sessions.operatorOf(id)).toBeUndefined();
    expect(sessions.byToken(token)).toBeUndefined();
    // An ended session is not brought back by a late call.
    sessions.touch(id);
    expect(sessions.operatorOf(id)).toBeUndefined();
  });

  it('ends at its absolute expiry however busy it is', () => {
    const { id, expiresAt, createdAt } = sessions.create(viewerId, ORIGIN);
    expect(expiresAt - createdAt).toBe(POLICY.absoluteMs);
    while (clock + 20 * 60_000 < expiresAt) {
      clock += 20 * 60_000;
      sessions.touch(id);
      expect(sessions.operatorOf(id)).toBe(viewerId);
    }
    expect(sessions.operatorOf(id)).toBe(viewerId);
    expect(sessions.list(viewerId)[0]?.idleExpiresAt).toBeLessThanOrEqual(expiresAt);
    clock = expiresAt;
    expect(sessions.operatorOf(id)).toBeUndefined();
    expect(sessions.list()).toEqual([]);
  });

  it('lists live sessions, per operator or all, and ends one', () => {
    const a = sessions.create(adminId, ORIGIN);
    const v = sessions.create(viewerId, { address: '198.18.0.8', userAgent: 'Chromium' });
    expect(sessions.list().map((s) => s.operatorName)).toEqual(['admin', 'vera']);
    expect(sessions.list(viewerId)).toEqual([
      expect.objectContaining({ id: v.id, operatorName: 'vera', address: '198.18.0.8', userAgent: 'Chromium' }),
    ]);
    expect(sessions.end(v.id, 'revoked by admin')).toBe(true);
    expect(sessions.end(v.id, 'again')).toBe(false);
    expect(sessions.byToken(v.token)).toBeUndefined();
    expect(sessions.list().map((s) => s.id)).toEqual([a.id]);
  });

  it('ends the sessions of an operator disabled, given a new password, or removed', async () => {
    const first = sessions.create(viewerId, ORIGIN);
    await operators.set('vera', { disabled: true });
    expect(sessions.operatorOf(first.id)).toBeUndefined();
    await operators.set('vera', { disabled: false });
    // Enabling again does not bring an ended session back.
    expect(sessions.operatorOf(first.id)).toBeUndefined();
    const second = sessions.create(viewerId, ORIGIN);
    await operators.set('vera', { password: 'another long passphrase' });
    expect(sessions.operatorOf(second.id)).toBeUndefined();
    const third = sessions.create(viewerId, ORIGIN);
    const admins = sessions.create(adminId, ORIGIN);
    await operators.set('vera', { role: 'operator' }); // a role change alone does not end it: the role is read at each call
    expect(sessions.operatorOf(third.id)).toBe(viewerId);
    operators.remove('vera');
    expect(sessions.operatorOf(third.id)).toBeUndefined();
    expect(sessions.operatorOf(admins.id)).toBe(adminId);
  });

  it('keeps only a hash of the secret', () => {
    const { token } = sessions.create(viewerId, ORIGIN);
    const file = store.path;
    store.close();
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    store = openStore({ dataDir: dir.path });
    expect(createWebSessions({ db: store.db, now: () => clock }).byToken(token)).toBeDefined();
  });
});

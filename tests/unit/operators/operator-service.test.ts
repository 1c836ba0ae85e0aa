// Operators over a real SQLite file (migration 020): the bootstrap rule, names, passwords
// (scrypt with a salt per operator, never stored in clear), and that an admin always remains.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { createOperatorService, type OperatorService } from '../../../electron/backend/operators/operator-service';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { OPERATOR_PASSWORD_KDF } from '../../../electron/backend/operators/operator-passwords';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const PASSWORD = 'correct horse battery';
let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let operators: OperatorService;
let clock = 1_000;

beforeEach(() => {
  dir = makeTempDir('sutazai-operators-');
  store = openStore({ dataDir: dir.path });
  operators = createOperatorService({ repo: createOperatorsRepo(store.db), now: () => clock++ });
});

afterEach(() => {
  store.close();
  dir.remove();
});

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<ApiError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a refusal');
}

const add = (name: string, role: 'viewer' | 'operator' | 'admin', attributes = {}) =>
  operators.add({ name, role, password: `${PASSWORD} ${name}`, attributes });

// Each case pays several scrypt hashes (32 MiB each): seconds on a loaded two-core machine.
describe('operator changes', () => {
  it('are told after each committed add, change and removal (the runtimes are pushed at once), not after a refused one', async () => {
    let told = 0;
    operators = createOperatorService({ repo: createOperatorsRepo(store.db), now: () => clock++, changed: () => void told++ });
    await add('ada', 'admin');
    await add('bob', 'operator');
    expect(told).toBe(2);
    await operators.set('bob', { disabled: true });
    operators.remove('bob');
    expect(told).toBe(4);
    // The last admin may not be demoted: nothing changed, nothing told.
    await expect(operators.set('ada', { role: 'viewer' })).rejects.toBeInstanceOf(ApiError);
    expect(told).toBe(4);
  });
});

describe('operator ids', () => {
  it("are never handed out twice: an operator added after the newest was removed gets a new id, not the removed one's", async () => {
    await add('ada', 'admin');
    const bob = await add('bob', 'operator');
    operators.remove('bob');
    const cyd = await add('cyd', 'viewer');
    // A window still signed in as bob holds only bob's id: cyd must not inherit it.
    expect(cyd.id).toBeGreaterThan(bob.id);
    // Across a restart of the store too (the high-water mark is stored, not counted from the rows).
    operators.remove('cyd');
    store.close();
    store = openStore({ dataDir: dir.path });
    operators = createOperatorService({ repo: createOperatorsRepo(store.db), now: () => clock++ });
    const dee = await add('dee', 'viewer');
    expect(dee.id).toBeGreaterThan(cyd.id);
  });
});

describe('operators', { timeout: 30_000 }, () => {
  it('start with none: the bootstrap, where every pipe is the one admin', () => {
    expect(operators.exist()).toBe(false);
    expect(operators.list()).toEqual([]);
    expect(operators.sessionOf(undefined)).toEqual({ operatorsExist: false, operator: null, role: 'admin' });
  });

  it('refuse a first operator that is not an admin, then take an admin and any role after', async () => {
    const first = await refusal(add('vera', 'viewer'));
    expect(first.code).toBe('OPERATOR_LAST_ADMIN');
    expect(first.message).toContain('first operator must be an admin');
    expect(operators.exist()).toBe(false);

    const admin = await add('ada', 'admin', { team: 'night shift' });
    expect(admin).toMatchObject({ name: 'ada', role: 'admin', disabled: false, attributes: { team: 'night shift' } });
    const viewer = await add('vera', 'viewer', { hostLabels: ['rack=b4'], processes: ['agent'], hours: '08:00-18:00' });
    expect(viewer.attributes).toEqual({ hostLabels: ['rack=b4'], processes: ['agent'], hours: '08:00-18:00' });
    expect(operators.list().map((o) => [o.name, o.role])).toEqual([
      ['ada', 'admin'],
      ['vera', 'viewer'],
    ]);
    expect(operators.sessionOf(undefined)).toEqual({ operatorsExist: true, operator: null, role: null });
    expect(operators.sessionOf(viewer.id)).toMatchObject({
      operatorsExist: true,
      operator: { name: 'vera', role: 'viewer' },
      role: 'viewer',
    });
  });

  it('keep names unique without case, and refuse a short password', async () => {
    await add('ada', 'admin');
    expect((await refusal(add('ADA', 'viewer'))).code).toBe('OPERATOR_NAME_TAKEN');
    const weak = await refusal(operators.add({ name: 'bob', role: 'viewer', password: 'short', attributes: {} }));
    expect(weak.code).toBe('OPERATOR_PASSWORD_WEAK');
    expect(weak.message).toContain('12 characters');
    expect(operators.list()).toHaveLength(1);
  });

  it('store each password as an scrypt hash with its own salt, never the password', async () => {
    await operators.add({ name: 'ada', role: 'admin', password: PASSWORD, attributes: {} });
    await operators.add({ name: 'bob', role: 'viewer', password: PASSWORD, attributes: {} });
    const rows = store.db
      .prepare<[], { password_hash: Buffer; password_salt: Buffer; password_kdf: string }>('SELECT * FROM operators ORDER BY id')
      .all();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(JSON.parse(row.password_kdf)).toEqual({ alg: 'scrypt', N: 2 ** 15, r: 8, p: 1 });
      expect(row.password_hash.length).toBe(32);
    }
    expect(OPERATOR_PASSWORD_KDF.N).toBeGreaterThanOrEqual(2 ** 15);
    // The same password, two salts, two hashes.
    expect(rows[0]!.password_salt.equals(rows[1]!.password_salt)).toBe(false);
    expect(rows[0]!.password_hash.equals(rows[1]!.password_hash)).toBe(false);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const files = fs.readdirSync(dir.path).filter((name) => name.endsWith('.db') || name.endsWith('-wal'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(fs.readFileSync(`${dir.path}/${file}`).includes(Buffer.from(PASSWORD))).toBe(false);
  });

  it('verify the right password, and refuse a wrong one, an unknown name and a disabled operator alike', async () => {
    const ada = await add('ada', 'admin');
    await add('bob', 'operator');
    expect((await operators.verify('ada', `${PASSWORD} ada`)).id).toBe(ada.id);
    // Names ignore case when signing in too.
    expect((await operators.verify('ADA', `${PASSWORD} ada`)).id).toBe(ada.id);
    const wrong = await refusal(operators.verify('ada', `${PASSWORD} bob`));
    const unknown = await refusal(operators.verify('nobody', `${PASSWORD} ada`));
    await operators.set('bob', { disabled: true });
    const disabled = await refusal(operators.verify('bob', `${PASSWORD} bob`));
    // One code and one message for each: an attacker learns no more than "no".
    for (const error of [wrong, unknown, disabled]) {
      expect(error.code).toBe('SIGN_IN_FAILED');
      expect(error.message).toBe(wrong.message);
    }
    expect(operators.current(ada.id)).toEqual({ id: ada.id, name: 'ada', role: 'admin' });
  });

  it('change role, attributes, password and state; a removed or disabled operator is no longer current', async () => {
    await add('ada', 'admin');
    const bob = await add('bob', 'viewer');
    const changed = await operators.set('bob', { role: 'operator', attributes: { team: 'vendor' }, password: 'a new long password' });
    expect(changed).toMatchObject({ role: 'operator', attributes: { team: 'vendor' } });
    expect(changed.updatedAt).toBeGreaterThan(bob.updatedAt);
    expect((await refusal(operators.verify('bob', `${PASSWORD} bob`))).code).toBe('SIGN_IN_FAILED');
    expect((await operators.verify('bob', 'a new long password')).role).toBe('operator');
    expect(operators.current(bob.id)?.role).toBe('operator');

    await operators.set('bob', { disabled: true });
    expect(operators.current(bob.id)).toBeUndefined();
    expect(operators.sessionOf(bob.id)).toEqual({ operatorsExist: true, operator: null, role: null });
    await operators.set('bob', { disabled: false });
    expect(operators.current(bob.id)?.name).toBe('bob');

    expect(operators.remove('bob')).toEqual({ removed: 'bob' });
    expect(operators.current(bob.id)).toBeUndefined();
    expect((await refusal(() => operators.remove('bob'))).code).toBe('OPERATOR_NOT_FOUND');
    expect((await refusal(operators.set('bob', { role: 'admin' }))).code).toBe('OPERATOR_NOT_FOUND');
  });

  it('always leave an enabled admin while operators remain; the last operator of all may go', async () => {
    await add('ada', 'admin');
    await add('bob', 'viewer');
    for (const attempt of [
      () => operators.set('ada', { role: 'operator' }),
      () => operators.set('ada', { disabled: true }),
      () => operators.remove('ada'),
    ]) {
      const error = await refusal(attempt);
      expect(error.code).toBe('OPERATOR_LAST_ADMIN');
      expect(error.message).toContain('ada is the last enabled admin');
    }
    // With a second admin, the first may step down.
    await operators.set('bob', { role: 'admin' });
    expect((await operators.set('ada', { role: 'viewer' })).role).toBe('viewer');
    expect((await refusal(() => operators.remove('bob'))).code).toBe('OPERATOR_LAST_ADMIN');
    operators.remove('ada');
    // bob alone: removing the last operator returns to the bootstrap.
    expect(operators.remove('bob')).toEqual({ removed: 'bob' });
    expect(operators.exist()).toBe(false);
    expect(operators.sessionOf(undefined).role).toBe('admin');
  });
});

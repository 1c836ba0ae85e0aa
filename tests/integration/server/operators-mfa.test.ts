// Two-factor sign-in through the real backend behind the real web server (real SQLite, the
// vault unlocked with a passphrase): each WebSocket is its own pipe. Enrolment confirmed by
// a first code; sign-in asks for a code (MFA_REQUIRED) only once the password is right, and
// a wrong, replayed or missing code is SIGN_IN_FAILED like a wrong password; a recovery code
// signs in once; step-up, when on, asks each pipe for a fresh code before admin actions; the
// audit log records each refusal and never a code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../../../electron/contract';
import { totpCode } from '../../../electron/backend/operators/totp';
import { apiPipes, codeOf } from '../../support/api-pipes';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';

let running: RunningBackend;
const pipes = apiPipes(() => running);

beforeAll(async () => {
  running = await startTestBackend({
    sampleLocalHost: false,
    probeAtStart: false,
    vaultKey: { kind: 'passphrase', passphrase: 'the vault passphrase of this test' },
  });
});
afterAll(async () => {
  pipes.closeAll();
  await running?.stop();
});

/** A new pipe: a browser tab of its own. */
const pipe = (): Promise<ApiClient> => pipes.open();

const password = (name: string) => `the password of ${name}`;
/**
 * A code no one has used yet: the next time step's (accepted a step ahead, for a clock a
 * little off), so the test need not wait for the clock after the enrolment used this step's.
 */
const nextStepCode = (secret: string) => totpCode(secret, Date.now() + 30_000);

describe('two-factor sign-in per pipe', () => {
  let admin: ApiClient;
  let secret = '';
  let recoveryCodes: string[] = [];

  it('enrols the signed-in operator: a secret and URI, confirmed by a first valid code, ten recovery codes once', async () => {
    admin = await pipe();
    await admin.call('operators.add', { name: 'ada', role: 'admin', password: password('ada') });
    await admin.call('operators.add', { name: 'otto', role: 'operator', password: password('otto') });
    expect(await admin.call('mfa.status', {})).toEqual({
      enrolled: false,
      pending: false,
      recoveryCodesLeft: 0,
      stepUpRequired: false,
      stepUpUntil: null,
      webRequired: false,
    });
    const begun = await admin.call('mfa.enrolBegin', {});
    expect(begun.name).toBe('ada');
    expect(begun.uri).toMatch(/^otpauth:\/\/totp\/SutazAI:ada\?/);
    secret = begun.secret;
    expect(await admin.call('mfa.status', {})).toMatchObject({ enrolled: false, pending: true });
    // Until confirmed, sign-in asks for nothing more.
    const early = await pipe();
    await early.call('session.signIn', { name: 'ada', password: password('ada') });

    expect(await codeOf(admin.call('mfa.enrolConfirm', { code: '000000' === totpCode(secret, Date.now()) ? '111111' : '000000' }))).toBe(
      'MFA_CODE_WRONG',
    );
    const confirmed = await admin.call('mfa.enrolConfirm', { code: totpCode(secret, Date.now()) });
    recoveryCodes = confirmed.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(await admin.call('mfa.status', {})).toMatchObject({ enrolled: true, pending: false, recoveryCodesLeft: 10 });
    // An operator may not enrol another; nor see another's status.
    const otto = await pipe();
    await otto.call('session.signIn', { name: 'otto', password: password('otto') });
    expect(await codeOf(otto.call('mfa.enrolBegin', { name: 'ada' }))).toBe('ACCESS_DENIED');
  });

  it('asks for a code once the password is right; a wrong, replayed or missing code is refused like a wrong password', async () => {
    const tab = await pipe();
    expect(await codeOf(tab.call('session.signIn', { name: 'ada', password: 'not the password of ada', code: '123456' }))).toBe(
      'SIGN_IN_FAILED',
    );
    const required = await tab.call('session.signIn', { name: 'ada', password: password('ada') }).catch((error: ApiError) => error);
    expect(required).toMatchObject({ code: 'MFA_REQUIRED' });
    expect((required as ApiError).remedy).toMatch(/authenticator app/);
    expect(await tab.call('session.whoami', {})).toMatchObject({ operator: null, role: null });
    const now = totpCode(secret, Date.now());
    const wrong = now === '000000' ? '000001' : '000000';
    const failed = await tab
      .call('session.signIn', { name: 'ada', password: password('ada'), code: wrong })
      .catch((error: ApiError) => error);
    expect(failed).toMatchObject({ code: 'SIGN_IN_FAILED' });
    const unknown = await tab
      .call('session.signIn', { name: 'nobody', password: password('ada'), code: now })
      .catch((error: ApiError) => error);
    expect((failed as ApiError).message).toBe((unknown as ApiError).message);

    const code = nextStepCode(secret);
    await tab.call('session.signIn', { name: 'ada', password: password('ada'), code });
    expect(await tab.call('session.whoami', {})).toMatchObject({ operator: { name: 'ada' }, role: 'admin' });
    // The same code on another pipe, within its window: a replay.
    const other = await pipe();
    expect(await codeOf(other.call('session.signIn', { name: 'ada', password: password('ada'), code }))).toBe('SIGN_IN_FAILED');
  });

  it('signs in with a recovery code once; the second use is refused', async () => {
    const [recovery] = recoveryCodes as [string];
    const first = await pipe();
    await first.call('session.signIn', { name: 'ada', password: password('ada'), code: recovery });
    expect(await first.call('mfa.status', {})).toMatchObject({ enrolled: true, recoveryCodesLeft: 9 });
    const second = await pipe();
    expect(await codeOf(second.call('session.signIn', { name: 'ada', password: password('ada'), code: recovery }))).toBe('SIGN_IN_FAILED');
  });

  it('with step-up on, a pipe without a fresh code is asked for one before admin actions, not before others', async () => {
    // Turned on by an admin without two-factor sign-in, it would lock them out: refused.
    await admin.call('operators.add', { name: 'bea', role: 'admin', password: password('bea') });
    const bea = await pipe();
    await bea.call('session.signIn', { name: 'bea', password: password('bea') });
    expect(await codeOf(bea.call('mfa.setStepUp', { required: true }))).toBe('MFA_NOT_ENROLLED');
    expect(await admin.call('mfa.setStepUp', { required: true })).toEqual({ required: true });

    // admin signed in without a code (it added the first operator): asked for one.
    const refused = await admin.call('operators.set', { name: 'otto', role: 'viewer' }).catch((error: ApiError) => error);
    expect(refused).toMatchObject({ code: 'MFA_STEP_UP_REQUIRED' });
    expect(await codeOf(admin.call('hosts.list', {}))).toBe('ok');
    expect(await codeOf(admin.call('session.stepUp', { code: '12345' }))).toBe('MFA_CODE_WRONG');
    const { until } = await admin.call('session.stepUp', { code: recoveryCodes[1]! });
    expect(until).toBeGreaterThan(Date.now());
    expect((await admin.call('mfa.status', {})).stepUpUntil).toBe(until);
    expect(await admin.call('operators.set', { name: 'otto', role: 'viewer' })).toMatchObject({ role: 'viewer' });
    // bea has no two-factor sign-in: told to enrol; a viewer is refused by role first.
    expect(await bea.call('operators.set', { name: 'otto', role: 'operator' }).catch((error: ApiError) => error.message)).toMatch(
      /bea has no two-factor sign-in/,
    );
    const otto = await pipe();
    await otto.call('session.signIn', { name: 'otto', password: password('otto') });
    expect(await codeOf(otto.call('operators.set', { name: 'otto', role: 'admin' }))).toBe('ACCESS_DENIED');

    // A reset (an admin's, stepped up) drops ada's enrolment: she signs in with the password alone.
    await admin.call('mfa.setStepUp', { required: false });
    expect(await admin.call('mfa.reset', { name: 'ada' })).toEqual({ name: 'ada' });
    const after = await pipe();
    await after.call('session.signIn', { name: 'ada', password: password('ada') });
    expect(await after.call('mfa.status', {})).toMatchObject({ enrolled: false, pending: false });
  });

  it('records every try in the audit log, never a code', async () => {
    const { entries } = await admin.call('audit.list', { limit: 200, order: 'oldest' });
    const outcomes = entries.filter((entry) => entry.method === 'session.signIn').map((entry) => entry.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(['SIGN_IN_FAILED', 'MFA_REQUIRED', 'ok']));
    expect(entries.filter((entry) => entry.method === 'session.stepUp').map((entry) => entry.outcome)).toEqual(['MFA_CODE_WRONG', 'ok']);
    expect(entries.find((entry) => entry.method === 'mfa.reset')).toMatchObject({ operator: 'ada', target: 'operator ada', outcome: 'ok' });
    const text = JSON.stringify(entries);
    for (const recovery of recoveryCodes) expect(text).not.toContain(recovery);
    expect(text).not.toContain(secret);
  });
});

// Two-factor code guesses are rate-limited like passwords (issue 14, item 5), through the real
// backend behind the real web server (real SQLite, the vault unlocked): with the right password,
// wrong codes at sign-in count against the name, and asking for the code (MFA_REQUIRED) does
// not reset the count; on a signed-in pipe, wrong step-up codes count too, so a stolen session
// cannot guess its way to admin actions. Once throttled, the right code gets the same answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../electron/contract';
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

const PASSWORD = 'the password of ada, long enough';
/** A code that is not this step's (nor the next's, nor the last's). */
const wrongCode = (secret: string) => {
  const near = new Set([-30_000, 0, 30_000].map((offset) => totpCode(secret, Date.now() + offset)));
  return ['000000', '111111', '222222', '333333'].find((code) => !near.has(code))!;
};

describe('two-factor code guesses', () => {
  let admin: ApiClient;
  let secret = '';

  it('counts wrong codes at sign-in against the name, MFA_REQUIRED in between resetting nothing', async () => {
    admin = await pipes.open();
    await admin.call('operators.add', { name: 'ada', role: 'admin', password: PASSWORD });
    await admin.call('operators.add', { name: 'bob', role: 'admin', password: PASSWORD });
    secret = (await admin.call('mfa.enrolBegin', {})).secret;
    await admin.call('mfa.enrolConfirm', { code: totpCode(secret, Date.now()) });

    const tab = await pipes.open();
    const outcomes: string[] = [];
    for (let guess = 0; guess < 5; guess += 1) {
      outcomes.push(await codeOf(tab.call('session.signIn', { name: 'ada', password: PASSWORD })));
      outcomes.push(await codeOf(tab.call('session.signIn', { name: 'ada', password: PASSWORD, code: wrongCode(secret) })));
    }
    expect(outcomes).toEqual(Array(5).fill(['MFA_REQUIRED', 'SIGN_IN_FAILED']).flat());
    // Throttled: the right password with the right code gets the same answer as any other try.
    const right = totpCode(secret, Date.now() + 30_000);
    expect(await codeOf(tab.call('session.signIn', { name: 'ada', password: PASSWORD, code: right }))).toBe('SIGN_IN_THROTTLED');
    expect(await codeOf(tab.call('session.signIn', { name: 'ada', password: PASSWORD }))).toBe('SIGN_IN_THROTTLED');
    expect(await tab.call('session.whoami', {})).toMatchObject({ operator: null, role: null });
    // Another name is not held up by ada's count.
    expect(await codeOf(tab.call('session.signIn', { name: 'bob', password: PASSWORD }))).toBe('ok');
  });

  it("counts wrong step-up codes on a signed-in pipe against its operator's name", async () => {
    // bob turns step-up on after enrolling; a stolen pipe of his then guesses.
    const bob = await pipes.open();
    await bob.call('session.signIn', { name: 'bob', password: PASSWORD });
    const bobSecret = (await bob.call('mfa.enrolBegin', {})).secret;
    await bob.call('mfa.enrolConfirm', { code: totpCode(bobSecret, Date.now()) });
    const stolen = await pipes.open();
    await stolen.call('session.signIn', { name: 'bob', password: PASSWORD, code: totpCode(bobSecret, Date.now() + 30_000) });
    const guesses: string[] = [];
    for (let guess = 0; guess < 5; guess += 1) guesses.push(await codeOf(stolen.call('session.stepUp', { code: wrongCode(bobSecret) })));
    expect(guesses).toEqual(Array(5).fill('MFA_CODE_WRONG'));
    expect(await codeOf(stolen.call('session.stepUp', { code: totpCode(bobSecret, Date.now() - 30_000) }))).toBe('SIGN_IN_THROTTLED');

    const { entries } = await admin.call('audit.list', { who: 'bob', order: 'oldest' });
    expect(entries.filter((entry) => entry.method === 'session.stepUp').map((entry) => entry.outcome)).toEqual([
      ...Array(5).fill('MFA_CODE_WRONG'),
      'SIGN_IN_THROTTLED',
    ]);
  });
});

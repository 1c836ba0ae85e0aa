// Two-factor sign-in over a real SQLite file (migration 021) and the real vault: RFC 6238's
// vectors through the kept library, enrolment confirmed by a first code, a code accepted once
// (a replay within its window refused), recovery codes each good once and stored hashed, the
// secret sealed, and the step-up that admin actions ask for.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { createOperatorMfa, type OperatorMfa } from '../../../electron/backend/operators/operator-mfa';
import { createOperatorMfaRepo } from '../../../electron/backend/operators/operator-mfa-repo';
import { createOperatorService, type OperatorService } from '../../../electron/backend/operators/operator-service';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { RECOVERY_CODE_COUNT } from '../../../electron/backend/operators/recovery-codes';
import { STEP_UP_MS, createStepUps, withStepUp } from '../../../electron/backend/operators/step-up';
import { totpCode, totpStepOf, totpUri } from '../../../electron/backend/operators/totp';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import type { Caller, MethodHandlers, PipeSession } from '../../../electron/backend/server/dispatcher';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

/** RFC 6238 appendix B's SHA-1 seed ("12345678901234567890"), base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
/** RFC 6238 appendix B, SHA-1: time (s) and the 8-digit TOTP; a 6-digit code is its last six digits. */
const RFC_VECTORS: ReadonlyArray<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let operators: OperatorService;
let mfa: OperatorMfa;
let clock = Date.UTC(2026, 11, 6, 1, 0, 0);

beforeEach(() => {
  dir = makeTempDir('sutazai-mfa-');
  store = openStore({ dataDir: dir.path });
  const vault = createSecretVault(store.db);
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  mfa = createOperatorMfa({ repo: createOperatorMfaRepo(store.db), vault, now: () => clock });
  operators = createOperatorService({ repo: createOperatorsRepo(store.db), now: () => clock, onRemove: (id) => mfa.reset(id) });
});

afterEach(() => {
  store.close();
  dir.remove();
});

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a refusal');
}

const secretRows = () => store.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM secrets WHERE purpose = 'operator-totp'").get()!.n;
const dbBytes = () =>
  Buffer.concat([fs.readFileSync(store.path), fs.existsSync(`${store.path}-wal`) ? fs.readFileSync(`${store.path}-wal`) : Buffer.alloc(0)]);

async function enrolled(name = 'ada'): Promise<{ id: number; secret: string; recoveryCodes: string[] }> {
  const operator = await operators.add({ name, role: 'admin', password: `correct horse battery ${name}`, attributes: {} });
  const { secret } = mfa.begin(operator);
  const { recoveryCodes } = mfa.confirm(operator.id, totpCode(secret, clock));
  return { id: operator.id, secret, recoveryCodes };
}

describe('TOTP codes (RFC 6238 through otpauth)', () => {
  it('computes the RFC 6238 SHA-1 vectors, and accepts each at its time for its step', () => {
    for (const [seconds, eightDigits] of RFC_VECTORS) {
      const code = totpCode(RFC_SECRET, seconds * 1000);
      expect(code, `T=${seconds}`).toBe(eightDigits.slice(-6));
      expect(totpStepOf(RFC_SECRET, code, seconds * 1000)).toBe(Math.floor(seconds / 30));
    }
  });

  it('accepts the step before and after (a clock a little off), nothing further, and nothing but six digits', () => {
    const at = 1234567890_000;
    const step = Math.floor(at / 30_000);
    expect(totpStepOf(RFC_SECRET, totpCode(RFC_SECRET, at - 30_000), at)).toBe(step - 1);
    expect(totpStepOf(RFC_SECRET, totpCode(RFC_SECRET, at + 30_000), at)).toBe(step + 1);
    expect(totpStepOf(RFC_SECRET, totpCode(RFC_SECRET, at - 60_000), at)).toBeNull();
    expect(totpStepOf(RFC_SECRET, totpCode(RFC_SECRET, at + 60_000), at)).toBeNull();
    expect(totpStepOf(RFC_SECRET, '005 924', at)).toBe(step);
    for (const bad of ['', '5924', '0059245', 'abcdef', '00592a']) expect(totpStepOf(RFC_SECRET, bad, at), bad).toBeNull();
  });

  it('names the issuer and the operator in the URI an app scans', () => {
    const uri = new URL(totpUri(RFC_SECRET, 'ada'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/SutazAI:ada');
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ secret: RFC_SECRET, issuer: 'SutazAI', digits: '6', period: '30' });
  });
});

describe('enrolment', () => {
  it('keeps the secret sealed, asks nothing until a first valid code confirms it, then hands out ten recovery codes once', async () => {
    const ada = await operators.add({ name: 'ada', role: 'admin', password: 'correct horse battery', attributes: {} });
    const { secret, uri } = mfa.begin(ada);
    expect(uri).toContain(`secret=${secret}`);
    expect(secretRows()).toBe(1);
    // Sealed: the base32 text is nowhere in the database file or its journal.
    expect(dbBytes().includes(Buffer.from(secret))).toBe(false);
    expect(mfa.state(ada.id)).toEqual({ enrolled: false, pending: true, recoveryCodesLeft: 0 });
    expect(mfa.enrolled(ada.id)).toBe(false);
    expect(mfa.check(ada.id, totpCode(secret, clock))).toBe(false);

    const wrong = totpCode(secret, clock + 5 * 30_000);
    expect(refusal(() => mfa.confirm(ada.id, wrong)).code).toBe('MFA_CODE_WRONG');
    const { recoveryCodes } = mfa.confirm(ada.id, totpCode(secret, clock));
    expect(recoveryCodes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(recoveryCodes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of recoveryCodes) expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(mfa.state(ada.id)).toEqual({ enrolled: true, pending: false, recoveryCodesLeft: RECOVERY_CODE_COUNT });
    // Stored hashed: no code's text in the file.
    const bytes = dbBytes();
    for (const code of recoveryCodes) expect(bytes.includes(Buffer.from(code.replace(/-/g, '')))).toBe(false);
    // Confirmed once: no second confirm, no second enrolment over it.
    // The same code as enrolling over it: the remedy (an admin's reset) is the one that helps.
    expect(refusal(() => mfa.confirm(ada.id, totpCode(secret, clock + 30_000)))).toMatchObject({
      code: 'MFA_ALREADY_ENROLLED',
      remedy: expect.stringMatching(/admin resets it/),
    });
    expect(refusal(() => mfa.begin(ada)).code).toBe('MFA_ALREADY_ENROLLED');
  });

  it('replaces an unconfirmed enrolment (its secret leaves the vault) and drops everything at a reset and at removal', async () => {
    const { id, secret } = await enrolled('ada');
    const bob = await operators.add({ name: 'bob', role: 'viewer', password: 'correct horse battery bob', attributes: {} });
    const first = mfa.begin(bob);
    const second = mfa.begin(bob);
    expect(second.secret).not.toBe(first.secret);
    expect(secretRows()).toBe(2);
    expect(refusal(() => mfa.confirm(bob.id, totpCode(first.secret, clock))).code).toBe('MFA_CODE_WRONG');
    mfa.confirm(bob.id, totpCode(second.secret, clock));

    mfa.reset(id);
    expect(mfa.state(id)).toEqual({ enrolled: false, pending: false, recoveryCodesLeft: 0 });
    expect(mfa.check(id, totpCode(secret, clock + 30_000))).toBe(false);
    expect(secretRows()).toBe(1);
    operators.remove('bob');
    expect(secretRows()).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM operator_recovery_codes').get()).toEqual({ n: 0 });
  });
});

describe('codes at sign-in and step-up', () => {
  it('accept a code once: the same code again within its window, or an older one, is a replay and refused', async () => {
    const { id, secret } = await enrolled();
    // The confirming code's step is used: it cannot sign in.
    expect(mfa.check(id, totpCode(secret, clock))).toBe(false);
    clock += 30_000;
    const code = totpCode(secret, clock);
    expect(mfa.check(id, code)).toBe(true);
    expect(mfa.check(id, code)).toBe(false);
    // Still inside its window 30 s on, still refused.
    clock += 30_000;
    expect(mfa.check(id, code)).toBe(false);
    // A newer step's code is taken, after which the previous step's (valid in the window) is not.
    const previous = totpCode(secret, clock - 30_000);
    expect(mfa.check(id, totpCode(secret, clock))).toBe(true);
    expect(mfa.check(id, previous)).toBe(false);
  });

  it('accept each recovery code once, however it is typed, for its own operator only', async () => {
    const ada = await enrolled('ada');
    const bob = await enrolled('bob');
    const [first, second] = ada.recoveryCodes as [string, string];
    expect(mfa.check(bob.id, first)).toBe(false);
    expect(mfa.check(ada.id, first.toLowerCase().replace(/-/g, ' '))).toBe(true);
    expect(mfa.check(ada.id, first)).toBe(false);
    expect(mfa.state(ada.id).recoveryCodesLeft).toBe(RECOVERY_CODE_COUNT - 1);
    expect(mfa.check(ada.id, second)).toBe(true);
    expect(mfa.state(ada.id).recoveryCodesLeft).toBe(RECOVERY_CODE_COUNT - 2);
    expect(mfa.check(ada.id, 'AAAA-BBBB-CCCC')).toBe(false);
    expect(mfa.state(bob.id).recoveryCodesLeft).toBe(RECOVERY_CODE_COUNT);
  });

  it('step-up: with it on, admin actions need a code on this pipe for this operator within the last minutes', async () => {
    const { id } = await enrolled('ada');
    const bob = await operators.add({ name: 'bob', role: 'admin', password: 'correct horse battery bob', attributes: {} });
    const stepUps = createStepUps({ mfa, now: () => clock });
    const ran: string[] = [];
    const handlers = withStepUp(
      {
        'installs.upgrade': () => void ran.push('upgrade'),
        'installs.rollback': () => void ran.push('rollback'),
        'hosts.trust': () => void ran.push('trust'),
        'operators.remove': () => void ran.push('remove'),
        'fleet.restart': () => void ran.push('restart'),
      } as unknown as MethodHandlers,
      stepUps,
    );
    let operatorId: number | undefined = id;
    const session: PipeSession = { signIn: (next) => void (operatorId = next), signOut: () => void (operatorId = undefined), operatorId };
    const caller = (): Caller => ({
      actor: 'test',
      peer: 'test',
      session,
      operator: { id: operatorId!, name: operatorId === id ? 'ada' : 'bob', role: 'admin' },
    });
    const call = (method: 'installs.upgrade' | 'installs.rollback' | 'hosts.trust' | 'operators.remove' | 'fleet.restart') =>
      (handlers[method] as unknown as (params: unknown, caller: Caller) => unknown)({}, caller());

    // Off: nothing asked.
    call('installs.upgrade');
    mfa.setStepUpRequired(true);
    expect(refusal(() => call('installs.upgrade')).code).toBe('MFA_STEP_UP_REQUIRED');
    // A rollback changes what is installed as an upgrade does: no way around the code.
    expect(refusal(() => call('installs.rollback')).code).toBe('MFA_STEP_UP_REQUIRED');
    expect(refusal(() => call('hosts.trust')).code).toBe('MFA_STEP_UP_REQUIRED');
    expect(refusal(() => call('operators.remove')).code).toBe('MFA_STEP_UP_REQUIRED');
    // An operator's everyday action is not an admin action.
    call('fleet.restart');
    expect(stepUps.mark(session, id)).toBe(clock + STEP_UP_MS);
    call('hosts.trust');
    // Another operator signed in on the same pipe inherits nothing (and, not enrolled, is told to enrol).
    session.signIn(bob.id);
    const notEnrolled = refusal(() => call('hosts.trust'));
    expect(notEnrolled.code).toBe('MFA_STEP_UP_REQUIRED');
    expect(notEnrolled.message).toContain('bob has no two-factor sign-in');
    session.signIn(id);
    call('operators.remove');
    clock += STEP_UP_MS;
    expect(refusal(() => call('operators.remove')).code).toBe('MFA_STEP_UP_REQUIRED');
    expect(ran).toEqual(['upgrade', 'restart', 'trust', 'remove']);
    mfa.setStepUpRequired(false);
    call('operators.remove');
  });
});

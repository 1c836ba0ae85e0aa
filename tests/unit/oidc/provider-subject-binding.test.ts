// An operator signed in through the site's provider is bound to the provider account
// (issuer, subject) it first came with (migration 029): a name claim the person can change at
// the provider, or one in another script that case folding would turn into an operator's
// name, signs in as no one else. Real SQLite, the real operator service and sign-in limiter;
// the provider's answer is given (oidc-sign-in.ts checks the ID token; its tests do that).
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderSignInHandlers } from '../../../electron/backend/app/provider-sign-in-handlers';
import type { ProviderIdentity, ProviderSignIn } from '../../../electron/backend/oidc/oidc-sign-in';
import { createOperatorMfa } from '../../../electron/backend/operators/operator-mfa';
import { createOperatorMfaRepo } from '../../../electron/backend/operators/operator-mfa-repo';
import { createOperatorService, type OperatorService } from '../../../electron/backend/operators/operator-service';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createSignInLimiter } from '../../../electron/backend/operators/sign-in-limiter';
import { createStepUps } from '../../../electron/backend/operators/step-up';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { createPipeSession, type Caller } from '../../../electron/backend/server/dispatcher';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { ApiError, type Session } from '../../../electron/contract';
import { makeTempDir } from '../../support/temp-dir';

const ISSUER = 'https://sso.example.org';

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let operators: OperatorService;
let answer: ProviderIdentity;
let handlers: ReturnType<typeof createProviderSignInHandlers>;
/** The URLs handed to the system browser, in order. */
let opened: string[];

beforeEach(async () => {
  dir = makeTempDir('sutazai-provider-subject-');
  store = openStore({ dataDir: dir.path });
  const vault = createSecretVault(store.db);
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  const now = () => Date.UTC(2026, 11, 6, 12, 0, 0);
  operators = createOperatorService({ repo: createOperatorsRepo(store.db), now });
  const flow: ProviderSignIn = {
    displayName: 'Site SSO',
    begin: (redirectUri) => Promise.resolve({ url: `https://idp.example/auth?redirect_uri=${redirectUri}`, state: 'st', binding: 'b' }),
    complete: () => Promise.resolve(answer),
  };
  const mfa = createOperatorMfa({ repo: createOperatorMfaRepo(store.db), vault, now });
  handlers = createProviderSignInHandlers({
    operators,
    mfa,
    stepUps: createStepUps({ mfa, now }),
    now,
    signInLimiter: createSignInLimiter({ db: store.db, now }),
    signInProvider: { config: { kind: 'none' }, flow },
    openExternal: (url) => void opened.push(url),
  });
  opened = [];
  await operators.add({ name: 'ada', role: 'admin', password: 'ada is on the day shift', attributes: {} });
  await operators.add({ name: 'kate', role: 'operator', password: 'kate is on the night shift', attributes: {} });
});

afterEach(() => {
  store.close();
  dir.remove();
});

/** A provider sign-in answered with `who`: the operator signed in, or the refusal's code and message. */
async function signIn(operatorName: string, subject: string): Promise<string> {
  answer = { operatorName, subject, issuer: ISSUER, multiFactor: false };
  const session = createPipeSession();
  const caller = { actor: 'web:test', peer: 'test', address: '192.0.2.1', session } as unknown as Caller;
  // The handler's type allows a plain value: made a promise to take its refusal.
  const outcome: unknown = await Promise.resolve()
    .then(() => handlers['session.completeProviderSignIn']({ state: 's', code: 'c', binding: 'b' }, caller))
    .catch((error: unknown) => error);
  if (!(outcome instanceof ApiError) && outcome instanceof Error) throw outcome;
  if (outcome instanceof ApiError) {
    expect(session.operatorId).toBeUndefined();
    return outcome.code;
  }
  const signedIn = outcome as Session;
  expect(session.operatorId).toBe(signedIn.operator?.id);
  return `signed in as ${signedIn.operator?.name}`;
}

describe('provider sign-in binds the operator to the provider account', () => {
  it('links the first account, refuses another with the same name claim until an admin clears the link', async () => {
    expect(await signIn('ada', 'subject-of-ada')).toBe('signed in as ada');
    expect(await signIn('ada', 'subject-of-ada')).toBe('signed in as ada');
    // Someone who renamed their own provider account to "ada".
    expect(await signIn('ada', 'subject-of-mallory')).toBe('OIDC_OPERATOR_REFUSED');
    await operators.set('ada', { clearProviderSubject: true });
    expect(await signIn('ada', 'subject-of-ada-new')).toBe('signed in as ada');
    expect(await signIn('ada', 'subject-of-ada')).toBe('OIDC_OPERATOR_REFUSED');
  });

  it('an account linked to one operator signs in as no other, whatever name it claims next', async () => {
    expect(await signIn('ada', 'subject-of-ada')).toBe('signed in as ada');
    expect(await signIn('kate', 'subject-of-ada')).toBe('OIDC_OPERATOR_REFUSED');
    expect(await signIn('kate', 'subject-of-kate')).toBe('signed in as kate');
  });

  it('compares the name exactly: no case folding, so the Kelvin sign is no "k"', async () => {
    expect(await signIn('\u212Aate', 'subject-1')).toBe('OIDC_OPERATOR_REFUSED');
    expect(await signIn('Kate', 'subject-2')).toBe('OIDC_OPERATOR_REFUSED');
    expect(await signIn('kate', 'subject-3')).toBe('signed in as kate');
  });

  it('removing the operator forgets its link', async () => {
    expect(await signIn('kate', 'subject-of-kate')).toBe('signed in as kate');
    operators.remove('kate');
    await operators.add({ name: 'kate', role: 'operator', password: 'kate is on the night shift', attributes: {} });
    expect(await signIn('kate', 'subject-of-someone-else')).toBe('signed in as kate');
  });
});

describe('desktop sign-in through the provider, abandoned', () => {
  it("an abandoned try does not count against 'local', and a new one on the same window replaces the one under way", async () => {
    const caller = { actor: 'desktop', peer: 'port:test', session: createPipeSession() } as unknown as Caller;
    const outcomes: Array<Promise<unknown>> = [];
    // More than the 20 failures 'local' may have: each press replaces (cancels) the one before.
    for (let i = 0; i < 30; i++) {
      const before = opened.length;
      outcomes.push(
        Promise.resolve()
          .then(() => handlers['session.signInWithProvider']({}, caller))
          .catch((error: unknown) => error),
      );
      await expect.poll(() => opened.length).toBe(before + 1);
    }
    for (const outcome of outcomes.slice(0, -1)) expect(((await outcome) as ApiError).message).toMatch(/it was cancelled/);
    // The last one was never throttled; the browser comes back to it and it signs in.
    answer = { operatorName: 'ada', subject: 'subject-of-ada', issuer: ISSUER, multiFactor: false };
    const callback = new URL(new URL(opened.at(-1)!).searchParams.get('redirect_uri')!);
    expect((await fetch(`${callback.href}?state=st&code=c`)).status).toBe(200);
    expect(await outcomes.at(-1)).toMatchObject({ operator: { name: 'ada' } });
  });
});

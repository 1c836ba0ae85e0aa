// The second step of a provider sign-in (web mode): an operator with this control center's TOTP
// whose provider attested no second factor gets a ticket instead of a session, and signs in only
// with a right code for that ticket. Real SQLite, the real operator service, TOTP, sign-in
// limiter and step-up marks; the provider's answer is given (oidc-sign-in.ts checks the ID token).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECOND_STEP_MS, SECOND_STEP_TRIES } from '../../../electron/backend/app/provider-second-step';
import { createProviderSignInHandlers } from '../../../electron/backend/app/provider-sign-in-handlers';
import type { ProviderIdentity, ProviderSignIn } from '../../../electron/backend/oidc/oidc-sign-in';
import { createOperatorMfa, type OperatorMfa } from '../../../electron/backend/operators/operator-mfa';
import { createOperatorMfaRepo } from '../../../electron/backend/operators/operator-mfa-repo';
import { createOperatorService, type OperatorService } from '../../../electron/backend/operators/operator-service';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createSignInLimiter } from '../../../electron/backend/operators/sign-in-limiter';
import { createStepUps } from '../../../electron/backend/operators/step-up';
import { totpCode } from '../../../electron/backend/operators/totp';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { createWebSessions } from '../../../electron/backend/operators/web-sessions';
import {
  createDispatcher,
  createPipeSession,
  type Caller,
  type EventSources,
  type MethodHandlers,
  type PipeSession,
} from '../../../electron/backend/server/dispatcher';
import { completeSecondStep, SECOND_STEP_COOKIE } from '../../../electron/backend/server/web-team-provider';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { ApiError, type Session } from '../../../electron/contract';
import { makeTempDir } from '../../support/temp-dir';

const ISSUER = 'https://sso.example.org';

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let operators: OperatorService;
let mfa: OperatorMfa;
let clock: number;
let secret = '';
let handlers: ReturnType<typeof createProviderSignInHandlers>;
let answer: ProviderIdentity;
let flow: ProviderSignIn;

beforeEach(async () => {
  dir = makeTempDir('sutazai-provider-second-step-');
  store = openStore({ dataDir: dir.path });
  const vault = createSecretVault(store.db);
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  clock = Date.UTC(2026, 11, 6, 12, 0, 0);
  const now = () => clock;
  operators = createOperatorService({ repo: createOperatorsRepo(store.db), now });
  mfa = createOperatorMfa({ repo: createOperatorMfaRepo(store.db), vault, now });
  flow = {
    displayName: 'Site SSO',
    begin: () => Promise.resolve({ url: 'https://idp.example/auth', state: 'st', binding: 'b' }),
    complete: () => Promise.resolve(answer),
  };
  handlers = createProviderSignInHandlers({
    operators,
    mfa,
    stepUps: createStepUps({ mfa, now }),
    now,
    signInLimiter: createSignInLimiter({ db: store.db, now }),
    signInProvider: { config: { kind: 'none' }, flow },
    openExternal: () => undefined,
  });
  const ada = await operators.add({ name: 'ada', role: 'admin', password: 'ada is on the day shift', attributes: {} });
  ({ secret } = mfa.begin(ada));
  mfa.confirm(ada.id, totpCode(secret, clock - 30_000));
});

afterEach(() => {
  store.close();
  dir.remove();
});

/** A pipe of its own, as web mode gives each callback and code (with the step-up it is marked with). */
function pipe(): { caller: Caller; session: PipeSession; stepUp: () => number | undefined } {
  const inner = createPipeSession();
  let until: number | undefined;
  const session: PipeSession = {
    signIn: (id) => inner.signIn(id),
    signOut: () => inner.signOut(),
    get operatorId() {
      return inner.operatorId;
    },
    markStepUp: (value) => void (until = value),
  };
  return { caller: { actor: 'web:test', peer: 'test', address: '192.0.2.1', session }, session, stepUp: () => until };
}

/** The provider signs ada in (`multiFactor`: its amr attested a second factor), from her account there unless `subject` says another. */
async function providerSignIn(multiFactor: boolean, subject = 'subject-of-ada'): Promise<unknown> {
  answer = { operatorName: 'ada', subject, issuer: ISSUER, multiFactor };
  const { caller } = pipe();
  return await Promise.resolve(handlers['session.completeProviderSignIn']({ state: 's', code: 'c', binding: 'b' }, caller));
}

async function ticketOf(): Promise<string> {
  const result = (await providerSignIn(false)) as { secondStep: { ticket: string; operator: string; expiresAt: number } };
  expect(result.secondStep).toMatchObject({ operator: 'ada', expiresAt: clock + SECOND_STEP_MS });
  return result.secondStep.ticket;
}

/** The second step on a fresh pipe: the operator it signed in as, or the refusal's code. */
async function secondStep(ticket: string, code: string): Promise<{ outcome: string; stepUp?: number }> {
  const { caller, session, stepUp } = pipe();
  const outcome: unknown = await Promise.resolve()
    .then(() => handlers['session.completeProviderSecondStep']({ ticket, code }, caller))
    .catch((error: unknown) => error);
  if (outcome instanceof ApiError) {
    expect(session.operatorId).toBeUndefined();
    return { outcome: outcome.code };
  }
  if (outcome instanceof Error) throw outcome;
  const signedIn = outcome as Session;
  expect(session.operatorId).toBe(signedIn.operator?.id);
  return { outcome: `signed in as ${signedIn.operator?.name}`, stepUp: stepUp()! };
}

describe('a provider sign-in that waits for the two-factor code', () => {
  it('signs in at once when the provider attested a second factor (amr), without a ticket', async () => {
    expect(await providerSignIn(true)).toMatchObject({ operator: { name: 'ada' } });
  });

  it('asks for the code instead of refusing; a wrong code is refused, the right one signs in once and counts as the step-up', async () => {
    const ticket = await ticketOf();
    expect(ticket).toMatch(/^[\w-]{43}$/);
    expect(await secondStep(ticket, totpCode(secret, clock + 10 * 30_000))).toEqual({ outcome: 'SIGN_IN_FAILED' });
    const right = totpCode(secret, clock);
    expect(await secondStep(ticket, right)).toEqual({ outcome: 'signed in as ada', stepUp: clock + 5 * 60_000 });
    // The ticket signed in once.
    expect((await secondStep(ticket, totpCode(secret, clock + 30_000))).outcome).toBe('OIDC_SIGN_IN_FAILED');
    // The same code on a new sign-in: used already within its window.
    expect((await secondStep(await ticketOf(), right)).outcome).toBe('SIGN_IN_FAILED');
  });

  it('refuses a ticket past its 5 minutes, an unknown one, and one that took its wrong codes', async () => {
    const late = await ticketOf();
    clock += SECOND_STEP_MS;
    expect((await secondStep(late, totpCode(secret, clock))).outcome).toBe('OIDC_SIGN_IN_FAILED');
    expect((await secondStep('a'.repeat(43), totpCode(secret, clock))).outcome).toBe('OIDC_SIGN_IN_FAILED');
    const guessed = await ticketOf();
    const wrong = totpCode(secret, clock + 20 * 30_000);
    for (let guess = 1; guess <= SECOND_STEP_TRIES; guess += 1) {
      const { outcome } = await secondStep(guessed, wrong);
      // The name's limit (5 failures) and the ticket's tries end together here; either refuses.
      expect(['SIGN_IN_FAILED', 'SIGN_IN_THROTTLED']).toContain(outcome);
    }
    clock += 60 * 60_000; // the name's waits are forgotten; the ticket is long gone anyway
    expect((await secondStep(guessed, totpCode(secret, clock))).outcome).toBe('OIDC_SIGN_IN_FAILED');
  });

  it("counts each code against the operator's name: past its allowance even the right code waits", async () => {
    for (let guess = 1; guess <= 5; guess += 1) {
      const ticket = await ticketOf();
      expect((await secondStep(ticket, totpCode(secret, clock + (20 + guess) * 30_000))).outcome).toBe('SIGN_IN_FAILED');
    }
    expect((await secondStep(await ticketOf(), totpCode(secret, clock))).outcome).toBe('SIGN_IN_THROTTLED');
  });

  it('ends the ticket when the operator was disabled meanwhile', async () => {
    // Another admin keeps one enabled while ada is disabled.
    await operators.add({ name: 'bea', role: 'admin', password: 'bea is on the late shift', attributes: {} });
    const ticket = await ticketOf();
    await operators.set('ada', { disabled: true });
    expect((await secondStep(ticket, totpCode(secret, clock))).outcome).toBe('OIDC_OPERATOR_REFUSED');
    await operators.set('ada', { disabled: false });
    expect((await secondStep(ticket, totpCode(secret, clock + 30_000))).outcome).toBe('OIDC_SIGN_IN_FAILED');
  });

  it("refuses another provider account naming ada before any ticket, and spends none of her name's tries", async () => {
    operators.bindProviderSubject(operators.named('ada'), ISSUER, 'ada-real');
    // bea's account names ada: the account is another operator's.
    const bea = await operators.add({ name: 'bea', role: 'admin', password: 'bea is on the late shift', attributes: {} });
    operators.bindProviderSubject(bea, ISSUER, 'bea-real');
    const refusalOf = (subject: string) =>
      providerSignIn(false, subject).then(
        (result) => ({ result }),
        (error: unknown) => ({ code: error instanceof ApiError ? error.code : String(error) }),
      );
    // Each is a failed provider try (counted against the attempt and the address, never ada's name).
    for (let guess = 1; guess <= 2; guess += 1) {
      expect(await refusalOf('mallory')).toEqual({ code: 'OIDC_OPERATOR_REFUSED' });
      expect(await refusalOf('bea-real')).toEqual({ code: 'OIDC_OPERATOR_REFUSED' });
    }
    // Nothing was linked by the refusals, and ada's own account still signs in with her code at once.
    expect(() => operators.checkProviderSubject(operators.named('ada'), ISSUER, 'ada-real')).not.toThrow();
    const result = (await providerSignIn(false, 'ada-real')) as { secondStep: { ticket: string } };
    expect(await secondStep(result.secondStep.ticket, totpCode(secret, clock))).toMatchObject({ outcome: 'signed in as ada' });
  });
});

describe('POST and DELETE /oidc/second-step', () => {
  /** The route on a real HTTP server, over a dispatcher with the provider's handlers. */
  async function withRoute(use: (send: (method: string, cookie: string, code?: string) => Promise<Response>) => Promise<void>) {
    const dispatcher = createDispatcher({
      handlers: handlers as Partial<MethodHandlers> as MethodHandlers,
      sources: {} as EventSources,
      logger: { warn: () => {}, error: () => {} },
    });
    const deps = {
      dispatcher,
      sessions: createWebSessions({ db: store.db, now: () => clock }),
      provider: flow,
      names: ['localhost'],
      port: 0,
    };
    const server = http.createServer((req, res) => {
      void completeSecondStep(req, deps).then((reply) => {
        res.writeHead(reply.status, reply.setCookie === undefined ? {} : { 'Set-Cookie': reply.setCookie });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await use((method, cookie, code) =>
        fetch(`http://127.0.0.1:${port}/oidc/second-step`, {
          method,
          headers: { cookie: `${SECOND_STEP_COOKIE}=${cookie}` },
          ...(code === undefined ? {} : { body: JSON.stringify({ code }) }),
        }),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  const clearsCookie = (reply: Response) => reply.headers.getSetCookie().some((cookie) => cookie.startsWith(`${SECOND_STEP_COOKIE}=;`));

  it('DELETE ends the ticket on the server, not only the cookie: a copy of it signs in no more', async () => {
    const ticket = await ticketOf();
    await withRoute(async (send) => {
      const reply = await send('DELETE', ticket);
      expect(reply.status).toBe(200);
      expect(clearsCookie(reply)).toBe(true);
    });
    expect((await secondStep(ticket, totpCode(secret, clock))).outcome).toBe('OIDC_SIGN_IN_FAILED');
  });

  it("clears the cookie with the ticket's last wrong code, and not before", async () => {
    const ticket = await ticketOf();
    await withRoute(async (send) => {
      for (let guess = 1; guess <= SECOND_STEP_TRIES; guess += 1) {
        const reply = await send('POST', ticket, totpCode(secret, clock + (20 + guess) * 30_000));
        expect(reply.status).toBe(401);
        expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('SIGN_IN_FAILED');
        expect(clearsCookie(reply)).toBe(guess === SECOND_STEP_TRIES);
      }
    });
  });
});

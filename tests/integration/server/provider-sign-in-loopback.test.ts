import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../../electron/backend/app/backend';
import { totpCode } from '../../../electron/backend/operators/totp';
import { createPipeSession, desktopPipeGrants } from '../../../electron/backend/server/dispatcher';
import { ApiError, createApiClient, type ApiClient, type AuditEntry, type Transport } from '../../../electron/contract';
import { gotoPage, launchChromium } from '../../support/chromium';
import { keepPageLocal, signInAtProvider, startSignInProvider, type SignInProvider } from '../../support/oidc-sign-in-provider';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';

/**
 * The desktop app's sign-in through the site's OpenID Connect provider (RFC 8252): the
 * backend listens on 127.0.0.1 at a port of its own for this one sign-in, asks the shell to
 * open the provider's page in the system browser (here Debian's Chromium plays that browser:
 * the backend's openExternal hands it the URL), the person signs in at a real `oidc-provider`
 * and the browser comes back to the listener; the pipe is then signed in as that operator.
 * An operator with this control center's two-factor sign-in whose provider attested no second
 * factor is asked for the code on the same pipe (a ticket only that pipe may answer or cancel).
 */

describe('desktop sign-in through the provider, loopback redirect', () => {
  let provider: SignInProvider;
  let backend: Backend;
  let browser: Browser;
  /** The URLs the backend asked the system browser to open, in order. */
  const opened: string[] = [];
  /** The TOTP secrets and recovery codes of the operators with two-factor sign-in, by name. */
  const secrets: Record<string, string> = {};
  const recoveryCodes: Record<string, string[]> = {};

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-provider-loopback-');
    defer(dir.remove);
    provider = await startSignInProvider({
      webRedirects: ['https://localhost/oidc/callback'],
      // Someone who renamed their own provider account to "hedy".
      nameByAccount: { impostor: 'hedy' },
    });
    defer(() => provider.close());
    provider.configure(dir.path, 'desktop');
    browser = await launchChromium();
    defer(() => browser.close());
    backend = await startBackend({
      dataDir: dir.path,
      logLevel: 'warn',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
      fleetLinks: false,
      evaluateAlerts: false,
      // Two-factor secrets are sealed: the vault is open for the test that enrols one.
      vaultKey: { kind: 'passphrase', passphrase: 'the vault passphrase of this test' },
      // The system browser: the URL is opened in a new Chromium page by the test (openInBrowser).
      openExternal: (url) => void opened.push(url),
    });
    defer(() => backend.close());
    const admin = backend.openClient();
    await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'ada is on the day shift' });
    await admin.call('operators.add', { name: 'otto', role: 'operator', password: 'otto is on the night shift' });
    await admin.call('operators.set', { name: 'otto', disabled: true });
    // Operators with this control center's two-factor sign-in, one per test (each test spends its codes and tries).
    for (const name of ['grace', 'kate', 'lin', 'hedy']) {
      await admin.call('operators.add', { name, role: 'operator', password: `${name} is on the late shift` });
      secrets[name] = (await admin.call('mfa.enrolBegin', { name })).secret;
      // The step before now's: this step stays free for the first sign-in's code, however soon it comes.
      const confirmed = await admin.call('mfa.enrolConfirm', { name, code: totpCode(secrets[name]!, Date.now() - 30_000) });
      recoveryCodes[name] = confirmed.recoveryCodes;
    }
  });

  /** A pipe as one of the desktop app's windows has (its own sign-in). */
  function desktopClient(): ApiClient {
    let onMessage: (text: string) => void = () => undefined;
    const connection = backend.dispatcher.connect(
      (text) => queueMicrotask(() => onMessage(text)),
      'port:test',
      desktopPipeGrants(createPipeSession()),
      'desktop',
    );
    const transport: Transport = {
      send: (text) => queueMicrotask(() => connection.receive(text)),
      onMessage: (handler) => void (onMessage = handler),
      onClose: () => undefined,
      close: () => connection.close(),
    };
    return createApiClient(transport);
  }

  /** Signs in at the provider's own form in the page the backend had opened. */
  async function signInInBrowser(login: string): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    await keepPageLocal(page);
    await gotoPage(page, opened.at(-1)!);
    await signInAtProvider(page, provider.issuer, login);
    return page;
  }

  /** The desktop window's "Sign in with" on `client`, signed in at the provider as `login`: its answer (or refusal), and the browser tab's heading and text. */
  async function throughProvider(client: ApiClient, login: string): Promise<{ answer: unknown; heading: string; text: string }> {
    const before = opened.length;
    const signingIn = client.call('session.signInWithProvider', {}).catch((error: unknown) => error);
    await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(before + 1);
    const page = await signInInBrowser(login);
    const answer = await signingIn;
    const shown = { answer, heading: (await page.locator('h1').textContent()) ?? '', text: (await page.locator('p').textContent()) ?? '' };
    await page.close();
    return shown;
  }

  /** The ticket of a sign-in that waits for the two-factor code (fails the test when it is anything else). */
  function ticketOf(answer: unknown, operator: string): string {
    expect(answer).toEqual({ secondStep: { ticket: expect.any(String), operator, expiresAt: expect.any(Number) } });
    return (answer as { secondStep: { ticket: string } }).secondStep.ticket;
  }

  async function refusalOf(call: Promise<unknown>): Promise<ApiError> {
    const outcome = await call.then(
      () => null,
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(ApiError);
    return outcome as ApiError;
  }

  /** The sign-in audit entries of `method` as "outcome target", read by ada (an admin, password sign-in). */
  async function auditOf(method: string): Promise<string[]> {
    const auditor = desktopClient();
    await auditor.call('session.signIn', { name: 'ada', password: 'ada is on the day shift' });
    const { entries } = await auditor.call('audit.list', { action: 'sign-in', limit: 200 });
    return (entries as AuditEntry[])
      .filter((entry) => entry.method === method)
      .map((entry) => `${entry.actor} ${entry.outcome} ${entry.target}`);
  }

  it('opens the provider in the system browser with PKCE, comes back to 127.0.0.1 and signs the window in', async () => {
    const client = desktopClient();
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });
    expect(await client.call('session.provider', {})).toEqual({ displayName: 'Test SSO', problem: null });
    const signingIn = client.call('session.signInWithProvider', {});
    await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(1);
    const asked = new URL(opened[0]!);
    expect(asked.origin).toBe(provider.issuer);
    expect(asked.searchParams.get('code_challenge_method')).toBe('S256');
    expect(asked.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(asked.searchParams.get('nonce')).toMatch(/^[\w-]{43}$/);
    const page = await signInInBrowser('ada');
    // ada has no two-factor sign-in: signed in at once, no code asked.
    expect(await signingIn).toMatchObject({ operator: { name: 'ada', role: 'admin' } });
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: { name: 'ada' } });
    expect(await page.locator('h1').textContent()).toBe('Signed in');
    // The listener answered once and is gone: its port takes nothing more.
    const callback = new URL(asked.searchParams.get('redirect_uri')!);
    await expect(fetch(callback)).rejects.toThrow();
    // Audited as every sign-in is, with its outcome.
    const { entries } = await client.call('audit.list', { action: 'sign-in' });
    // It names who signed in, known only from the provider's ID token (no name in the params).
    expect(entries.find((entry) => entry.method === 'session.signInWithProvider')).toMatchObject({
      actor: 'desktop',
      outcome: 'ok',
      target: 'operator ada',
    });
  });

  it('refuses a disabled operator and one unknown here, each with the reason', async () => {
    for (const [login, reason] of [
      ['otto', /that operator is disabled here/],
      ['mallory', /no operator of that name/],
    ] as const) {
      const client = desktopClient();
      const signingIn = client.call('session.signInWithProvider', {}).catch((error: unknown) => error);
      const before = opened.length;
      await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(before + 1);
      const page = await signInInBrowser(login);
      const refusal = await signingIn;
      expect(refusal).toBeInstanceOf(ApiError);
      expect((refusal as ApiError).code).toBe('OIDC_OPERATOR_REFUSED');
      expect((refusal as ApiError).message).toMatch(reason);
      expect(await page.locator('h1').textContent()).toBe('Not signed in');
      expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });
      // The audit entry names who the provider said signed in and their account there.
      const auditor = desktopClient();
      await auditor.call('session.signIn', { name: 'ada', password: 'ada is on the day shift' });
      const { entries } = await auditor.call('audit.list', { action: 'sign-in' });
      expect(entries.find((entry) => entry.outcome === 'OIDC_OPERATOR_REFUSED' && entry.target?.includes(`"${login}"`))).toMatchObject({
        method: 'session.signInWithProvider',
        target: `claimed "${login}" (${provider.issuer} subject "${login}")`,
      });
    }
  });

  it("asks an operator with this control center's two-factor sign-in for the code when the provider's amr shows no second factor: a wrong one refused, the right one signs the window in with a step-up", async () => {
    const client = desktopClient();
    const { answer, heading, text } = await throughProvider(client, 'grace');
    const ticket = ticketOf(answer, 'grace');
    // Not signed in yet: the browser's tab sends the person back to the app.
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });
    expect(heading).toBe('Two-factor code needed');
    expect(text).toContain('The provider signed you in as grace. Return to SutazAI Control Center and type your two-factor code there');

    const wrong = await refusalOf(
      client.call('session.completeProviderSecondStep', { ticket, code: totpCode(secrets.grace!, Date.now() + 10 * 30_000) }),
    );
    expect(wrong.code).toBe('SIGN_IN_FAILED');
    expect(wrong.message).toBe('That two-factor code is not valid now, or it was used already.');
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });

    const session = await client.call('session.completeProviderSecondStep', { ticket, code: totpCode(secrets.grace!, Date.now()) });
    expect(session.operator).toMatchObject({ name: 'grace', role: 'operator' });
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: { name: 'grace' } });
    // The code counts as the sign-in's step-up, as at a password sign-in with the code.
    expect((await client.call('mfa.status', {})).stepUpUntil).toBeGreaterThan(Date.now());
    // The ticket signs in once.
    expect(
      (await refusalOf(client.call('session.completeProviderSecondStep', { ticket, code: totpCode(secrets.grace!, Date.now()) }))).code,
    ).toBe('OIDC_SIGN_IN_FAILED');

    // The provider asked for a second factor this time (RFC 8176 `mfa` in the ID token's amr): signed in at once, with no step-up.
    provider.setAmr(['mfa', 'pwd', 'otp']);
    try {
      const attested = desktopClient();
      const direct = await throughProvider(attested, 'grace');
      expect(direct.answer).toMatchObject({ operator: { name: 'grace' } });
      expect(direct.heading).toBe('Signed in');
      expect((await attested.call('mfa.status', {})).stepUpUntil).toBeNull();
    } finally {
      provider.setAmr(undefined);
    }

    const claimed = `claimed "grace" (${provider.issuer} subject "grace"), two-factor code`;
    expect(await auditOf('session.signInWithProvider')).toEqual(
      expect.arrayContaining(['desktop ok operator grace, two-factor code asked', 'desktop ok operator grace']),
    );
    expect(await auditOf('session.completeProviderSecondStep')).toEqual(
      // The used ticket's refusal names no one: it no longer says whose it was.
      expect.arrayContaining([`desktop SIGN_IN_FAILED ${claimed}`, 'desktop ok operator grace', 'desktop OIDC_SIGN_IN_FAILED null']),
    );
  });

  it('counts wrong codes like wrong passwords: the fifth ends the sign-in, and the name is throttled', async () => {
    const client = desktopClient();
    const ticket = ticketOf((await throughProvider(client, 'kate')).answer, 'kate');
    const wrongCode = totpCode(secrets.kate!, Date.now() + 10 * 30_000);
    const refusals: string[] = [];
    for (let i = 0; i < 5; i++) {
      const refusal = await refusalOf(client.call('session.completeProviderSecondStep', { ticket, code: wrongCode }));
      refusals.push(`${refusal.code}: ${refusal.message}`);
    }
    expect(refusals).toEqual([
      ...Array<string>(4).fill('SIGN_IN_FAILED: That two-factor code is not valid now, or it was used already.'),
      'SIGN_IN_FAILED: That two-factor code is not valid now, or it was used already; this sign-in took its last try.',
    ]);
    // Ended: the right code now finds no sign-in waiting.
    const ended = await refusalOf(client.call('session.completeProviderSecondStep', { ticket, code: totpCode(secrets.kate!, Date.now()) }));
    expect(ended.code).toBe('OIDC_SIGN_IN_FAILED');
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });
    // The sign-in limiter counted them against kate's name: her right password waits too.
    const throttled = await refusalOf(desktopClient().call('session.signIn', { name: 'kate', password: 'kate is on the late shift' }));
    expect(throttled.code).toBe('SIGN_IN_THROTTLED');
  });

  it('binds the waiting sign-in to the window that started it: another pipe can neither answer nor cancel it; "Sign in another way" ends it', async () => {
    const owner = desktopClient();
    const ticket = ticketOf((await throughProvider(owner, 'lin')).answer, 'lin');
    const other = desktopClient();
    const code = totpCode(secrets.lin!, Date.now());
    const foreign = await refusalOf(other.call('session.completeProviderSecondStep', { ticket, code }));
    expect(foreign.code).toBe('OIDC_SIGN_IN_FAILED');
    expect(await other.call('session.cancelProviderSecondStep', { ticket })).toEqual({ cancelled: false });
    expect(await other.call('session.whoami', {})).toMatchObject({ operator: null });
    // Still waiting for its own window, none of its tries spent, and the code not used up by the foreign try.
    expect((await owner.call('session.completeProviderSecondStep', { ticket, code })).operator).toMatchObject({ name: 'lin' });

    // A new sign-in, and the person chooses to sign in another way: it ends on the backend.
    const again = desktopClient();
    const next = ticketOf((await throughProvider(again, 'lin')).answer, 'lin');
    expect(await again.call('session.cancelProviderSecondStep', { ticket: next })).toEqual({ cancelled: true });
    const cancelled = await refusalOf(again.call('session.completeProviderSecondStep', { ticket: next, code: recoveryCodes.lin![0]! }));
    expect(cancelled.code).toBe('OIDC_SIGN_IN_FAILED');
    expect(await again.call('session.whoami', {})).toMatchObject({ operator: null });

    // Pressing "Sign in with" again on a window ends the sign-in it waited on.
    const third = ticketOf((await throughProvider(again, 'lin')).answer, 'lin');
    const fourth = ticketOf((await throughProvider(again, 'lin')).answer, 'lin');
    expect((await refusalOf(again.call('session.completeProviderSecondStep', { ticket: third, code: recoveryCodes.lin![0]! }))).code).toBe(
      'OIDC_SIGN_IN_FAILED',
    );
    expect(
      (await again.call('session.completeProviderSecondStep', { ticket: fourth, code: recoveryCodes.lin![0]! })).operator,
    ).toMatchObject({
      name: 'lin',
    });
  });

  it('checks the provider account before it asks for a code, and links it only once the code is right', async () => {
    // hedy is linked to no provider account yet: her own account and one renamed to "hedy" are both asked for the code.
    const hedy = desktopClient();
    const hedyTicket = ticketOf((await throughProvider(hedy, 'hedy')).answer, 'hedy');
    const impostor = desktopClient();
    const impostorTicket = ticketOf((await throughProvider(impostor, 'impostor')).answer, 'hedy');
    // The right code on hedy's own: signed in, and her account is now linked to her.
    expect(
      (await hedy.call('session.completeProviderSecondStep', { ticket: hedyTicket, code: totpCode(secrets.hedy!, Date.now()) })).operator,
    ).toMatchObject({
      name: 'hedy',
    });
    // The other account's waiting sign-in cannot end as hedy, whatever code it types.
    const late = await refusalOf(
      impostor.call('session.completeProviderSecondStep', { ticket: impostorTicket, code: recoveryCodes.hedy![0]! }),
    );
    expect(late.code).toBe('OIDC_OPERATOR_REFUSED');
    expect(await impostor.call('session.whoami', {})).toMatchObject({ operator: null });
    // From now on that account is refused before any code is asked.
    const refused = await throughProvider(desktopClient(), 'impostor');
    expect(refused.answer).toBeInstanceOf(ApiError);
    expect((refused.answer as ApiError).code).toBe('OIDC_OPERATOR_REFUSED');
    expect((refused.answer as ApiError).message).toContain('hedy is linked to another account at the provider');
    expect(refused.heading).toBe('Not signed in');

    expect(await auditOf('session.signInWithProvider')).toEqual(
      expect.arrayContaining([
        'desktop ok operator hedy, two-factor code asked',
        `desktop OIDC_OPERATOR_REFUSED claimed "hedy" (${provider.issuer} subject "impostor")`,
      ]),
    );
    expect(await auditOf('session.completeProviderSecondStep')).toEqual(
      expect.arrayContaining([
        'desktop ok operator hedy',
        `desktop OIDC_OPERATOR_REFUSED claimed "hedy" (${provider.issuer} subject "impostor"), two-factor code`,
      ]),
    );
  });

  it('a forged answer with another state is a 404 that leaves the sign-in waiting for the real browser', async () => {
    const client = desktopClient();
    const signingIn = client.call('session.signInWithProvider', {});
    const before = opened.length;
    await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(before + 1);
    const redirect = new URL(new URL(opened.at(-1)!).searchParams.get('redirect_uri')!);
    // Another program on this machine that guesses the port sends a forged answer first.
    redirect.searchParams.set('state', 'forged-state');
    redirect.searchParams.set('code', 'forged-code');
    const answer = await fetch(redirect);
    expect(answer.status).toBe(404);
    expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });
    const page = await signInInBrowser('ada');
    expect(await signingIn).toMatchObject({ operator: { name: 'ada' } });
    expect(await page.locator('h1').textContent()).toBe('Signed in');
  });
});

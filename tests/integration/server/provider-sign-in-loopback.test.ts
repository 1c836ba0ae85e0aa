import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../../electron/backend/app/backend';
import { totpCode } from '../../../electron/backend/operators/totp';
import { createPipeSession, desktopPipeGrants } from '../../../electron/backend/server/dispatcher';
import { ApiError, createApiClient, type ApiClient, type Transport } from '../../../electron/contract';
import { launchChromium } from '../../support/chromium';
import { keepPageLocal, signInAtProvider, startSignInProvider, type SignInProvider } from '../../support/oidc-sign-in-provider';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';

/**
 * The desktop app's sign-in through the site's OpenID Connect provider (RFC 8252): the
 * backend listens on 127.0.0.1 at a port of its own for this one sign-in, asks the shell to
 * open the provider's page in the system browser (here Debian's Chromium plays that browser:
 * the backend's openExternal hands it the URL), the person signs in at a real `oidc-provider`
 * and the browser comes back to the listener; the pipe is then signed in as that operator.
 */

describe('desktop sign-in through the provider, loopback redirect', () => {
  let provider: SignInProvider;
  let backend: Backend;
  let browser: Browser;
  /** The URLs the backend asked the system browser to open, in order. */
  const opened: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-provider-loopback-');
    defer(dir.remove);
    provider = await startSignInProvider({ webRedirects: ['https://localhost/oidc/callback'] });
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
    await page.goto(opened.at(-1)!);
    await signInAtProvider(page, provider.issuer, login);
    return page;
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
    const session = await signingIn;
    expect(session.operator).toMatchObject({ name: 'ada', role: 'admin' });
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

  it("refuses an operator with this control center's two-factor sign-in when the provider's amr shows no second factor, and signs her in when it shows one", async () => {
    const ada = desktopClient();
    await ada.call('session.signIn', { name: 'ada', password: 'ada is on the day shift' });
    const { secret } = await ada.call('mfa.enrolBegin', {});
    await ada.call('mfa.enrolConfirm', { code: totpCode(secret, Date.now()) });
    try {
      provider.setAmr(['pwd']);
      const client = desktopClient();
      const refused = client.call('session.signInWithProvider', {}).catch((error: unknown) => error);
      const before = opened.length;
      await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(before + 1);
      await signInInBrowser('ada');
      const refusal = (await refused) as ApiError;
      expect(refusal.code).toBe('MFA_REQUIRED');
      expect(refusal.message).toContain('the provider did not ask for a second factor');
      expect(await client.call('session.whoami', {})).toMatchObject({ operator: null });

      // The provider asked for a second factor this time (RFC 8176 `mfa` in the ID token's amr): signed in.
      provider.setAmr(['mfa', 'pwd', 'otp']);
      const attested = desktopClient();
      const signingIn = attested.call('session.signInWithProvider', {});
      const next = opened.length;
      await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(next + 1);
      await signInInBrowser('ada');
      expect((await signingIn).operator).toMatchObject({ name: 'ada' });
      expect(await attested.call('session.whoami', {})).toMatchObject({ operator: { name: 'ada' } });
    } finally {
      provider.setAmr(undefined);
      await ada.call('mfa.reset', { name: 'ada' }).catch(() => undefined);
    }
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
    expect((await signingIn).operator).toMatchObject({ name: 'ada' });
    expect(await page.locator('h1').textContent()).toBe('Signed in');
  });
});

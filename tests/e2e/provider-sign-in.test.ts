import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createInstallCa } from '../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../electron/backend/pki/issue-certificate';
import { startQuietBackend } from '../support/backend-harness';
import { shoot } from '../support/e2e-screenshots';
import { collectPageProblems, gotoPage, launchChromium, newCspRecordingContext } from '../support/chromium';
import { keepPageLocal, signInAtProvider, startSignInProvider, type SignInProvider } from '../support/oidc-sign-in-provider';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { startWebModeServer, stopWebModeServer, waitForUrl } from '../support/web-mode-server';

/**
 * Web mode for a team signing people in through the site's OpenID Connect provider (issue 14,
 * item 5): `npm run web` over TLS with a certificate from a test install's CA, a real
 * `oidc-provider` on 127.0.0.1, and Debian's Chromium. "Sign in with Test SSO" goes to the
 * provider with a state, a nonce and a PKCE challenge, and comes back signed in; a replayed
 * callback, a replayed code, a changed nonce, another browser's state and a person who is no
 * operator here are each refused with the reason, and the browser stays signed out.
 */

const TEAM_URL = /https:\/\/localhost:(\d+)\//;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('web mode for a team: sign-in through the OpenID Connect provider, in Chromium', () => {
  let browser: Browser;
  let provider: SignInProvider;
  let url = '';
  /** The web-mode server's output (its log). */
  let serverOutput: () => string = () => '';
  /** The callback of the first, successful sign-in, as the provider sent the browser to it. */
  let usedCallback = '';
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-provider-');
    defer(dir.remove);
    const dataDir = path.join(dir.path, 'data');
    const backend = await startQuietBackend(dataDir);
    const admin = backend.openClient();
    await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'ada is on the day shift' });
    await admin.call('operators.add', { name: 'otto', role: 'operator', password: 'otto is on the night shift' });
    await admin.call('operators.set', { name: 'otto', disabled: true });
    await backend.close();

    // The provider knows the callback in advance: the server listens on a port picked here.
    const port = await freePort();
    provider = await startSignInProvider({ webRedirects: [`https://localhost:${port}/oidc/callback`] });
    defer(() => provider.close());
    provider.configure(dataDir, 'web');

    const ca = await createInstallCa({ installName: 'e2e-provider-site' });
    const issued = await issueServerCertificate(ca, { hostName: 'control.test' });
    const certFile = path.join(dir.path, 'web.crt');
    const keyFile = path.join(dir.path, 'web.key');
    fs.writeFileSync(certFile, issued.certPem);
    fs.writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
    const server = startWebModeServer(dataDir, {}, [
      '--listen',
      '127.0.0.1',
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
      '--name',
      'localhost',
      '--port',
      String(port),
    ]);
    defer(() => stopWebModeServer(server));
    serverOutput = server.output;
    url = await waitForUrl(server, undefined, TEAM_URL);

    const spki = new X509Certificate(issued.certPem).publicKey.export({ type: 'spki', format: 'der' });
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]);
    defer(() => browser.close());
  });

  /** A fresh browser profile (its own cookies): a person who has not signed in. */
  async function newBrowser(options: { requests?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
    // The context's own HTTP client (startAttempt) does not take Chromium's trust of the test
    // certificate: it alone skips the check, in the contexts that use it.
    const context = await newCspRecordingContext(browser, options.requests ? { ignoreHTTPSErrors: true } : {});
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await keepPageLocal(page);
    collectPageProblems(page, problems);
    return { context, page };
  }

  /**
   * Starts a sign-in at /oidc/start from `context` (its cookies) without following the
   * redirect: the provider's URL this browser was sent to, its binding cookie kept. (A page's
   * route never sees the redirected request, so the test reads the redirect itself.)
   */
  async function startAttempt(context: BrowserContext): Promise<URL> {
    const response = await context.request.get(`${url}oidc/start`, { maxRedirects: 0 });
    expect(response.status()).toBe(302);
    const location = new URL(response.headers().location!);
    expect(location.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    return location;
  }

  /** The words of the error page a refused callback shows. */
  async function refusal(page: Page): Promise<string> {
    const text = (await page.locator('main').textContent()) ?? '';
    // A browser that is not signed in is told only that it failed, with a reference; the reason is in the log under it.
    const reference = /reference ([0-9a-f]{12})/.exec(text)?.[1];
    expect(reference, text).toBeDefined();
    await expect.poll(() => serverOutput().includes(reference!), { timeout: 10_000 }).toBe(true);
    const logged =
      serverOutput()
        .split('\n')
        .find((line) => line.includes(reference!)) ?? '';
    return `${text}\n${logged}`;
  }

  it('signs in through the provider from the sign-in page: PKCE, a state and a nonce, then an HttpOnly session', async () => {
    const { context, page } = await newBrowser();
    const asked: URL[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${provider.issuer}/auth?`)) asked.push(new URL(request.url()));
      if (request.url().startsWith(`${url}oidc/callback`)) usedCallback = request.url();
    });
    await gotoPage(page, url);
    await page.getByTestId('sign-in').waitFor();
    const button = page.getByTestId('provider-sign-in');
    expect(await button.textContent()).toBe('Sign in with Test SSO');
    // The page's words name both ways in, the provider's first (not "your name and password" above its button).
    const words = (await page.getByTestId('sign-in').locator('p').allTextContents()).join(' ');
    expect(words).toContain('sign in with Test SSO, or with your operator name and password');
    expect(words).toContain('Or with your name and password:');
    await shoot(page, 'provider-sign-in-page');
    await button.click();
    await page.locator('input[name=login]').waitFor();
    // The binding cookie: HttpOnly, Secure, Lax (it must come back on the provider's redirect).
    expect((await context.cookies(url)).map(({ name, httpOnly, secure, sameSite }) => ({ name, httpOnly, secure, sameSite }))).toEqual([
      { name: '__Host-sutazai-oidc', httpOnly: true, secure: true, sameSite: 'Lax' },
    ]);
    expect(asked).toHaveLength(1);
    const params = asked[0]!.searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('redirect_uri')).toBe(`${url}oidc/callback`);
    expect(params.get('scope')).toBe('openid profile');
    await signInAtProvider(page, provider.issuer, 'ada');
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('ada');
    expect(page.url()).toBe(url);
    // The session as a password sign-in makes it; the binding cookie is gone.
    expect((await context.cookies(url)).map(({ name, httpOnly, sameSite }) => ({ name, httpOnly, sameSite }))).toEqual([
      { name: '__Host-sutazai-session', httpOnly: true, sameSite: 'Strict' },
    ]);
    expect(usedCallback).toContain('code=');
    // Signed out, the page's socket is refused (401) until the sign-in; the provider's page fails to fetch its web font
    // here (kept local). Anything else is a problem.
    expect(problems.filter((problem) => !/WebSocket|401|ERR_INTERNET_DISCONNECTED/.test(problem))).toEqual([]);
    await context.close();
  });

  it('refuses the same callback a second time (a replayed state and code)', async () => {
    const { context, page } = await newBrowser();
    await gotoPage(page, usedCallback);
    const text = await refusal(page);
    expect(text).toContain('OIDC_SIGN_IN_FAILED');
    expect(text).toContain('unknown, used already or older than 5 minutes');
    expect((await context.cookies(url)).find((cookie) => cookie.name === '__Host-sutazai-session')).toBeUndefined();
    await context.close();
  });

  it("refuses a used code brought back with this browser's own fresh state (the provider refuses the code)", async () => {
    const { context, page } = await newBrowser({ requests: true });
    const state = (await startAttempt(context)).searchParams.get('state')!;
    const code = new URL(usedCallback).searchParams.get('code')!;
    await gotoPage(page, `${url}oidc/callback?state=${state}&code=${encodeURIComponent(code)}`);
    const text = await refusal(page);
    expect(text).toContain('OIDC_SIGN_IN_FAILED');
    expect(text).toContain('the provider refused the code (invalid_grant');
    await context.close();
  });

  it('refuses an ID token issued for another nonce', async () => {
    const { context, page } = await newBrowser({ requests: true });
    // Someone between the browser and the provider swaps the nonce: the token then names another sign-in.
    const changed = await startAttempt(context);
    changed.searchParams.set('nonce', 'a-nonce-of-another-sign-in');
    await gotoPage(page, changed.href);
    await signInAtProvider(page, provider.issuer, 'ada');
    const text = await refusal(page);
    expect(text).toContain('OIDC_SIGN_IN_FAILED');
    expect(text).toContain('its nonce does not match');
    expect((await context.cookies(url)).find((cookie) => cookie.name === '__Host-sutazai-session')).toBeUndefined();
    await context.close();
  });

  it("refuses another browser's state (the attempt is bound to the browser that started it)", async () => {
    const first = await newBrowser({ requests: true });
    const state = (await startAttempt(first.context)).searchParams.get('state')!;
    const second = await newBrowser();
    await gotoPage(second.page, `${url}oidc/callback?state=${state}&code=some-code`);
    const text = await refusal(second.page);
    expect(text).toContain('OIDC_SIGN_IN_FAILED');
    expect(text).toContain('started in another browser or window');
    await first.context.close();
    await second.context.close();
  });

  it('refuses a person who is no operator here, and a disabled operator, each with the reason', async () => {
    for (const [login, reason] of [
      ['mallory', 'this control center has no operator of that name'],
      ['otto', 'that operator is disabled here'],
    ] as const) {
      const { context, page } = await newBrowser();
      await gotoPage(page, `${url}oidc/start`);
      await signInAtProvider(page, provider.issuer, login);
      const text = await refusal(page);
      expect(text).toContain('OIDC_OPERATOR_REFUSED');
      expect(text).toContain(reason);
      // Only in the log: the page tells a stranger nothing of which operators exist or are disabled.
      const shown = (await page.locator('main').textContent()) ?? '';
      expect(shown).not.toContain(reason);
      expect(shown).not.toContain('OIDC_OPERATOR_REFUSED');
      if (login === 'mallory') await shoot(page, 'provider-sign-in-refused');
      // The way back to the sign-in page is on the refusal itself (its remedy says to start again there).
      expect(await page.getByRole('link', { name: 'Back to sign-in' }).getAttribute('href')).toBe('/');
      expect((await context.cookies(url)).find((cookie) => cookie.name === '__Host-sutazai-session')).toBeUndefined();
      await context.close();
    }
  });

  it("a provider sign-in in a browser already signed in ends that browser's earlier session", async () => {
    const { context, page } = await newBrowser({ requests: true });
    await gotoPage(page, `${url}oidc/start`);
    await signInAtProvider(page, provider.issuer, 'ada');
    await page.getByTestId('signed-in-as').waitFor();
    const sessionOf = async () => (await context.cookies(url)).find((cookie) => cookie.name === '__Host-sutazai-session')!.value;
    const earlier = await sessionOf();
    // Again, in the same browser (the provider may remember the person, or ask once more).
    await gotoPage(page, `${url}oidc/start`);
    if (page.url().startsWith(provider.issuer)) await signInAtProvider(page, provider.issuer, 'ada');
    await page.getByTestId('signed-in-as').waitFor();
    expect(await sessionOf()).not.toBe(earlier);
    // A copy of the earlier cookie is no live session: signing it out finds none.
    const signOut = await context.request.delete(`${url}session`, {
      headers: { cookie: `__Host-sutazai-session=${earlier}`, 'x-sutazai-client': 'e2e' },
    });
    expect(await signOut.json()).toMatchObject({ signedOut: false });
    await context.close();
  });
});

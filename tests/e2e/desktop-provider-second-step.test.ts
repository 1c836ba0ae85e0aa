import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../electron/backend/app/backend';
import { totpCode } from '../../electron/backend/operators/totp';
import type { AuditEntry } from '../../electron/contract';
import { collectPageProblems, cspViolations, gotoPage, launchChromium, newCspRecordingContext } from '../support/chromium';
import { startDesktopWindows, type DesktopWindows } from '../support/desktop-window';
import { shoot } from '../support/e2e-screenshots';
import { keepPageLocal, signInAtProvider, startSignInProvider, type SignInProvider } from '../support/oidc-sign-in-provider';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';

/**
 * The desktop app's sign-in screen through the site's OpenID Connect provider, for an operator
 * with this control center's two-factor sign-in whose provider did not attest a second factor
 * (issue 14): in Debian's Chromium, the renderer in a desktop window (the preload's stand-in
 * hands it a pipe with the desktop app's grants, tests/support/desktop-window.ts), a real
 * `oidc-provider`, and a second Chromium page as the system browser the backend opens. After
 * the provider the window asks for the two-factor code: a wrong one is refused and may be
 * typed again, the right one signs the window in; "Sign in another way" ends the waiting
 * sign-in on the backend and shows the sign-in form again.
 */

describe('desktop provider sign-in asks for the two-factor code, in Chromium', () => {
  let provider: SignInProvider;
  let backend: Backend;
  let browser: Browser;
  let context: BrowserContext;
  let windows: DesktopWindows;
  let secret = '';
  /** The URLs the backend asked the system browser to open, in order. */
  const opened: string[] = [];
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-desktop-second-step-');
    defer(dir.remove);
    provider = await startSignInProvider({ webRedirects: ['https://localhost/oidc/callback'] });
    defer(() => provider.close());
    provider.configure(dir.path, 'desktop');
    backend = await startBackend({
      dataDir: dir.path,
      logLevel: 'warn',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
      fleetLinks: false,
      evaluateAlerts: false,
      vaultKey: { kind: 'passphrase', passphrase: 'the vault passphrase of this test' },
      openExternal: (url) => void opened.push(url),
    });
    defer(() => backend.close());
    const admin = backend.openClient();
    await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'ada is on the day shift' });
    await admin.call('operators.add', { name: 'grace', role: 'operator', password: 'grace is on the late shift' });
    secret = (await admin.call('mfa.enrolBegin', { name: 'grace' })).secret;
    // The step before now's: this step stays free for the sign-in's code, however soon it comes.
    await admin.call('mfa.enrolConfirm', { name: 'grace', code: totpCode(secret, Date.now() - 30_000) });
    windows = await startDesktopWindows(backend.dispatcher, defer);
    browser = await launchChromium();
    defer(() => browser.close());
    context = await newCspRecordingContext(browser);
  });

  async function desktopWindow(): Promise<Page> {
    const page = await windows.open(context);
    page.setDefaultTimeout(30_000);
    collectPageProblems(page, problems, 'desktop window');
    return page;
  }

  /** Presses "Sign in with Test SSO" in `window` and signs in as `login` in the system browser's tab the backend opened. */
  async function throughProvider(window: Page, login: string): Promise<string> {
    const before = opened.length;
    await window.getByTestId('provider-sign-in').click();
    await expect.poll(() => opened.length, { timeout: 30_000 }).toBe(before + 1);
    const tab = await browser.newPage();
    tab.setDefaultTimeout(30_000);
    await keepPageLocal(tab);
    await gotoPage(tab, opened.at(-1)!);
    await signInAtProvider(tab, provider.issuer, login);
    const heading = (await tab.locator('h1').textContent()) ?? '';
    await tab.close();
    return heading;
  }

  async function typeCode(window: Page, code: string): Promise<void> {
    const form = window.getByTestId('second-step');
    await form.getByLabel('Two-factor code').fill(code);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('asks grace for her code after the provider: a wrong one refused, the right one signs the window in', async () => {
    const window = await desktopWindow();
    const signIn = window.getByTestId('sign-in');
    await signIn.waitFor();
    expect(await window.getByTestId('provider-sign-in').textContent()).toBe('Sign in with Test SSO');
    await shoot(window, 'desktop-provider-sign-in');

    expect(await throughProvider(window, 'grace')).toBe('Two-factor code needed');
    const form = window.getByTestId('second-step');
    await form.waitFor();
    expect(await form.textContent()).toContain('You signed in at Test SSO as grace.');
    expect(await window.getByTestId('signed-in-as').count()).toBe(0);
    await shoot(window, 'desktop-provider-two-factor-code');

    await typeCode(window, totpCode(secret, Date.now() + 10 * 30_000));
    await form.getByRole('alert').waitFor();
    expect(await form.getByRole('alert').textContent()).toContain('That two-factor code is not valid now, or it was used already.');
    await shoot(window, 'desktop-provider-two-factor-wrong');

    await typeCode(window, totpCode(secret, Date.now()));
    await window.getByTestId('signed-in-as').waitFor();
    expect(await window.getByTestId('signed-in-as').textContent()).toContain('grace');
    await shoot(window, 'desktop-provider-signed-in');
    expect(await cspViolations(window)).toEqual([]);
  });

  it('"Sign in another way" ends the waiting sign-in on the backend and shows the sign-in form again', async () => {
    const window = await desktopWindow();
    await window.getByTestId('sign-in').waitFor();
    await throughProvider(window, 'grace');
    const form = window.getByTestId('second-step');
    await form.waitFor();
    await form.getByRole('button', { name: 'Sign in another way' }).click();
    await window.getByTestId('sign-in').waitFor();
    expect(await window.getByTestId('second-step').count()).toBe(0);
    expect(await window.getByTestId('provider-sign-in').textContent()).toBe('Sign in with Test SSO');

    // The backend ended it (the window's cancel found it waiting), recorded with the rest of the sign-in.
    const auditor = backend.openClient();
    await auditor.call('session.signIn', { name: 'ada', password: 'ada is on the day shift' });
    const { entries } = await auditor.call('audit.list', { action: 'sign-in', limit: 100 });
    const of = (method: string) =>
      (entries as AuditEntry[])
        .filter((entry) => entry.method === method)
        .map((entry) => `${entry.actor} ${entry.outcome} ${entry.target}`);
    expect(of('session.signInWithProvider')).toEqual([
      'desktop ok operator grace, two-factor code asked',
      'desktop ok operator grace, two-factor code asked',
    ]);
    expect(of('session.cancelProviderSecondStep')).toEqual(['desktop ok null']);
    const claimed = `claimed "grace" (${provider.issuer} subject "grace"), two-factor code`;
    expect(of('session.completeProviderSecondStep').sort()).toEqual(
      [`desktop SIGN_IN_FAILED ${claimed}`, 'desktop ok operator grace'].sort(),
    );
    // Neither window logged a console error or page error (CSP violations are among them).
    expect(problems).toEqual([]);
    expect(await cspViolations(window)).toEqual([]);
  });
});

import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createInstallCa } from '../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../electron/backend/pki/issue-certificate';
import { startQuietBackend } from '../support/backend-harness';
import { collectPageProblems, cspViolations, gotoPage, launchChromium, newCspRecordingContext } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { startWebModeServer, stopWebModeServer, waitForUrl } from '../support/web-mode-server';

/**
 * Web mode for a team (issue 14, item 5) as a person meets it, in Debian's Chromium against
 * `npm run web -- --listen 127.0.0.1 --tls-cert --tls-key --name localhost`, with a certificate
 * from a test install's CA. Chromium trusts that one certificate by its public key
 * (--ignore-certificate-errors-spki-list), nothing else. The page asks for a name and a
 * password (no token anywhere); a wrong password is refused without saying which part was
 * wrong, repeated ones are throttled (the right password too, while it lasts); another
 * operator signs in, sees who has two-factor sign-in and its browser session, and signs out.
 */

const ADA = 'ada is on the day shift';
const OTTO = 'otto is on the night shift';
const TEAM_URL = /https:\/\/localhost:(\d+)\//;

describe('web mode for a team in Chromium, over TLS', () => {
  let page: Page;
  let browser: Browser;
  let url = '';
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-web-team-');
    defer(dir.remove);
    const dataDir = path.join(dir.path, 'data');
    // Web mode for a team refuses to start without an operator to sign in as: add two first.
    const backend = await startQuietBackend(dataDir);
    const admin = backend.openClient();
    await admin.call('operators.add', { name: 'ada', role: 'admin', password: ADA });
    await admin.call('operators.add', { name: 'otto', role: 'operator', password: OTTO });
    await backend.close();

    const ca = await createInstallCa({ installName: 'e2e-site' });
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
    ]);
    defer(() => stopWebModeServer(server));
    url = await waitForUrl(server, undefined, TEAM_URL);

    const spki = new X509Certificate(issued.certPem).publicKey.export({ type: 'spki', format: 'der' });
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]);
    defer(() => browser.close());
    const context = await newCspRecordingContext(browser);
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    collectPageProblems(page, problems);
  });

  async function signIn(name: string, password: string): Promise<void> {
    const form = page.getByTestId('sign-in');
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** A sign-in that is refused: the form clears the password once the answer is in, and shows it. */
  async function refusedSignIn(name: string, password: string): Promise<string> {
    await signIn(name, password);
    const form = page.getByTestId('sign-in');
    await expect.poll(() => form.getByLabel('Password').inputValue(), { timeout: 30_000 }).toBe('');
    return (await form.getByRole('alert').textContent()) ?? '';
  }

  it('asks for a name and password, with no token in the address', async () => {
    expect(url).toMatch(/^https:\/\/localhost:\d+\/$/);
    await gotoPage(page, url);
    await page.getByTestId('sign-in').waitFor();
    expect(page.url()).toBe(url);
    // No provider is set up here: the page speaks of the name and password alone, and offers no other way.
    expect(await page.getByTestId('sign-in').locator('p').allTextContents()).toEqual([
      'This control center has operators: sign in with your name and password. What you may do follows from your role.',
    ]);
    expect(await page.getByTestId('provider-sign-in').count()).toBe(0);
    await shoot(page, 'web-team-sign-in');
  });

  it('refuses a wrong password without saying which part was wrong, then throttles the name, the right password included', async () => {
    const failed = await refusedSignIn('otto', 'not otto at all, a guess');
    expect(failed).toContain('The name and password do not match an enabled operator.');
    expect(failed).toContain('SIGN_IN_FAILED');
    // An unknown name gets the very same answer.
    expect(await refusedSignIn('nobody', 'not otto at all, a guess')).toBe(failed);
    for (let guess = 2; guess <= 5; guess += 1) expect(await refusedSignIn('otto', `guess number ${guess}`)).toBe(failed);
    // Five wrong ones are counted; the right password now gets the same throttled answer as a wrong one.
    const throttled = await refusedSignIn('otto', OTTO);
    expect(throttled).toMatch(/Too many failed sign-ins .* try again in \d+ seconds/);
    expect(throttled).toContain('SIGN_IN_THROTTLED');
    await shoot(page, 'web-team-throttled');
    expect((await refusedSignIn('otto', 'and one more guess')).replace(/\d+ seconds/g, 'N seconds')).toBe(
      throttled.replace(/\d+ seconds/g, 'N seconds'),
    );
  });

  it('signs another operator in: an HttpOnly session cookie the page cannot read, who has two-factor, and this browser session', async () => {
    await signIn('ada', ADA);
    await page.getByTestId('signed-in-as').waitFor();
    expect(page.url().startsWith(url)).toBe(true);
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const cookies = await page.context().cookies(url);
    expect(cookies.map(({ name, httpOnly, secure, sameSite }) => ({ name, httpOnly, secure, sameSite }))).toEqual([
      { name: '__Host-sutazai-session', httpOnly: true, secure: true, sameSite: 'Strict' },
    ]);

    await page.evaluate(() => {
      window.location.hash = '#/operators';
    });
    const otto = page.getByTestId('operators-list').locator('[data-operator="otto"]');
    await expect.poll(() => otto.getByTestId('operator-two-factor').textContent(), { timeout: 30_000 }).toBe('off');
    const sessions = page.getByTestId('web-sessions');
    await sessions.locator('[data-session="ada"]').getByText('(this browser)').waitFor();
    await shoot(page, 'web-team-sessions');
  });

  it('signs this browser out from its session list: the sign-in page comes back, and a reload stays signed out', async () => {
    await page.getByTestId('web-sessions').locator('[data-session="ada"]').getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('sign-in').waitFor();
    await page.reload();
    await page.getByTestId('sign-in').waitFor();
    expect(await cspViolations(page)).toEqual([]);
    // The refused API socket (before sign-in) is how the page learns it must sign in; nothing else may have failed.
    expect(problems.filter((problem) => !/WebSocket|401|Unauthorized|status of 40[13]|429/.test(problem))).toEqual([]);
  });
});

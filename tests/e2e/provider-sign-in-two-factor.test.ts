import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { totpCode } from '../../electron/backend/operators/totp';
import { API_SUBPROTOCOL, type AuditEntry } from '../../electron/contract';
import { collectPageProblems, cspViolations, gotoPage, newCspRecordingContext } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { keepPageLocal, signInAtProvider } from '../support/oidc-sign-in-provider';
import { startProviderTeamSite, type ProviderTeamSite } from '../support/provider-team-site';
import { setUpSuite } from '../support/suite-set-up';

/**
 * Two-factor sign-in through the site's OpenID Connect provider in web mode for a team (issue
 * 14, items 4 and 5), in Debian's Chromium against `npm run web` over TLS and a real
 * `oidc-provider`. Both operators have this control center's TOTP. grace's provider says she
 * signed in with a second factor (`amr: ["mfa", ...]` in the ID token): she is signed in at
 * once. ada's provider does not: the page then asks for her code (the sign-in waits on a ticket
 * in an HttpOnly cookie); a wrong code is refused and she may type again, the right one signs
 * her in, and the same code on a later sign-in is refused as used. Each step is in the audit log.
 */

const PASSPHRASE = 'the vault passphrase of this test';

describe('provider sign-in with two-factor codes, in Chromium', () => {
  let site: ProviderTeamSite;
  const secrets: Record<string, string> = {};
  /** The code ada signed in with (replayed later). */
  let usedCode = '';
  /** ada's signed-in page, kept to read the audit log as her. */
  let adaPage: Page;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    site = await startProviderTeamSite(defer, {
      vaultPassphrase: PASSPHRASE,
      // grace's provider asked her for a second factor (RFC 8176: mfa, with the password and a one-time code).
      amrByAccount: { grace: ['mfa', 'pwd', 'otp'] },
      async prepare(admin) {
        await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'ada is on the day shift' });
        await admin.call('operators.add', { name: 'grace', role: 'operator', password: 'grace is on the night shift' });
        for (const name of ['ada', 'grace']) {
          secrets[name] = (await admin.call('mfa.enrolBegin', { name })).secret;
          // The step before now's: this step stays free for the first sign-in's code, however soon it comes.
          await admin.call('mfa.enrolConfirm', { name, code: totpCode(secrets[name]!, Date.now() - 30_000) });
        }
      },
    });
  });

  async function newBrowser(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newCspRecordingContext(site.browser);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await keepPageLocal(page);
    collectPageProblems(page, problems);
    return { context, page };
  }

  const sessionCookie = async (context: BrowserContext) =>
    (await context.cookies(site.url)).find((cookie) => cookie.name === '__Host-sutazai-session');

  /** From the sign-in page through the provider as `login`; resolves back on this server. */
  async function throughProvider(page: Page, login: string): Promise<void> {
    await gotoPage(page, site.url);
    await page.getByTestId('provider-sign-in').click();
    await signInAtProvider(page, site.provider.issuer, login);
  }

  async function typeCode(page: Page, code: string): Promise<void> {
    const form = page.getByTestId('second-step');
    await form.getByLabel('Two-factor code').fill(code);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('signs grace in at once: her provider attested a second factor (amr "mfa" in the ID token)', async () => {
    const { context, page } = await newBrowser();
    await throughProvider(page, 'grace');
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('grace');
    expect(await page.getByTestId('second-step').count()).toBe(0);
    expect(await sessionCookie(context)).toBeDefined();
    await context.close();
  });

  it('asks ada for her code after the provider (no second factor attested): a wrong one refused, the right one signs in', async () => {
    const { context, page } = await newBrowser();
    await throughProvider(page, 'ada');
    const form = page.getByTestId('second-step');
    await form.waitFor();
    expect(await form.textContent()).toContain('You signed in at Test SSO.');
    // The sign-in waits on a ticket the page cannot read; no session yet.
    expect((await context.cookies(site.url)).map(({ name, httpOnly, secure, sameSite }) => ({ name, httpOnly, secure, sameSite }))).toEqual(
      [{ name: '__Host-sutazai-second-step', httpOnly: true, secure: true, sameSite: 'Strict' }],
    );
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await shoot(page, 'provider-sign-in-two-factor-code');

    await typeCode(page, totpCode(secrets.ada!, Date.now() + 10 * 30_000));
    await form.getByRole('alert').waitFor();
    expect(await form.getByRole('alert').textContent()).toContain('That two-factor code is not valid now, or it was used already.');
    expect(await sessionCookie(context)).toBeUndefined();
    await shoot(page, 'provider-sign-in-two-factor-wrong');

    usedCode = totpCode(secrets.ada!, Date.now());
    await typeCode(page, usedCode);
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('ada');
    // The ticket is spent and gone; the session is the browser's only cookie.
    expect((await context.cookies(site.url)).map(({ name }) => name)).toEqual(['__Host-sutazai-session']);
    expect(await cspViolations(page)).toEqual([]);
    adaPage = page;
  });

  it('refuses the code ada used, typed again on a new sign-in through the provider', async () => {
    const { context, page } = await newBrowser();
    await throughProvider(page, 'ada');
    const form = page.getByTestId('second-step');
    await form.waitFor();
    await typeCode(page, usedCode);
    await form.getByRole('alert').waitFor();
    expect(await form.getByRole('alert').textContent()).toContain('not valid now, or it was used already');
    expect(await sessionCookie(context)).toBeUndefined();
    // "Sign in another way" drops the waiting sign-in: the sign-in page is back.
    await form.getByRole('button', { name: 'Sign in another way' }).click();
    await page.getByTestId('sign-in').waitFor();
    expect((await context.cookies(site.url)).map(({ name }) => name)).toEqual([]);
    await context.close();
  });

  it('records each step in the audit log: the code asked, the refused codes and the sign-in', async () => {
    // As ada, on her signed-in page's own socket (the cookie goes with it).
    const entries = await adaPage.evaluate(async (protocol) => {
      const socket = new WebSocket(`wss://${location.host}/api`, [protocol]);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      const answer = new Promise<unknown>((resolve) => {
        socket.onmessage = (message) => {
          const parsed = JSON.parse(String(message.data)) as { type: string; id?: number; result?: unknown };
          if (parsed.type === 'response' && parsed.id === 1) resolve(parsed.result);
        };
      });
      socket.send(JSON.stringify({ type: 'request', id: 1, method: 'audit.list', params: { action: 'sign-in', limit: 50 } }));
      const result = (await answer) as { entries: unknown[] };
      socket.close();
      return result.entries;
    }, API_SUBPROTOCOL);
    const of = (method: string) =>
      (entries as AuditEntry[]).filter((entry) => entry.method === method).map((entry) => `${entry.outcome} ${entry.target}`);
    expect(of('session.completeProviderSignIn')).toEqual(
      expect.arrayContaining(['ok operator grace', 'ok operator ada, two-factor code asked']),
    );
    const claimed = `claimed "ada" (${site.provider.issuer} subject "ada"), two-factor code`;
    expect(of('session.completeProviderSecondStep').sort()).toEqual(
      [`SIGN_IN_FAILED ${claimed}`, `SIGN_IN_FAILED ${claimed}`, 'ok operator ada'].sort(),
    );
    expect(problems.filter((problem) => !/WebSocket|401|ERR_INTERNET_DISCONNECTED/.test(problem))).toEqual([]);
  });
});

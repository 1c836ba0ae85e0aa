import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { totpCode } from '../../electron/backend/operators/totp';
import { collectPageProblems, cspViolations, gotoPage, newCspRecordingContext } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { keepPageLocal, signInAtProvider } from '../support/oidc-sign-in-provider';
import { startProviderTeamSite, type ProviderTeamSite } from '../support/provider-team-site';
import { setUpSuite } from '../support/suite-set-up';

/**
 * Two-factor sign-in required of web mode for a team (issue 14, item 4), reached through the
 * site's OpenID Connect provider, in Debian's Chromium against `npm run web` over TLS and a real
 * `oidc-provider`. lin has never set up two-factor sign-in and her provider attests no second
 * factor: back from the provider, the page walks her through the set-up (QR code, secret, first
 * code, recovery codes) before her session starts. grace has none either, but her provider
 * asked her for a second factor (`amr: ["mfa", ...]`): she is signed in at once, as an enrolled
 * operator would be.
 */

const PASSPHRASE = 'the vault passphrase of this test';

describe('provider sign-in where web mode requires two-factor sign-in, in Chromium', () => {
  let site: ProviderTeamSite;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    site = await startProviderTeamSite(defer, {
      vaultPassphrase: PASSPHRASE,
      amrByAccount: { grace: ['mfa', 'pwd', 'otp'] },
      async prepare(admin) {
        // The first operator added signs this pipe in as her: ada enrols, then requires two-factor sign-in of web mode.
        await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'ada is on the day shift' });
        const { secret } = await admin.call('mfa.enrolBegin', {});
        await admin.call('mfa.enrolConfirm', { code: totpCode(secret, Date.now()) });
        await admin.call('mfa.setWebRequired', { required: true });
        await admin.call('operators.add', { name: 'lin', role: 'operator', password: 'lin is on the late shift' });
        await admin.call('operators.add', { name: 'grace', role: 'operator', password: 'grace is on the night shift' });
      },
    });
  });

  async function newPage(): Promise<Page> {
    const context = await newCspRecordingContext(site.browser);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await keepPageLocal(page);
    collectPageProblems(page, problems);
    return page;
  }

  it('walks lin, back from the provider, through the set-up before her session starts', async () => {
    const page = await newPage();
    await gotoPage(page, site.url);
    await page.getByTestId('provider-sign-in').click();
    await signInAtProvider(page, site.provider.issuer, 'lin');
    const enrol = page.getByTestId('forced-enrolment');
    await enrol.getByTestId('mfa-secret').waitFor();
    expect(await enrol.locator('p').first().textContent()).toMatch(
      /^Hello lin\. This control center asks everyone who signs in from a browser/,
    );
    const names = (await page.context().cookies(site.url)).map(({ name }) => name);
    expect(names).toContain('__Host-sutazai-enrolment');
    expect(names).not.toContain('__Host-sutazai-session');
    const secret = (await enrol.getByTestId('mfa-secret').textContent())!.trim();
    await shoot(page, 'provider-forced-enrolment', { fullPage: true });
    await enrol.getByLabel('Code the app shows').fill(totpCode(secret, Date.now()));
    await enrol.getByRole('button', { name: 'Confirm and sign in' }).click();
    const done = page.getByTestId('forced-enrolment-done');
    await done.getByTestId('mfa-recovery-codes').waitFor();
    expect(await done.locator('li').count()).toBe(10);
    await done.getByRole('button', { name: 'I have kept them: open the control center' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('lin');
  });

  it('signs grace in at once: her provider attested a second factor', async () => {
    const page = await newPage();
    await gotoPage(page, site.url);
    await page.getByTestId('provider-sign-in').click();
    await signInAtProvider(page, site.provider.issuer, 'grace');
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('grace');
    expect(await page.getByTestId('forced-enrolment').count()).toBe(0);
    expect(await cspViolations(page)).toEqual([]);
    // The provider's own page asks for resources the test keeps off the internet (keepPageLocal).
    expect(problems.filter((problem) => !/WebSocket|401|ERR_INTERNET_DISCONNECTED/.test(problem))).toEqual([]);
  });
});

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { totpCode } from '../../electron/backend/operators/totp';
import type { ApiClient } from '../../electron/contract';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';

/**
 * Two-factor sign-in as an operator meets it (issue 14, item 4), in Debian's Chromium against
 * `npm run web` (its vault opened by SUTAZAI_PASSPHRASE): ada sets it up on the Operators page
 * (a QR code drawn in the page, the secret shown as text, a wrong first code refused, the right
 * one computed here from the secret as an app would, ten recovery codes shown once); turns on
 * step-up, after which adding an operator asks her for a fresh code in a dialog and then goes
 * on; signing in again asks for the code after the password, refuses a code already used, and
 * takes a recovery code.
 */

const ADA = 'ada signs in with a code';

describe('two-factor sign-in in the app', () => {
  let page: Page;
  let api: ApiClient;
  const problems: string[] = [];
  let secret = '';
  let recoveryCodes: string[] = [];
  let stepUpCode = '';

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-two-factor-');
    defer(dir.remove);
    const session = await openWebModeSession({
      dataDir: dir.path,
      env: { SUTAZAI_PASSPHRASE: 'the vault passphrase of this test' },
      problems,
      uiTimeoutMs: 60_000,
    });
    defer(session.close);
    page = session.page;
    api = await connectApiClient(session.url);
    defer(() => api.close());
    // The bootstrap's admin adds ada; this pipe goes on as her.
    await api.call('operators.add', { name: 'ada', role: 'admin', password: ADA });
    await gotoPage(page, session.url);
  });

  async function signIn(password: string): Promise<void> {
    const form = page.getByTestId('sign-in');
    await form.getByLabel('Name').fill('ada');
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('sets up two-factor sign-in from a QR code and the secret, confirmed by a first code, with ten recovery codes shown once', async () => {
    await signIn(ADA);
    await page.getByTestId('signed-in-as').waitFor();
    await page.evaluate(() => {
      window.location.hash = '#/operators';
    });
    const card = page.getByTestId('my-two-factor');
    await card.getByTestId('mfa-state').getByText('Two-factor sign-in is off').waitFor();
    await card.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    secret = (await card.getByTestId('mfa-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // One secret for the form (the development build runs its effects twice; each call replaces the last secret).
    const { entries } = await api.call('audit.list', { action: 'sign-in', limit: 100 });
    expect(entries.filter(({ method }) => method === 'mfa.enrolBegin')).toHaveLength(1);
    const qr = card.getByRole('img', { name: 'QR code of the two-factor secret for ada' });
    await qr.waitFor();
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await shoot(page, 'two-factor-enrol');

    const code = card.getByLabel('Code the app shows');
    await code.fill(totpCode(secret, Date.now() + 10 * 30_000));
    await card.getByRole('button', { name: 'Confirm' }).click();
    await card.getByText('That code is not valid now, or it was used already.').waitFor();
    await code.fill(totpCode(secret, Date.now()));
    await card.getByRole('button', { name: 'Confirm' }).click();
    const list = card.getByTestId('mfa-recovery-codes');
    await list.waitFor();
    recoveryCodes = (await list.getByRole('listitem').allTextContents()).map((text) => text.trim());
    expect(recoveryCodes).toHaveLength(10);
    for (const recovery of recoveryCodes) expect(recovery).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await card.getByRole('button', { name: 'I have kept them' }).click();
    await card.getByTestId('mfa-state').getByText('Two-factor sign-in is on').waitFor();
    await card.getByText('10 of 10 recovery codes left').waitFor();
    expect(await api.call('mfa.status', {})).toMatchObject({ enrolled: true, recoveryCodesLeft: 10 });
  });

  it('with step-up on, asks for a fresh code in a dialog before an admin action, then goes on with it', async () => {
    const card = page.getByTestId('my-two-factor');
    const stepUp = card.getByRole('checkbox', { name: /Ask for a fresh two-factor code before admin actions/ });
    // Checked once the backend has taken the change (the box shows the stored setting).
    await stepUp.click();
    await expect.poll(() => stepUp.isChecked()).toBe(true);
    await expect.poll(async () => (await api.call('mfa.status', {})).stepUpRequired).toBe(true);

    const form = page.getByTestId('add-operator');
    await form.getByLabel('Name').fill('vera');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByLabel('Password').fill('vera watches the fleet');
    await form.getByRole('button', { name: 'Add operator', exact: true }).click();
    const dialog = page.getByTestId('step-up');
    await dialog.getByText('Confirm with your two-factor code').waitFor();
    await shoot(page, 'two-factor-step-up');
    await dialog.getByLabel('Code').fill('000000' === totpCode(secret, Date.now()) ? '111111' : '000000');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByText('That code is not valid now, or it was used already.').waitFor();
    // The next step's code: this step's confirmed the enrolment.
    stepUpCode = totpCode(secret, Date.now() + 30_000);
    await dialog.getByLabel('Code').fill(stepUpCode);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('[data-operator="vera"]').waitFor();
    await dialog.waitFor({ state: 'detached' });
    expect((await api.call('operators.list', {})).map((operator) => operator.name)).toEqual(['ada', 'vera']);
  });

  it('asks for the code after the password when signing in, refuses a used one, and takes a recovery code', async () => {
    await page.getByTestId('signed-in-as').getByRole('button', { name: 'Sign out' }).click();
    const form = page.getByTestId('sign-in');
    await signIn(ADA);
    const code = form.getByLabel('Two-factor code');
    await code.waitFor();
    // The password stays for the second step; the code used for the step-up is a replay.
    expect(await form.getByLabel('Password').inputValue()).toBe(ADA);
    await code.fill(stepUpCode);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await form.getByText('The name and password do not match an enabled operator.').waitFor();
    // A refusal starts over: password again, then the code.
    await signIn(ADA);
    await code.fill(recoveryCodes[0]!);
    await shoot(page, 'two-factor-sign-in');
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('signed-in-as').waitFor();
    await page.getByTestId('my-two-factor').getByText('9 of 10 recovery codes left').waitFor();

    // An admin's reset (confirmed, and an operator action: stepped up by the sign-in's code): the password alone signs in.
    await page.locator('[data-operator="ada"]').getByRole('button', { name: 'Reset two-factor' }).click();
    await page.getByTestId('confirm-reset-two-factor').getByRole('button', { name: 'Reset', exact: true }).click();
    await page.getByTestId('my-two-factor').getByTestId('mfa-state').getByText('Two-factor sign-in is off').waitFor();
    expect(await api.call('mfa.status', {})).toMatchObject({ enrolled: false, pending: false });
    expect(problems).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
  });
});

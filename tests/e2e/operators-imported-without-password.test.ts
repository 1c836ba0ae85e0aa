import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { shoot } from '../support/e2e-screenshots';
import { closeConfigSite, fileSha256, startConfigSite } from '../support/config-sites';
import { runSutazaiAsync } from '../support/run-sutazai';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';
import { gotoPage } from '../support/chromium';

/**
 * Operators a configuration bundle brought in have no password (the import stores none they
 * could sign in with) until an admin sets one. The Operators page, in Debian's Chromium
 * against `npm run web`, and `sutazai operators list` (text and --json) say so for each,
 * from the stored record; setting a password on the page takes the marker away.
 */

const VAULT = 'site vault passphrase here';
const ROOT_PASSWORD = 'root signs in at this site';
const ALICE_HERE = 'a password an admin set here';

async function signIn(page: Page, name: string, password: string): Promise<void> {
  const form = page.getByTestId('sign-in');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe('operators imported from a configuration bundle, before an admin sets their passwords', () => {
  let page: Page;
  let url = '';
  let dataDir = '';

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-operators-no-password-');
    defer(dir.remove);
    // The exporting control center: alice (admin) and bob (operator), each with a password there.
    const origin = await startConfigSite(path.join(dir.path, 'origin'), 'origin vault passphrase');
    const bundle = path.join(dir.path, 'site.sutazai-config');
    let signer: string;
    try {
      await origin.api.call('operators.add', { name: 'alice', role: 'admin', password: 'alice password at the origin' });
      await origin.api.call('operators.add', { name: 'bob', role: 'operator', password: 'bob password at the origin' });
      signer = (await origin.api.call('configBundles.export', { path: bundle, format: 'bundle' })).signedBy!;
    } finally {
      await closeConfigSite(origin);
    }
    // The receiving site: its own admin, who imports both.
    dataDir = path.join(dir.path, 'site');
    const site = await startConfigSite(dataDir, VAULT);
    try {
      await site.api.call('operators.add', { name: 'root', role: 'admin', password: ROOT_PASSWORD });
      const imported = await site.api.call('configBundles.import', {
        path: bundle,
        sha256: fileSha256(bundle),
        items: 'all',
        trustExporter: signer,
        withoutSecrets: true,
      });
      expect(imported.operatorsWithoutPassword).toEqual(['alice', 'bob']);
    } finally {
      await closeConfigSite(site);
    }
    const session = await openWebModeSession({ dataDir, problems: [], env: { SUTAZAI_PASSPHRASE: VAULT } });
    defer(session.close);
    ({ page, url } = session);
  });

  it('sutazai operators list says which have no password yet, in text and --json', async () => {
    const asRoot = { stdin: `${ROOT_PASSWORD}\n`, env: { SUTAZAI_PASSPHRASE: VAULT } };
    const json = await runSutazaiAsync(['--as', 'root', 'operators', 'list', '--json'], dataDir, asRoot);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<{ name: string; passwordSet: boolean }>;
    expect(listed.map((o) => `${o.name} ${o.passwordSet}`)).toEqual(['alice false', 'bob false', 'root true']);

    const text = await runSutazaiAsync(['--as', 'root', 'operators', 'list'], dataDir, asRoot);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/NAME\s+ROLE\s+STATE\s+PASSWORD/);
    expect(lines.find((l) => l.startsWith('alice'))).toContain('none yet');
    expect(lines.find((l) => l.startsWith('root'))).toMatch(/enabled\s+set\s/);
  }, 240_000);

  it('the Operators page marks them "no password yet", and setting one takes the marker away', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await signIn(page, 'root', ROOT_PASSWORD);
    await page.getByRole('link', { name: 'Operators', exact: true }).click();
    const row = (name: string) => page.locator(`[data-operator="${name}"]`);
    await row('alice').waitFor({ state: 'visible' });
    await expect(row('alice').getByTestId('operator-no-password').textContent()).resolves.toBe('no password yet');
    await expect(row('bob').getByTestId('operator-no-password').count()).resolves.toBe(1);
    await expect(row('root').getByTestId('operator-no-password').count()).resolves.toBe(0);
    await shoot(page, 'operators-imported-no-password', { fullPage: true });

    await row('alice').getByRole('button', { name: 'Set password', exact: true }).click();
    const dialog = page.getByTestId('set-operator-password');
    await dialog.getByLabel('New password').fill(ALICE_HERE);
    await dialog.getByRole('button', { name: 'Set password', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    // The list reads again: alice's marker goes, bob's stays.
    await row('alice').getByTestId('operator-no-password').waitFor({ state: 'detached' });
    await expect(row('bob').getByTestId('operator-no-password').count()).resolves.toBe(1);
    await shoot(page, 'operators-imported-password-set', { fullPage: true });
  }, 240_000);
});

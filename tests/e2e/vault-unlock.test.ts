import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../electron/contract';
import { startBackend } from '../../electron/backend/app/backend';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { setUpSuite, type Defer } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { useTestLab } from '../support/test-hosts/use-test-lab';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';

/**
 * Web mode started without SUTAZAI_PASSPHRASE on a data directory whose secrets are
 * sealed with a passphrase: an action that needs the vault is refused with
 * SECRETS_LOCKED, the page offers to unlock it right there, and the action then works,
 * with no restart (no new address, no new token).
 */

const PASSPHRASE = 'e2e vault passphrase 42';
const WRONG = 'not the vault passphrase';
const SSH_PASSWORD = 'e2e-ssh-password-73';
/** Real sshd hosts with a password login: a host is added only once its key was read. Needs root. */
const labRef = useTestLab();

/** Web mode on `dataDir` started without a passphrase, and an API client beside the page. */
async function openWithoutPassphrase(defer: Defer, dataDir: string, problems: string[]) {
  const session = await openWebModeSession({ dataDir, env: { SUTAZAI_PASSPHRASE: '' }, problems });
  defer(session.close);
  const api = await connectApiClient(session.url);
  defer(() => api.close());
  return { page: session.page, url: session.url, api };
}

/**
 * Fills the Add host dialog for a password login to a real sshd and submits it ("Check host");
 * the host dialog stays open (refused or not).
 */
async function submitPasswordHost(page: Page, url: string, name: string, target: TestHost) {
  await gotoPage(page, url, { waitUntil: 'load' });
  await page.locator('[data-testid="host-row"][data-host-name="local"]').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Add host', exact: true }).click();
  const dialog = page.getByTestId('add-host-dialog');
  await dialog.locator('input[name="name"]').fill(name);
  await dialog.locator('input[name="address"]').fill(target.address);
  await dialog.locator('input[name="port"]').fill(String(target.port));
  await dialog.locator('input[name="user"]').fill(target.user);
  await dialog.getByText('Password', { exact: true }).click();
  await dialog.locator('input[name="password"]').fill(target.password ?? '');
  await dialog.getByRole('button', { name: 'Check host' }).click();
  return dialog;
}

/** After the vault opened: the host is checked again, its key confirmed, and it is stored with its password sealed. */
async function checkTrustAndAdd(dialog: Locator, api: ApiClient, name: string, target: TestHost) {
  await dialog.getByRole('button', { name: 'Check host' }).click();
  const fingerprint = dialog.getByTestId('host-key-fingerprint');
  await fingerprint.waitFor({ state: 'visible' });
  await expect(fingerprint.getAttribute('data-fingerprint')).resolves.toBe(target.hostKeyFingerprint);
  await dialog.getByRole('button', { name: 'Trust and add' }).click();
  await dialog.getByTestId('host-key-trusted').waitFor({ state: 'visible' });
  await expect.poll(async () => (await api.call('hosts.list', {})).find((h) => h.name === name)?.hasSecret, { timeout: 20_000 }).toBe(true);
}

describe('a locked vault, unlocked from the page', () => {
  let page: Page;
  let url = '';
  let dataDir = '';
  let api: ApiClient;
  let sshHost: TestHost;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-vault-');
    defer(dir.remove);
    dataDir = dir.path;
    // An earlier run sealed a secret with the passphrase (as `SUTAZAI_PASSPHRASE=… npx sutazai` would).
    const earlier = await startBackend({
      dataDir,
      logLevel: 'info',
      mode: 'cli',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
      vaultKey: { kind: 'passphrase', passphrase: PASSPHRASE },
    });
    // A host whose password was sealed then: probing it needs the vault. (A listener for the
    // moment of adding, in case adding a host checks that its address answers.)
    const listener = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const cli = earlier.openClient('cli');
    try {
      await cli.call('hosts.add', {
        name: 'earlier-pw',
        address: '127.0.0.1',
        port: (listener.address() as AddressInfo).port,
        user: 'operator',
        auth: { method: 'password', password: SSH_PASSWORD },
      });
    } finally {
      listener.close();
      cli.close();
      await earlier.close();
    }

    ({ page, url, api } = await openWithoutPassphrase(defer, dataDir, problems));
  });

  it('offers to unlock the vault on a bulk probe row refused with SECRETS_LOCKED', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    const hostRow = page.locator('[data-testid="host-row"][data-host-name="earlier-pw"]');
    await hostRow.getByTestId('host-select').check();
    await page.getByRole('button', { name: 'Probe selected' }).click();
    const probeRow = page.locator('[data-testid="probe-row"][data-host-name="earlier-pw"][data-state="failed"]');
    await probeRow.waitFor({ state: 'visible' });
    await expect(probeRow.textContent()).resolves.toContain('SECRETS_LOCKED');
    await probeRow.getByTestId('vault-unlock-open').waitFor({ state: 'visible' });
    await shoot(page, 'vault-locked-probe-row');
  });

  it('offers to unlock the vault where an action is refused with SECRETS_LOCKED', async () => {
    sshHost = await labRef.lab.addSshHost({ login: 'sudo-password' });
    const dialog = await submitPasswordHost(page, url, 'vault-pw', sshHost);

    const notice = dialog.getByRole('alert').filter({ hasText: 'SECRETS_LOCKED' });
    await notice.waitFor({ state: 'visible' });
    await notice.getByTestId('vault-unlock-open').waitFor({ state: 'visible' });
    await expect(notice.getByTestId('vault-unlock-open').textContent()).resolves.toBe('Unlock the vault…');
    await shoot(page, 'vault-locked-notice');
  });

  it('refuses a wrong passphrase with a clear message and stays locked', async () => {
    await page.getByTestId('vault-unlock-open').click();
    const unlock = page.getByTestId('vault-unlock-dialog');
    await unlock.waitFor({ state: 'visible' });
    await expect(page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).resolves.toBe('vault-passphrase');
    await unlock.getByTestId('vault-passphrase').fill(WRONG);
    await unlock.getByTestId('vault-passphrase').press('Enter');
    const field = unlock.getByTestId('vault-passphrase-field');
    await field.getByText('The passphrase does not open this data directory’s secrets.', { exact: false }).waitFor({ state: 'visible' });
    await shoot(page, 'vault-unlock-wrong');
    await expect(api.call('secrets.status', {})).resolves.toMatchObject({ unlocked: false });
    // The host dialog behind it was not submitted by the Enter in this one.
    await expect(api.call('hosts.list', {})).resolves.toSatisfy(
      (hosts: Array<{ name: string }>) => !hosts.some((h) => h.name === 'vault-pw'),
    );
  });

  it('opens with the right passphrase, and the refused action then succeeds', async () => {
    const unlock = page.getByTestId('vault-unlock-dialog');
    await unlock.getByTestId('vault-passphrase').fill(PASSPHRASE);
    await unlock.getByTestId('vault-unlock-submit').click();
    await unlock.waitFor({ state: 'detached' });
    await expect(api.call('secrets.status', {})).resolves.toEqual({ unlocked: true, sealedWith: 'passphrase', acceptsPassphrase: true });

    const dialog = page.getByTestId('add-host-dialog');
    await dialog.getByTestId('vault-unlocked').waitFor({ state: 'visible' });
    await shoot(page, 'vault-unlocked-retry');
    await checkTrustAndAdd(dialog, api, 'vault-pw', sshHost);
    await dialog.getByRole('alert').filter({ hasText: 'SECRETS_LOCKED' }).waitFor({ state: 'detached' });
  });

  it('never wrote the passphrases or the password to the log, and the page met no CSP violation', async () => {
    const logs = path.join(dataDir, 'logs');
    const text = fs
      .readdirSync(logs)
      .map((name) => fs.readFileSync(path.join(logs, name), 'utf8'))
      .join('\n');
    expect(text).toContain('vault unlocked through the API');
    for (const secret of [PASSPHRASE, WRONG, SSH_PASSWORD, sshHost.password ?? SSH_PASSWORD]) expect(text).not.toContain(secret);
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

describe('a data directory with nothing sealed yet: the page has the operator choose the passphrase', () => {
  let page: Page;
  let url = '';
  let api: ApiClient;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-vault-new-');
    defer(dir.remove);
    ({ page, url, api } = await openWithoutPassphrase(defer, dir.path, problems));
  });

  it('asks for the new passphrase twice, refuses two that differ, then seals with it and the action succeeds', async () => {
    const sshHost = await labRef.lab.addSshHost({ login: 'sudo-password' });
    const dialog = await submitPasswordHost(page, url, 'first-pw', sshHost);

    const offer = dialog.getByTestId('vault-unlock-open');
    await offer.waitFor({ state: 'visible' });
    await expect(offer.textContent()).resolves.toBe('Choose a vault passphrase…');
    await offer.click();
    const choose = page.getByTestId('vault-unlock-dialog');
    await choose.getByRole('heading', { name: 'Choose the vault passphrase' }).waitFor({ state: 'visible' });
    await choose.getByTestId('vault-passphrase').fill(PASSPHRASE);
    await choose.getByTestId('vault-passphrase-repeat').fill(`${PASSPHRASE}!`);
    await choose.getByTestId('vault-unlock-submit').click();
    await choose.getByText('The two passphrases differ.').waitFor({ state: 'visible' });
    await shoot(page, 'vault-choose-passphrase');
    await expect(api.call('secrets.status', {})).resolves.toMatchObject({ unlocked: false, sealedWith: 'none' });

    await choose.getByTestId('vault-passphrase-repeat').fill(PASSPHRASE);
    await choose.getByTestId('vault-unlock-submit').click();
    await choose.waitFor({ state: 'detached' });
    await expect(api.call('secrets.status', {})).resolves.toEqual({ unlocked: true, sealedWith: 'passphrase', acceptsPassphrase: true });
    await checkTrustAndAdd(dialog, api, 'first-pw', sshHost);
    expect(problems).toEqual([]);
  });
});

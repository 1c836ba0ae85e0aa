import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../electron/contract';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot as shootViewport } from '../support/e2e-screenshots';
import { addLabHostOverApi, buildRealNodeBundle } from '../support/install-lab';
import { labInstallDefinition } from '../support/lab-install-definition';
import { openOneHostInstallLab } from '../support/one-host-install-lab';
import { setUpSuite } from '../support/suite-set-up';
import { makeWaitFor } from '../support/wait-for';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';
import { importBundleOverWeb } from '../support/web-uploads';

/**
 * A recorded install operated from the Installs page, as an operator would: Debian's
 * Chromium against `npm run web`, one OpenSSH test host (root, in its own network
 * namespace) running the real runtime, core and agent. The install is made through the
 * API; then a newer bundle imported on the Bundles page links to the install's upgrade,
 * which is planned and applied with live progress, the install is rolled back to its
 * previous release and uninstalled after its name is typed. After each, the API says
 * what the host runs.
 */

const JOB_TIMEOUT_MS = 240_000;
const PASSPHRASE = 'e2e passphrase for the installs page';
const HOST_NAME = 'installs-host';
const INSTALL_NAME = 'installs-lab';

const shoot = (page: Page, name: string) => shootViewport(page, name, { fullPage: true });

describe('the Installs page, end to end', () => {
  let v1: BuiltBundle;
  let v2: BuiltBundle;
  let api: ApiClient;
  let page: Page;
  let url = '';
  let installRoot = '';
  const problems: string[] = [];
  const waitFor = makeWaitFor({ timeoutMs: JOB_TIMEOUT_MS, pollMs: 500 });

  /** What the backend says the host runs now. */
  async function currentRelease(): Promise<string | null> {
    const record = await api.call('installs.get', { name: INSTALL_NAME });
    return record.hosts[0]!.releases.find((r) => r.state === 'current')?.version ?? null;
  }

  function followedJob(state: string): Locator {
    return page.locator(`[data-testid="followed-job"] [data-testid="job-progress"][data-state="${state}"]`);
  }

  setUpSuite(
    async (defer) => {
      const lab = await openOneHostInstallLab('sutazai-e2e-installs-', HOST_NAME);
      defer(lab.close);
      const { kit, host } = lab;
      installRoot = lab.installRoot;
      [v1, v2] = await Promise.all([buildRealNodeBundle(kit, 'installs-v1', '1.0.0'), buildRealNodeBundle(kit, 'installs-v2', '1.1.0')]);
      const session = await openWebModeSession({ dataDir: lab.dataDir, env: { SUTAZAI_PASSPHRASE: PASSPHRASE }, problems });
      defer(session.close);
      ({ page, url } = session);
      api = await connectApiClient(url);
      defer(() => api.close());

      // The first install, through the API: what the wizard's test walks by hand.
      await importBundleOverWeb(api, url, v1.file, kit.key.fingerprint);
      await addLabHostOverApi(api, host, HOST_NAME);
      const definition = labInstallDefinition({ name: INSTALL_NAME, bundle: v1, hostName: HOST_NAME, base: lab.base });
      const { jobId } = await api.call('installs.start', { install: definition });
      const installed = await waitFor('the first install', async () => {
        const status = await api.call('installs.status', { jobId });
        return status.state === 'running' ? null : status;
      });
      expect(installed.state).toBe('succeeded');
    },
    { setUpMs: 600_000, undoMs: 120_000 },
  );

  it('lists the install with its host’s role and release, and asks the runtime for its health on demand', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Installs', exact: true }).click();
    await page.waitForURL(/#\/installs$/);
    const row = page.locator(`[data-testid="install-row"][data-install-name="${INSTALL_NAME}"]`);
    await row.waitFor({ state: 'visible' });
    const hostRow = row.locator(`[data-testid="install-row-host"][data-host-name="${HOST_NAME}"]`);
    await expect(hostRow.getAttribute('data-release')).resolves.toBe('1.0.0');
    await expect(hostRow.textContent()).resolves.toContain('Core and agent');
    await row.getByTestId('install-health-check').click();
    await row.locator('[data-testid="install-health-state"][data-healthy="true"]').waitFor({ state: 'visible', timeout: 60_000 });
    await expect(row.locator(`[data-testid="install-health-host"][data-host-name="${HOST_NAME}"]`).textContent()).resolves.toContain(
      'core 1/1 running',
    );
    await shoot(page, 'installs-list');
  });

  it('links from the import of a newer bundle to the install’s upgrade, plans it and applies it with live progress', async () => {
    await page.getByRole('link', { name: 'Bundles', exact: true }).click();
    await page.getByTestId('bundle-file').setInputFiles(v2.file);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByTestId('bundle-key-trusted').getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('bundle-imported').waitFor({ state: 'visible' });
    const link = page.locator(`[data-testid="bundle-upgrade-link"][data-install-name="${INSTALL_NAME}"]`);
    await expect(link.textContent()).resolves.toBe(`Upgrade ${INSTALL_NAME} from 1.0.0 to 1.1.0`);
    await link.click();
    await page.waitForURL(new RegExp(`#/installs/${INSTALL_NAME}/upgrade/1.1.0$`));

    const offer = page.locator('[data-testid="upgrade-offer"][data-version="1.1.0"]');
    await offer.getByTestId('upgrade-plan').click();
    const plan = page.locator(`[data-testid="wizard-plan-host"][data-host-name="${HOST_NAME}"]`);
    await plan.waitFor({ state: 'visible', timeout: 60_000 });
    await expect(plan.locator('[data-testid="wizard-plan-step"][data-step="upload"]').getAttribute('data-state')).resolves.toBe('todo');
    await expect(currentRelease()).resolves.toBe('1.0.0');
    await shoot(page, 'installs-upgrade-plan');

    await page.getByTestId('upgrade-start').click();
    // Live: the health step is seen running before the job ends.
    await page
      .locator('[data-testid="followed-job"] [data-testid="wizard-job-step"][data-step="health"][data-status="running"]')
      .waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    await followedJob('succeeded').waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    const statuses = await page
      .locator('[data-testid="followed-job"] [data-testid="wizard-job-step"]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-status')));
    expect(statuses).toEqual(Array(10).fill('done'));
    await page.locator(`[data-testid="installed-host"][data-host-name="${HOST_NAME}"][data-release="1.1.0"]`).waitFor({ state: 'visible' });
    await expect(currentRelease()).resolves.toBe('1.1.0');
    expect(fs.readlinkSync(path.join(installRoot, 'current'))).toBe('releases/1.1.0');
    // Nothing newer is offered any more; the job is listed.
    await page.getByTestId('upgrade-card').waitFor({ state: 'detached' });
    await page.locator('[data-testid="install-job-row"][data-kind="upgrade"][data-state="succeeded"]').waitFor({ state: 'visible' });
    await shoot(page, 'installs-upgraded');
  });

  it('names the older bundle a downgrade and starts it only once its version is typed', async () => {
    // Where the link after importing an older bundle leads; the followed job stays open.
    await page.evaluate((name) => (window.location.hash = `#/installs/${name}/upgrade/1.0.0`), INSTALL_NAME);
    const offer = page.locator('[data-testid="upgrade-offer"][data-version="1.0.0"][data-downgrade="true"]');
    await offer.waitFor({ state: 'visible' });
    await expect(page.getByTestId('upgrade-card').locator('h2').textContent()).resolves.toBe('Downgrade to 1.0.0');
    await expect(offer.getByTestId('downgrade-warning').textContent()).resolves.toContain('is older than 1.1.0');
    await expect(offer.getByTestId('upgrade-plan').textContent()).resolves.toBe('Plan the downgrade to 1.0.0');
    await offer.getByTestId('upgrade-plan').click();
    await page.locator(`[data-testid="wizard-plan-host"][data-host-name="${HOST_NAME}"]`).waitFor({ state: 'visible', timeout: 60_000 });
    const start = page.getByTestId('upgrade-start');
    await expect(start.textContent()).resolves.toBe('Downgrade to 1.0.0');
    await expect(start.isDisabled()).resolves.toBe(true);
    await page.getByTestId('downgrade-confirm-version').fill('1.0');
    await expect(start.isDisabled()).resolves.toBe(true);
    await page.getByTestId('downgrade-confirm-version').fill('1.0.0');
    await expect(start.isDisabled()).resolves.toBe(false);
    await shoot(page, 'installs-downgrade-confirm');
    // Not started here: the API refuses it unless asked for by name.
    await expect(api.call('installs.upgrade', { name: INSTALL_NAME, bundle: `${v1.manifest.name}@1.0.0` })).rejects.toMatchObject({
      code: 'INSTALL_DOWNGRADE_REFUSED',
    });
    await page.getByRole('button', { name: 'Not now', exact: true }).click();
    await page.evaluate((name) => (window.location.hash = `#/installs/${name}`), INSTALL_NAME);
    await page.getByTestId('upgrade-card').waitFor({ state: 'detached' });
    await expect(currentRelease()).resolves.toBe('1.1.0');
  });

  it('rolls the install back to its previous release', async () => {
    await page.getByTestId('followed-job-close').click();
    await page.getByTestId('install-rollback-all').click();
    const dialog = page.getByTestId('rollback-dialog');
    await expect(
      dialog.getByTestId('rollback-release').evaluate((el) => Array.from((el as HTMLSelectElement).options, (o) => o.value)),
    ).resolves.toEqual(['', '1.0.0']);
    await dialog.getByTestId('rollback-confirm').click();
    await dialog.waitFor({ state: 'detached' });
    await followedJob('succeeded').waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    await expect(page.locator('[data-testid="followed-job"] [data-testid="wizard-job-host"]').getAttribute('data-state')).resolves.toBe(
      'rolled-back',
    );
    await page.locator(`[data-testid="installed-host"][data-host-name="${HOST_NAME}"][data-release="1.0.0"]`).waitFor({ state: 'visible' });
    await expect(currentRelease()).resolves.toBe('1.0.0');
    const health = await api.call('installs.health', { name: INSTALL_NAME });
    expect(health).toMatchObject({ healthy: true, hosts: [{ reachable: true, healthy: true }] });
    // The newer release is offered again.
    await page.locator('[data-testid="upgrade-offer"][data-version="1.1.0"]').waitFor({ state: 'visible' });
    await shoot(page, 'installs-rolled-back');
  });

  it('uninstalls it once its name is typed, and the host keeps nothing of it', async () => {
    await page.getByTestId('followed-job-close').click();
    await page.getByTestId('install-uninstall-all').click();
    const dialog = page.getByTestId('uninstall-dialog');
    await expect(dialog.getByTestId('uninstall-confirm').isDisabled()).resolves.toBe(true);
    await dialog.getByTestId('uninstall-name').fill('installs-la');
    await expect(dialog.getByTestId('uninstall-confirm').isDisabled()).resolves.toBe(true);
    await dialog.getByTestId('uninstall-name').fill(INSTALL_NAME);
    await dialog.getByTestId('uninstall-confirm').click();
    await followedJob('succeeded').waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    await expect(page.locator('[data-testid="followed-job"] [data-testid="wizard-job-host"]').getAttribute('data-state')).resolves.toBe(
      'removed',
    );
    await page.getByText(`${INSTALL_NAME} is not installed`).waitFor({ state: 'visible' });
    await expect(api.call('installs.list', {})).resolves.toEqual([]);
    expect(fs.existsSync(path.join(installRoot, 'releases'))).toBe(false);
    await shoot(page, 'installs-uninstalled');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Installs', exact: true }).click();
    await page.getByText('Nothing installed yet').waitFor({ state: 'visible' });
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

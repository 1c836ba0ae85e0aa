import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient, type InstallDefinition } from '../../electron/contract';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../support/bundle-kit';
import { collectPageProblems, cspViolations, launchChromium, newCspRecordingContext } from '../support/chromium';
import { buildRealNodeBundle, stopInstalledRuntime } from '../support/install-lab';
import { createTestLab, type TestHost, type TestLab } from '../support/test-hosts/test-hosts';
import { makeWaitFor } from '../support/wait-for';
import { startWebModeServer, stopWebModeServer, waitForUrl, type WebModeServer } from '../support/web-mode-server';
import { openSocket, wsTransport } from '../support/ws-peer';

/**
 * A recorded install operated from the Installs page, as an operator would: Debian's
 * Chromium against `npm run web`, one OpenSSH test host (root, in its own network
 * namespace) running the real runtime, core and agent. The install is made through the
 * API; then a newer bundle imported on the Bundles page links to the install's upgrade,
 * which is planned and applied with live progress, the install is rolled back to its
 * previous release and uninstalled after its name is typed. After each, the API says
 * what the host runs.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifactsDir = path.join(root, 'artifacts/e2e');
const UI_TIMEOUT_MS = 20_000;
const JOB_TIMEOUT_MS = 240_000;
const PASSPHRASE = 'e2e passphrase for the installs page';
const HOST_NAME = 'installs-host';
const INSTALL_NAME = 'installs-lab';

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

describe('the Installs page, end to end', () => {
  let tmp = '';
  let lab: TestLab | null = null;
  let host: TestHost;
  let kit: BundleKit | null = null;
  let v1: BuiltBundle;
  let v2: BuiltBundle;
  let server: WebModeServer | null = null;
  let api: ApiClient | null = null;
  let browser: Browser | null = null;
  let context: BrowserContext | null = null;
  let page: Page;
  let url = '';
  let installRoot = '';
  const problems: string[] = [];
  const waitFor = makeWaitFor({ timeoutMs: JOB_TIMEOUT_MS, pollMs: 500 });

  /** What the backend says the host runs now. */
  async function currentRelease(): Promise<string | null> {
    const record = await api!.call('installs.get', { name: INSTALL_NAME });
    return record.hosts[0]!.releases.find((r) => r.state === 'current')?.version ?? null;
  }

  function followedJob(state: string): Locator {
    return page.locator(`[data-testid="followed-job"] [data-testid="job-progress"][data-state="${state}"]`);
  }

  async function cleanup(): Promise<void> {
    api?.close();
    api = null;
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    browser = null;
    context = null;
    if (server) await stopWebModeServer(server);
    server = null;
    if (lab && host && installRoot) await stopInstalledRuntime(lab, host, installRoot).catch(() => undefined);
    await lab?.destroy().catch(() => undefined);
    lab = null;
    kit?.remove();
    kit = null;
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }

  beforeAll(async () => {
    try {
      await mkdir(artifactsDir, { recursive: true });
      tmp = await mkdtemp(path.join(os.tmpdir(), 'sutazai-e2e-installs-'));
      const base = path.join(tmp, HOST_NAME);
      installRoot = path.join(base, 'opt');
      lab = await createTestLab();
      [kit, host] = await Promise.all([makeBundleKit(), lab.addSshHost({ login: 'root-key' })]);
      [v1, v2] = await Promise.all([buildRealNodeBundle(kit, 'installs-v1', '1.0.0'), buildRealNodeBundle(kit, 'installs-v2', '1.1.0')]);
      server = startWebModeServer(path.join(tmp, 'data'), { SUTAZAI_PASSPHRASE: PASSPHRASE });
      url = await waitForUrl(server);
      const { port, searchParams } = new URL(url);
      api = createApiClient(wsTransport(await openSocket(`ws://127.0.0.1:${port}/api?token=${searchParams.get('token')}`)));

      // The first install, through the API: what the wizard's test walks by hand.
      await api.call('bundles.import', { path: v1.file, trustKey: kit.key.fingerprint });
      const added = await api.call('hosts.add', { name: HOST_NAME, address: host.address, port: host.port, user: host.user, auth: { method: 'key', keyPath: host.privateKeyPath } });
      await api.call('hosts.trust', { hostId: added.id, fingerprint: host.hostKeyFingerprint });
      await api.call('hosts.probe', { hostId: added.id });
      const values = [`  root_dir: ${installRoot}`, `  config_dir: ${path.join(base, 'etc')}`, `  state_dir: ${path.join(base, 'state')}`, `  log_dir: ${path.join(base, 'log')}`, '  health_timeout_seconds: 90'];
      const definition: InstallDefinition = {
        name: INSTALL_NAME,
        bundle: `${v1.manifest.name}@1.0.0`,
        environment: 'development',
        config: [{ name: 'install.yaml', text: ['install:', ...values, ''].join('\n') }],
        hosts: [{ name: HOST_NAME, role: 'both', gpu: false }],
      };
      const { jobId } = await api.call('installs.start', { install: definition });
      const installed = await waitFor('the first install', async () => {
        const status = await api!.call('installs.status', { jobId });
        return status.state === 'running' ? null : status;
      });
      expect(installed.state).toBe('succeeded');

      browser = await launchChromium();
      context = await newCspRecordingContext(browser);
      page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      collectPageProblems(page, problems);
    } catch (error) {
      await cleanup();
      throw error;
    }
  }, 600_000);

  afterAll(async () => {
    await cleanup();
  }, 120_000);

  it('lists the install with its host’s role and release, and asks the runtime for its health on demand', async () => {
    await page.goto(url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Installs', exact: true }).click();
    await page.waitForURL(/#\/installs$/);
    const row = page.locator(`[data-testid="install-row"][data-install-name="${INSTALL_NAME}"]`);
    await row.waitFor({ state: 'visible' });
    const hostRow = row.locator(`[data-testid="install-row-host"][data-host-name="${HOST_NAME}"]`);
    await expect(hostRow.getAttribute('data-release')).resolves.toBe('1.0.0');
    await expect(hostRow.textContent()).resolves.toContain('Core and agent');
    await row.getByTestId('install-health-check').click();
    await row.locator('[data-testid="install-health-state"][data-healthy="true"]').waitFor({ state: 'visible', timeout: 60_000 });
    await expect(row.locator(`[data-testid="install-health-host"][data-host-name="${HOST_NAME}"]`).textContent()).resolves.toContain('core 1/1 running');
    await shoot(page, 'installs-list');
  });

  it('links from the import of a newer bundle to the install’s upgrade, plans it and applies it with live progress', async () => {
    await page.getByRole('link', { name: 'Bundles', exact: true }).click();
    await page.getByTestId('bundle-path').fill(v2.file);
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
    await page.locator('[data-testid="followed-job"] [data-testid="wizard-job-step"][data-step="health"][data-status="running"]').waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    await followedJob('succeeded').waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    const statuses = await page.locator('[data-testid="followed-job"] [data-testid="wizard-job-step"]').evaluateAll((els) => els.map((el) => el.getAttribute('data-status')));
    expect(statuses).toEqual(Array(10).fill('done'));
    await page.locator(`[data-testid="installed-host"][data-host-name="${HOST_NAME}"][data-release="1.1.0"]`).waitFor({ state: 'visible' });
    await expect(currentRelease()).resolves.toBe('1.1.0');
    expect(fs.readlinkSync(path.join(installRoot, 'current'))).toBe('releases/1.1.0');
    // Nothing newer is offered any more; the job is listed.
    await page.getByTestId('upgrade-card').waitFor({ state: 'detached' });
    await page.locator('[data-testid="install-job-row"][data-kind="upgrade"][data-state="succeeded"]').waitFor({ state: 'visible' });
    await shoot(page, 'installs-upgraded');
  });

  it('rolls the install back to its previous release', async () => {
    await page.getByTestId('followed-job-close').click();
    await page.getByTestId('install-rollback-all').click();
    const dialog = page.getByTestId('rollback-dialog');
    await expect(dialog.getByTestId('rollback-release').evaluate((el) => Array.from((el as HTMLSelectElement).options, (o) => o.value))).resolves.toEqual(['', '1.0.0']);
    await dialog.getByTestId('rollback-confirm').click();
    await dialog.waitFor({ state: 'detached' });
    await followedJob('succeeded').waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    await expect(page.locator('[data-testid="followed-job"] [data-testid="wizard-job-host"]').getAttribute('data-state')).resolves.toBe('rolled-back');
    await page.locator(`[data-testid="installed-host"][data-host-name="${HOST_NAME}"][data-release="1.0.0"]`).waitFor({ state: 'visible' });
    await expect(currentRelease()).resolves.toBe('1.0.0');
    const health = await api!.call('installs.health', { name: INSTALL_NAME });
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
    await expect(page.locator('[data-testid="followed-job"] [data-testid="wizard-job-host"]').getAttribute('data-state')).resolves.toBe('removed');
    await page.getByText(`${INSTALL_NAME} is not installed`).waitFor({ state: 'visible' });
    await expect(api!.call('installs.list', {})).resolves.toEqual([]);
    expect(fs.existsSync(path.join(installRoot, 'releases'))).toBe(false);
    await shoot(page, 'installs-uninstalled');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Installs', exact: true }).click();
    await page.getByText('Nothing installed yet').waitFor({ state: 'visible' });
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

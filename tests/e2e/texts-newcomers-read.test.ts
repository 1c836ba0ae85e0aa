import type { BrowserContext, Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient, InstallProgress } from '../../electron/contract';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { addLabHostOverApi, buildRealNodeBundle } from '../support/install-lab';
import { bundleReference, labInstallDefinition, labInstallYaml } from '../support/lab-install-definition';
import { openOneHostInstallLab, type OneHostInstallLab } from '../support/one-host-install-lab';
import { setUpSuite } from '../support/suite-set-up';
import { restoreHostLink, slowHostLink } from '../support/test-hosts/slow-link';
import { makeWaitFor } from '../support/wait-for';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';
import { importBundleOverWeb } from '../support/web-uploads';

/**
 * What a newcomer read in the UI and was misled by (issue 11, item 7), each seen where it
 * was met: Debian's Chromium against `npm run web`, one OpenSSH test host (root, its own
 * network namespace) running the real runtime. An install cancelled in its upload counts
 * only the steps done; the wizard that shows it cancelled shows the install that
 * succeeded since in another tab; Roll back is offered only with a release to go back
 * to; after a rollback the install names the release it runs, never a time to come; an
 * uninstalled install offers nothing; no text sends the reader to an API method or a
 * command-line flag; the profile selector is labelled; and the page a person gets at a
 * wrong path is styled within the Content-Security-Policy.
 */

const JOB_TIMEOUT_MS = 240_000;
const PASSPHRASE = 'e2e passphrase for the texts newcomers read';
const HOST_NAME = 'texts-host';
const INSTALL_NAME = 'texts-lab';

/** Text that sends a window's reader to an API method or a command-line flag. */
const NAMES_API_OR_CLI = /\b(installs|hosts|bundles|wizard|secrets|probes|preflight)\.[a-z][A-Za-z]+\b|(^|\s)--[a-z]/;

describe('texts a newcomer reads, end to end', () => {
  let lab: OneHostInstallLab;
  let v1: BuiltBundle;
  let v2: BuiltBundle;
  let api: ApiClient;
  let context: BrowserContext;
  let page: Page;
  let url = '';
  let cancelledJob = '';
  const problems: string[] = [];
  const events: InstallProgress[] = [];
  const waitFor = makeWaitFor({ timeoutMs: JOB_TIMEOUT_MS, pollMs: 250 });

  async function finished(jobId: string): Promise<string> {
    const end = await waitFor(`job ${jobId} to finish`, () => events.find((e) => e.jobId === jobId && e.kind === 'finished') ?? null);
    return end.kind === 'finished' ? end.state : '';
  }

  /** What the page shows as text, checked for API methods and flags. */
  async function expectNoApiOrCliNames(where: string): Promise<void> {
    const text = await page.locator('main').innerText();
    expect(text.match(NAMES_API_OR_CLI), `${where}: ${text}`).toBeNull();
  }

  function installedPage(): Locator {
    return page.locator(`[data-testid="installed-page"][data-install-name="${INSTALL_NAME}"]`);
  }

  setUpSuite(
    async (defer) => {
      lab = await openOneHostInstallLab('sutazai-e2e-texts-', HOST_NAME);
      defer(lab.close);
      defer(() => restoreHostLink(lab.lab, lab.host));
      [v1, v2] = await Promise.all([buildRealNodeBundle(lab.kit, 'texts-v1', '1.0.0'), buildRealNodeBundle(lab.kit, 'texts-v2', '1.1.0')]);
      const session = await openWebModeSession({ dataDir: lab.dataDir, env: { SUTAZAI_PASSPHRASE: PASSPHRASE }, problems });
      defer(session.close);
      ({ page, url, context } = session);
      api = await connectApiClient(url);
      defer(() => api.close());
      await api.subscribe('installs.progress', {}, (event) => events.push(event));
      for (const bundle of [v1, v2]) await importBundleOverWeb(api, url, bundle.file, lab.kit.key.fingerprint);
      await addLabHostOverApi(api, lab.host, HOST_NAME);
    },
    { setUpMs: 600_000, undoMs: 120_000 },
  );

  it('answers a wrong path with a page styled by its own policy, with no CSP violation', async () => {
    const bare = await context.newPage();
    const response = await gotoPage(bare, `${new URL(url).origin}/no-such-page`, { waitUntil: 'load' });
    expect(response?.status()).toBe(404);
    await expect(bare.locator('h2').textContent()).resolves.toBe('Nothing is served here');
    await expect(bare.getByRole('alert').textContent()).resolves.toContain('Nothing is served at /no-such-page.');
    const look = await bare.evaluate(() => {
      const main = getComputedStyle(document.querySelector('main')!);
      return { background: main.backgroundColor, border: main.borderTopStyle, font: getComputedStyle(document.body).fontFamily };
    });
    // Styled: a card on the page, not the browser's serif text on white.
    expect(look.background).not.toBe('rgba(0, 0, 0, 0)');
    expect(look.border).toBe('solid');
    expect(look.font).toContain('system-ui');
    expect(await cspViolations(bare)).toEqual([]);
    await shoot(bare, 'web-mode-not-found');
    await bare.close();
  });

  it('labels the requirement profile selector wherever it stands', async () => {
    // The first load builds nothing but may wait on a busy machine.
    await gotoPage(page, url, { waitUntil: 'load', timeout: 90_000 });
    await page.getByRole('link', { name: 'Hosts', exact: true }).click();
    const select = page.getByLabel('Requirement profile', { exact: true });
    await select.first().waitFor({ state: 'visible' });
    await expect(select.first().getAttribute('data-testid')).resolves.toBe('profile-select');
    await expect(page.locator('label', { hasText: 'Requirement profile' }).first().isVisible()).resolves.toBe(true);
  });

  it('counts only the steps done of an install cancelled in its upload, naming where it stopped', async () => {
    await slowHostLink(lab.lab, lab.host);
    const definition = labInstallDefinition({ name: INSTALL_NAME, bundle: v1, hostName: HOST_NAME, base: lab.base });
    const { jobId } = await api.call('installs.start', { install: definition });
    cancelledJob = jobId;
    await waitFor('the upload to be under way', () =>
      events.some(
        (e) => e.jobId === jobId && e.kind === 'upload' && e.upload.bytesOnHost > 0 && e.upload.bytesOnHost < e.upload.totalBytes,
      ),
    );
    await api.call('installs.cancel', { jobId });
    expect(await finished(jobId)).toBe('cancelled');
    await restoreHostLink(lab.lab, lab.host);

    // The wizard's draft names that job, as if this tab had started it.
    const [bundle] = (await api.call('bundles.list', {})).filter((b) => b.version === '1.0.0');
    const host = (await api.call('hosts.find', { host: HOST_NAME })).host;
    await api.call('wizard.save', {
      draft: {
        step: 'install',
        bundleId: bundle!.id,
        installName: INSTALL_NAME,
        hostIds: [host.id],
        roles: [{ hostId: host.id, role: 'both', gpu: false }],
        environment: 'development',
        config: { name: 'install.yaml', text: labInstallYaml(lab.base) },
        hostConfigs: [],
        preflightAccepted: true,
        probeJobId: null,
        installJobId: jobId,
      },
    });
    await page.getByRole('link', { name: 'Install', exact: true }).click();
    const step = page.locator('[data-testid="wizard-install-step"][data-state="cancelled"]');
    await step.waitFor({ state: 'visible' });
    const hostPart = step.locator(`[data-testid="wizard-job-host"][data-host-name="${HOST_NAME}"]`);
    const count = await hostPart.getByTestId('wizard-job-host-count').textContent();
    const done = Number(/^(\d+) of 10 steps done, stopped at upload$/.exec(count ?? '')?.[1]);
    expect(done, count ?? '').toBeLessThan(10);
    // Neither bar is full: the host's and the job's.
    for (const bar of [
      hostPart.getByRole('progressbar', { name: `Steps done on ${HOST_NAME}` }),
      step.getByTestId('wizard-job-progress'),
    ]) {
      const [now, max] = await bar.evaluate((el) => [el.getAttribute('aria-valuenow'), el.getAttribute('aria-valuemax')].map(Number));
      expect(now).toBe(done);
      expect(max).toBe(10);
    }
    await expect(step.getByTestId('wizard-job-count').textContent()).resolves.toBe(`${done} of 10 steps done`);
    await expect(step.locator('.notice-remedy').first().textContent()).resolves.toContain('Install again');
    await expectNoApiOrCliNames('the cancelled install');
    await shoot(page, 'texts-install-cancelled', { fullPage: true });
  });

  it('shows the install that succeeded since in another tab, not the cancelled run its draft names', async () => {
    const definition = labInstallDefinition({ name: INSTALL_NAME, bundle: v1, hostName: HOST_NAME, base: lab.base });
    const { jobId } = await api.call('installs.start', { install: definition });
    expect(await finished(jobId)).toBe('succeeded');
    const step = page.locator('[data-testid="wizard-install-step"][data-state="succeeded"]');
    await step.waitFor({ state: 'visible', timeout: 60_000 });
    await expect(step.getByTestId('job-progress').getAttribute('data-job-id')).resolves.toBe(jobId);
    await step.getByTestId('wizard-install-elsewhere').waitFor({ state: 'visible' });
    await expect(step.getByTestId('wizard-job-count').textContent()).resolves.toBe('10 of 10 steps done');
    // The draft still names the cancelled run: only a later one of the same install replaces it.
    await expect(api.call('wizard.get', {})).resolves.toMatchObject({ draft: { installJobId: cancelledJob } });
    await expectNoApiOrCliNames('the install done elsewhere');
  });

  it('offers no Roll back while the install has no earlier release, and offers it after an upgrade', async () => {
    await page.evaluate((name) => (window.location.hash = `#/installs/${name}`), INSTALL_NAME);
    await installedPage().getByTestId('installed-host').waitFor({ state: 'visible' });
    await expect(installedPage().getByTestId('installed-running').textContent()).resolves.toBe(` · runs ${v1.manifest.name} 1.0.0`);
    await installedPage().getByTestId('install-uninstall-all').waitFor({ state: 'visible' });
    await expect(installedPage().getByTestId('install-rollback-all').count()).resolves.toBe(0);
    await expect(installedPage().getByTestId('installed-host-rollback').count()).resolves.toBe(0);
    await expectNoApiOrCliNames('an install with one release');

    const { jobId } = await api.call('installs.upgrade', { name: INSTALL_NAME, bundle: bundleReference(v2) });
    expect(await finished(jobId)).toBe('succeeded');
    await installedPage().locator(`[data-testid="installed-host"][data-release="1.1.0"]`).waitFor({ state: 'visible' });
    await installedPage().getByTestId('install-rollback-all').waitFor({ state: 'visible' });
    await expect(installedPage().getByTestId('installed-running').textContent()).resolves.toBe(` · runs ${v2.manifest.name} 1.1.0`);
  });

  it('names the release it runs after a rollback, and never says it became current in the future', async () => {
    await installedPage().getByTestId('install-rollback-all').click();
    const dialog = page.getByTestId('rollback-dialog');
    await dialog.getByTestId('rollback-confirm').click();
    await dialog.waitFor({ state: 'detached' });
    const row = installedPage().locator(`[data-testid="installed-host"][data-release="1.0.0"]`);
    await row.waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    // Read at once: the window's clock last ticked before the rollback was recorded.
    const since = await row.locator('.cell-sub', { hasText: 'current since' }).textContent();
    expect(since).not.toMatch(/\bin \d|ahead/);
    await expect(installedPage().getByTestId('installed-running').textContent()).resolves.toBe(` · runs ${v1.manifest.name} 1.0.0`);
    await page.locator('[data-testid="followed-job"] [data-testid="job-progress"][data-state="succeeded"]').waitFor({ state: 'visible' });
    await expectNoApiOrCliNames('a rolled-back install');
    await shoot(page, 'texts-rolled-back', { fullPage: true });
  });

  it('offers neither Roll back nor Uninstall once the install is gone', async () => {
    await page.getByTestId('followed-job-close').click();
    await installedPage().getByTestId('install-uninstall-all').click();
    const dialog = page.getByTestId('uninstall-dialog');
    await dialog.getByTestId('uninstall-name').fill(INSTALL_NAME);
    await dialog.getByTestId('uninstall-confirm').click();
    await page.getByText(`${INSTALL_NAME} is not installed`).waitFor({ state: 'visible', timeout: JOB_TIMEOUT_MS });
    await expect(installedPage().getByTestId('install-rollback-all').count()).resolves.toBe(0);
    await expect(installedPage().getByTestId('install-uninstall-all').count()).resolves.toBe(0);
    await expect(installedPage().getByTestId('installed-running').count()).resolves.toBe(0);
    await expectNoApiOrCliNames('an uninstalled install');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

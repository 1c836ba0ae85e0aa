import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../electron/contract';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { addLabHostOverApi, buildRealNodeBundle } from '../support/install-lab';
import { labInstallYaml } from '../support/lab-install-definition';
import { openOneHostInstallLab, type OneHostInstallLab } from '../support/one-host-install-lab';
import { restoreHostLink, slowHostLink } from '../support/test-hosts/slow-link';
import { setUpSuite } from '../support/suite-set-up';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';
import { next, wizardAt } from '../support/wizard-steps';
import { importBundleOverWeb } from '../support/web-uploads';

/**
 * The wizard's Cancel, as an operator meets it: Debian's Chromium against `npm run web`,
 * one OpenSSH test host (root, its own network namespace) whose link is slowed with `tc`
 * so the bundle's upload takes seconds. The bundle and the host are in the inventory
 * already (their own e2e tests add them by hand); the wizard is walked to its install
 * step, the install cancelled in the middle of the upload and confirmed, the job seen to
 * end cancelled with its remedy; then, at full speed, "Install again" completes it and
 * the upload resumes from the bytes already on the host.
 */

const INSTALL_TIMEOUT_MS = 240_000;
const PASSPHRASE = 'e2e passphrase for cancelling the wizard';
const HOST_NAME = 'cancel-host';
const INSTALL_NAME = 'cancel-lab';

async function uploadBytes(page: Page): Promise<{ onHost: number; total: number; resumedFrom: number }> {
  const upload = page.locator(`[data-testid="wizard-job-host"][data-host-name="${HOST_NAME}"]`).getByTestId('wizard-job-upload');
  const [onHost, total, resumedFrom] = await upload.evaluate((el) =>
    [el.dataset.bytes, el.dataset.total, el.dataset.resumedFrom].map(Number),
  );
  return { onHost: onHost!, total: total!, resumedFrom: resumedFrom! };
}

describe('cancelling the install wizard’s install, end to end', () => {
  let lab: OneHostInstallLab;
  let bundle: BuiltBundle;
  let api: ApiClient;
  let page: Page;
  let url = '';
  const problems: string[] = [];

  setUpSuite(
    async (defer) => {
      lab = await openOneHostInstallLab('sutazai-e2e-cancel-', HOST_NAME);
      defer(lab.close);
      defer(() => restoreHostLink(lab.lab, lab.host));
      bundle = await buildRealNodeBundle(lab.kit, 'sutazai-cancel');
      const session = await openWebModeSession({ dataDir: lab.dataDir, env: { SUTAZAI_PASSPHRASE: PASSPHRASE }, problems });
      defer(session.close);
      ({ page, url } = session);
      api = await connectApiClient(url);
      defer(() => api.close());
      await importBundleOverWeb(api, url, bundle.file, lab.kit.key.fingerprint);
      await addLabHostOverApi(api, lab.host, HOST_NAME);
    },
    { setUpMs: 300_000, undoMs: 120_000 },
  );

  it('walks the wizard to the plan of an install on the host', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Install', exact: true }).click();
    await wizardAt(page, 'bundle').waitFor({ state: 'visible' });
    await page.locator(`[data-testid="wizard-bundle-option"][data-version="${bundle.manifest.version}"] input`).check();
    await next(page, 'hosts');
    await page.locator(`[data-testid="wizard-host-option"][data-host-name="${HOST_NAME}"]`).getByTestId('wizard-host-select').check();
    await page.getByTestId('wizard-problem').waitFor({ state: 'detached' });
    await next(page, 'preflight');
    const report = page.getByTestId('wizard-preflight');
    await report.waitFor({ state: 'visible', timeout: 30_000 });
    // This machine is a test box, not a SutazAI server: go on knowingly.
    if ((await report.getAttribute('data-outcome')) === 'fail') await page.getByTestId('wizard-preflight-accept').check();
    await next(page, 'roles');
    await next(page, 'configuration');
    await page.getByTestId('wizard-install-name').fill(INSTALL_NAME);
    await page.getByTestId('config-environment').selectOption('development');
    await page.getByTestId('config-text').fill(labInstallYaml(lab.base));
    await page.locator('[data-testid="config-status"][data-state="valid"]').waitFor({ state: 'visible' });
    await next(page, 'review');
    const plan = page.locator(`[data-testid="wizard-plan-host"][data-host-name="${HOST_NAME}"]`);
    await plan.waitFor({ state: 'visible', timeout: 60_000 });
    await expect(plan.locator('[data-testid="wizard-plan-step"][data-step="upload"]').getAttribute('data-state')).resolves.toBe('todo');
  });

  it('cancels the install in the middle of the upload once confirmed, and shows it cancelled with its remedy', async () => {
    await slowHostLink(lab.lab, lab.host);
    await page.getByTestId('wizard-next').click();
    await wizardAt(page, 'install').waitFor({ state: 'visible' });
    await page
      .locator('[data-testid="wizard-job-step"][data-step="upload"][data-status="running"]')
      .waitFor({ state: 'visible', timeout: 60_000 });
    await expect.poll(async () => (await uploadBytes(page)).onHost, { timeout: 60_000 }).toBeGreaterThan(0);

    await page.getByTestId('job-cancel').click();
    const dialog = page.getByTestId('job-cancel-dialog');
    await expect(dialog.textContent()).resolves.toContain(`Cancel the install of ${INSTALL_NAME}?`);
    await shoot(page, 'wizard-cancel-confirm');
    await dialog.getByTestId('job-cancel-confirm').click();
    await dialog.waitFor({ state: 'detached' });

    const step = page.locator('[data-testid="wizard-install-step"][data-state="cancelled"]');
    await step.waitFor({ state: 'visible', timeout: 60_000 });
    const cut = await uploadBytes(page);
    // Cut in the middle: some of the bundle is on the host, not all of it.
    expect(cut.onHost).toBeGreaterThan(0);
    expect(cut.onHost).toBeLessThan(bundle.sizeBytes);
    const notice = step.locator('[data-testid="job-progress"] > .notice-error');
    await expect(notice.locator('.notice-code').textContent()).resolves.toBe('INSTALL_CANCELLED');
    await expect(notice.locator('.notice-remedy').textContent()).resolves.toContain('resumes from the bytes already on the host');
    await expect(page.locator(`[data-testid="wizard-job-host"][data-host-name="${HOST_NAME}"]`).getAttribute('data-state')).resolves.toBe(
      'cancelled',
    );
    await expect(page.locator('[data-testid="wizard-job-step"][data-step="upload"]').getAttribute('data-status')).resolves.toBe('failed');
    await expect(page.getByTestId('job-cancel').count()).resolves.toBe(0);
    // The backend says the same of the job.
    const [job] = await api.call('installs.jobs', { name: INSTALL_NAME, limit: 1 });
    await expect(api.call('installs.status', { jobId: job!.jobId })).resolves.toMatchObject({
      state: 'cancelled',
      error: { code: 'INSTALL_CANCELLED' },
      hosts: [{ host: HOST_NAME, state: 'cancelled' }],
    });
    await shoot(page, 'wizard-cancelled', { fullPage: true });
  });

  it('installs again at full speed, resuming the upload from the bytes already on the host', async () => {
    await restoreHostLink(lab.lab, lab.host);
    const cancelledJob = await page.getByTestId('job-progress').getAttribute('data-job-id');
    await page.getByTestId('wizard-install-again').click();
    const step = page.locator('[data-testid="wizard-install-step"][data-state="succeeded"]');
    await step.waitFor({ state: 'visible', timeout: INSTALL_TIMEOUT_MS });
    const jobId = await page.getByTestId('job-progress').getAttribute('data-job-id');
    expect(jobId).not.toBe(cancelledJob);
    await expect(page.locator(`[data-testid="wizard-job-host"][data-host-name="${HOST_NAME}"]`).getAttribute('data-state')).resolves.toBe(
      'installed',
    );
    const resumed = await uploadBytes(page);
    expect(resumed.resumedFrom).toBeGreaterThan(0);
    expect(resumed.onHost).toBe(bundle.sizeBytes);
    await expect(step.getByTestId('wizard-job-upload').textContent()).resolves.toContain('resumed at');

    // The job's status: only what was missing was sent.
    const status = await api.call('installs.status', { jobId: jobId! });
    expect(status).toMatchObject({ state: 'succeeded', hosts: [{ host: HOST_NAME, state: 'installed' }] });
    const upload = status.hosts[0]!.upload!;
    expect(upload.resumedFrom).toBeGreaterThan(0);
    expect(upload.resumedFrom + upload.bytesSent).toBe(bundle.sizeBytes);
    await shoot(page, 'wizard-install-resumed', { fullPage: true });
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { recordAttributeHistory } from '../support/attribute-history';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { buildRealNodeBundle } from '../support/install-lab';
import { labInstallYaml } from '../support/lab-install-definition';
import { openOneHostInstallLab } from '../support/one-host-install-lab';
import { setUpSuite } from '../support/suite-set-up';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { openWebModeSession } from '../support/web-mode-session';
import { next, wizardAt } from '../support/wizard-steps';

/**
 * The install wizard as an operator walks it: Debian's Chromium against `npm run web`, a
 * bundle whose Node binary is this machine's (so the real runtime, core and agent run on
 * the test host), and one OpenSSH test host in its own network namespace, logged in to as
 * root. Import the bundle, add the host (confirming its key) and probe it, preflight it,
 * keep the suggested role, write the configuration and the host's override, reload the
 * window and go on where it was, read the plan, install with live progress, see every
 * process healthy and the override in the runtime's config on the host.
 */

const INSTALL_TIMEOUT_MS = 240_000;
const PASSPHRASE = 'e2e passphrase for the install wizard';
const HOST_NAME = 'wizard-host';
const INSTALL_NAME = 'wizard-lab';
/** The host's own layer: its name is the host's, and its value must reach the runtime's config on that host. */
const HOST_CONFIG_FILE = `host-${HOST_NAME}.yaml`;
const HOST_CONFIG_TEXT = 'runtime:\n  logs:\n    keep_files: 7\n';

describe('the install wizard, end to end', () => {
  let tmp = '';
  let host: TestHost;
  let bundle: BuiltBundle;
  let page: Page;
  let url = '';
  let installRoot = '';
  let configText = '';
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const lab = await openOneHostInstallLab('sutazai-e2e-wizard-', HOST_NAME);
    defer(lab.close);
    ({ dir: tmp, host, installRoot } = lab);
    configText = labInstallYaml(lab.base);
    bundle = await buildRealNodeBundle(lab.kit, 'sutazai-wizard');
    // The vault passphrase: applying needs the install's CA key, which is kept sealed.
    const session = await openWebModeSession({ dataDir: lab.dataDir, env: { SUTAZAI_PASSPHRASE: PASSPHRASE }, problems });
    defer(session.close);
    ({ page, url } = session);
  });

  it('imports the bundle in the wizard, confirming its signer, and chooses it', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Install', exact: true }).click();
    await page.waitForURL(/#\/install$/);
    await wizardAt(page, 'bundle').waitFor({ state: 'visible' });
    await expect(page.getByTestId('wizard-problem').textContent()).resolves.toContain('Import a bundle');

    await page.getByTestId('bundle-file').setInputFiles(bundle.file);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const unknown = page.getByTestId('bundle-key-unknown');
    await unknown.waitFor({ state: 'visible' });
    await unknown.getByRole('button', { name: 'Trust this key and import' }).click();
    await page.getByTestId('bundle-imported').waitFor({ state: 'visible' });
    // The bundle just imported is the one chosen.
    const option = page.locator(`[data-testid="wizard-bundle-option"][data-version="${bundle.manifest.version}"]`);
    await option.and(page.locator('[data-chosen="true"]')).waitFor({ state: 'visible' });
    await shoot(page, 'wizard-bundle');
    await next(page, 'hosts');
  });

  it('adds the host with its key confirmed, chooses it and probes it with live progress', async () => {
    await expect(page.getByTestId('wizard-problem').textContent()).resolves.toContain('Choose at least one machine');
    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    const dialog = page.getByTestId('add-host-dialog');
    await dialog.locator('input[name="name"]').fill(HOST_NAME);
    await dialog.locator('input[name="address"]').fill(host.address);
    await dialog.locator('input[name="port"]').fill(String(host.port));
    await dialog.locator('input[name="user"]').fill(host.user);
    await dialog.locator('textarea[name="privateKey"]').fill(host.privateKey.toString('utf8'));
    await dialog.getByRole('button', { name: 'Check host' }).click();
    const fingerprint = dialog.getByTestId('host-key-fingerprint');
    await fingerprint.waitFor({ state: 'visible' });
    await expect(fingerprint.getAttribute('data-fingerprint')).resolves.toBe(host.hostKeyFingerprint);
    await dialog.getByRole('button', { name: 'Trust and add' }).click();
    await dialog.getByTestId('host-key-trusted').waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    const row = page.locator(`[data-testid="wizard-host-option"][data-host-name="${HOST_NAME}"]`);
    await expect(row.getByTestId('wizard-host-select').isChecked()).resolves.toBe(true);
    // Never probed: placement and preflight need its facts first.
    await page
      .getByTestId('wizard-problem')
      .filter({ hasText: `Probe ${HOST_NAME} first` })
      .waitFor({ state: 'visible' });

    await page.getByTestId('wizard-probe-start').click();
    await page.locator('[data-testid="wizard-probe"][data-finished="true"]').waitFor({ timeout: 60_000 });
    await expect(page.locator(`[data-testid="probe-row"][data-host-name="${HOST_NAME}"]`).getAttribute('data-state')).resolves.toBe('done');
    await page.getByTestId('wizard-problem').waitFor({ state: 'detached' });
    await shoot(page, 'wizard-hosts');
    await next(page, 'preflight');
  });

  it('checks the host against the profiles of its suggested role, core and agent', async () => {
    const report = page.getByTestId('wizard-preflight');
    await report.waitFor({ state: 'visible', timeout: 30_000 });
    const hostResult = page.locator(`[data-testid="wizard-preflight-host"][data-host-name="${HOST_NAME}"]`);
    await expect(
      hostResult.getByTestId('wizard-preflight-profile').evaluateAll((els) => els.map((el) => el.getAttribute('data-profile'))),
    ).resolves.toEqual(['core', 'agent']);
    // Every check says what it found and, when it did not pass, what to do.
    await expect(hostResult.getByTestId('preflight-check').count()).resolves.toBeGreaterThan(5);
    if ((await report.getAttribute('data-outcome')) === 'fail') {
      // This machine is a test box, not a SutazAI server: go on knowingly.
      await expect(page.getByTestId('wizard-next').isDisabled()).resolves.toBe(true);
      await page.getByTestId('wizard-preflight-accept').check();
    }
    await shoot(page, 'wizard-preflight', { fullPage: true });
    await next(page, 'roles');
  });

  it('suggests the only machine as core and agents, and refuses an install without a core', async () => {
    const role = page.locator(`[data-testid="wizard-role-row"][data-host-name="${HOST_NAME}"]`);
    await expect(role.getAttribute('data-role')).resolves.toBe('both');
    await expect(role.textContent()).resolves.toContain('the only machine');
    await role.getByTestId('wizard-role-select').selectOption('agent');
    await page.getByTestId('wizard-problem').filter({ hasText: 'exactly one machine the core' }).waitFor({ state: 'visible' });
    await role.getByTestId('wizard-role-select').selectOption('both');
    await page.getByTestId('wizard-problem').waitFor({ state: 'detached' });
    await shoot(page, 'wizard-roles');
    await next(page, 'configuration');
  });

  it('takes the install’s name and values as they are checked, and keeps them across a reload of the window', async () => {
    await page.getByTestId('wizard-install-name').fill(INSTALL_NAME);
    await page.getByTestId('config-environment').selectOption('development');
    await page.getByTestId('config-text').fill('runtime:\n  grpc_port: seventy\n');
    await page.locator('[data-testid="config-status"][data-state="invalid"]').waitFor({ state: 'visible' });
    await expect(page.getByTestId('wizard-next').isDisabled()).resolves.toBe(true);
    await page.getByTestId('config-text').fill(configText);
    await page.locator('[data-testid="config-status"][data-state="valid"]').waitFor({ state: 'visible' });
    await expect(page.getByTestId('wizard-next').isEnabled()).resolves.toBe(true);

    // The host's override: refused where it is wrong, file, line and column, and the review kept away.
    const hostConfig = page.locator(`[data-testid="host-config"][data-host-name="${HOST_NAME}"]`);
    await hostConfig.getByTestId('host-config-add').click();
    await hostConfig.getByTestId('host-config-text').fill('runtime:\n  logs:\n    keep_files: many\n');
    await hostConfig.locator('[data-testid="host-config-status"][data-state="invalid"]').waitFor({ state: 'visible' });
    const hostProblem = hostConfig.getByTestId('config-problem');
    await expect(hostProblem.evaluate((el) => [el.dataset.file, el.dataset.line, el.dataset.column, el.dataset.key])).resolves.toEqual([
      HOST_CONFIG_FILE,
      '3',
      '17',
      'runtime.logs.keep_files',
    ]);
    await expect(hostProblem.textContent()).resolves.toContain(`${HOST_CONFIG_FILE}, line 3, column 17`);
    await page
      .getByTestId('wizard-problem')
      .filter({ hasText: `Correct the override of ${HOST_NAME}` })
      .waitFor({ state: 'visible' });
    await expect(page.getByTestId('wizard-next').isDisabled()).resolves.toBe(true);
    await shoot(page, 'wizard-host-override-refused', { fullPage: true });

    // Corrected, it is valid over the install's values, and the merged key names the host layer as the one that set it.
    await hostConfig.getByTestId('host-config-text').fill(HOST_CONFIG_TEXT);
    await hostConfig.locator('[data-testid="host-config-status"][data-state="valid"]').waitFor({ state: 'visible' });
    await page.getByTestId('wizard-problem').waitFor({ state: 'detached' });
    await hostConfig.getByTestId('host-config-merged').locator('summary').click();
    const keepFiles = hostConfig.locator('[data-testid="config-value-row"][data-key="runtime.logs.keep_files"]');
    await expect(keepFiles.locator('td').nth(1).textContent()).resolves.toBe('7');
    await keepFiles.getByRole('button').click();
    const setting = hostConfig.locator('[data-testid="config-setting"][data-key="runtime.logs.keep_files"]');
    await expect(setting.evaluate((el) => [el.dataset.layer, el.dataset.kind])).resolves.toEqual(['host', 'host']);
    await expect(setting.getByTestId('config-setting-origin').textContent()).resolves.toContain(`${HOST_CONFIG_FILE}:3:17`);
    await expect(setting.getByTestId('config-overridden').first().getAttribute('data-layer')).resolves.toBe('defaults');
    // The install's own merged values do not have it: the override is this host's alone.
    await expect(
      page
        .locator('[data-testid="config-merged-card"] [data-testid="config-value-row"][data-key="runtime.logs.keep_files"] td')
        .nth(1)
        .textContent(),
    ).resolves.toBe('4');
    await shoot(page, 'wizard-configuration', { fullPage: true });
    await next(page, 'review');
    await page.locator('[data-testid="wizard-saved"][data-state="saved"]').waitFor({ state: 'visible' });

    // Closing the window mid-way: the draft is in the backend's store, not in the page.
    await page.reload({ waitUntil: 'load' });
    await wizardAt(page, 'review').waitFor({ state: 'visible' });
    const summary = (await page.getByTestId('wizard-summary').textContent()) ?? '';
    expect(summary).toContain(INSTALL_NAME);
    expect(summary).toContain(`${bundle.manifest.name}@${bundle.manifest.version}`);
    expect(summary).toContain('development');
    expect(summary).toContain(`${HOST_NAME} (core and agent)`);
    await expect(page.getByTestId('wizard-summary-override').evaluateAll((els) => els.map((el) => el.textContent))).resolves.toEqual([
      `${HOST_NAME} (${HOST_CONFIG_FILE})`,
    ]);
    // The values typed before the reload are there, as typed, the host's override too.
    await page.locator('[data-testid="wizard-step"][data-step="configuration"]').getByRole('button').click();
    await wizardAt(page, 'configuration').waitFor({ state: 'visible' });
    await expect(page.getByTestId('config-text').inputValue()).resolves.toBe(configText);
    await expect(hostConfig.getByTestId('host-config-text').inputValue()).resolves.toBe(HOST_CONFIG_TEXT);
    await hostConfig.locator('[data-testid="host-config-status"][data-state="valid"]').waitFor({ state: 'visible' });
    await expect(page.getByTestId('wizard-install-name').inputValue()).resolves.toBe(INSTALL_NAME);
    await page.locator('[data-testid="config-status"][data-state="valid"]').waitFor({ state: 'visible' });
    await next(page, 'review');
  });

  it('plans the install: each step of the host, and what already matches', async () => {
    const plan = page.locator(`[data-testid="wizard-plan-host"][data-host-name="${HOST_NAME}"]`);
    await plan.waitFor({ state: 'visible', timeout: 60_000 });
    await expect(plan.getAttribute('data-blocked')).resolves.toBe('false');
    const states = await plan
      .getByTestId('wizard-plan-step')
      .evaluateAll((els) => els.map((el) => [el.getAttribute('data-step'), el.getAttribute('data-state')]));
    expect(states.map(([step]) => step)).toEqual([
      'connect',
      'check-space',
      'upload',
      'unpack',
      'configure',
      'service',
      'start',
      'health',
      'switch',
      'record',
    ]);
    expect(states.filter(([, state]) => state === 'todo').map(([step]) => step)).toEqual([
      'upload',
      'unpack',
      'configure',
      'service',
      'start',
      'switch',
      'record',
    ]);
    await expect(plan.getByTestId('wizard-plan-matching').textContent()).resolves.toBe('1 of 10 steps already match');
    await expect(plan.textContent()).resolves.toContain(`system-wide under ${installRoot}`);
    expect(fs.existsSync(installRoot)).toBe(false);
    await shoot(page, 'wizard-plan', { fullPage: true });
  });

  it('installs with live progress per step that a reloaded window picks up, each step’s output a click away', async () => {
    // Every status a step row shows, in order, as the page renders it.
    const stepStates = await recordAttributeHistory(page, { testId: 'wizard-job-step', key: 'data-step', attribute: 'data-status' });
    await page.getByTestId('wizard-next').click();
    await wizardAt(page, 'install').waitFor({ state: 'visible' });
    await page
      .locator('[data-testid="wizard-job-step"][data-step="health"][data-status="running"]')
      .waitFor({ state: 'visible', timeout: INSTALL_TIMEOUT_MS });
    await shoot(page, 'wizard-installing', { fullPage: true });
    const seen = await stepStates();
    // Steps were shown running before they were done: the progress is live.
    expect(seen.upload).toEqual(expect.arrayContaining(['running', 'done']));
    expect(seen.upload!.indexOf('running')).toBeLessThan(seen.upload!.indexOf('done'));
    expect(seen.health).toContain('running');

    // A window reloaded while the install runs picks it up where it is (installs.status), then follows it.
    await page.reload({ waitUntil: 'load' });
    await wizardAt(page, 'install').waitFor({ state: 'visible' });
    await page
      .locator('[data-testid="wizard-install-step"][data-state="succeeded"]')
      .waitFor({ state: 'visible', timeout: INSTALL_TIMEOUT_MS });

    const hostProgress = page.locator(`[data-testid="wizard-job-host"][data-host-name="${HOST_NAME}"]`);
    await expect(hostProgress.getAttribute('data-state')).resolves.toBe('installed');
    const statuses = await hostProgress
      .getByTestId('wizard-job-step')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-status')));
    expect(statuses).toEqual(Array(10).fill('done'));
    const upload = hostProgress.getByTestId('wizard-job-upload');
    await expect(upload.getAttribute('data-bytes')).resolves.toBe(String(bundle.sizeBytes));

    const health = hostProgress.locator('[data-testid="wizard-job-step"][data-step="health"]');
    await health.locator('summary').click();
    await expect(health.getByTestId('wizard-job-output').textContent()).resolves.toMatch(/core running 1\/1/);
    await shoot(page, 'wizard-installed', { fullPage: true });
    await next(page, 'done');
  });

  it('ends with every process of the host’s runtime running, asked through its SSH tunnel', async () => {
    const health = page.locator('[data-testid="wizard-health"][data-healthy="true"]');
    await health.waitFor({ state: 'visible', timeout: 60_000 });
    const hostHealth = page.locator(`[data-testid="wizard-health-host"][data-host-name="${HOST_NAME}"]`);
    await expect(hostHealth.getAttribute('data-reachable')).resolves.toBe('true');
    const processes = await hostHealth
      .getByTestId('wizard-health-process')
      .evaluateAll((els) => els.map((el) => [el.getAttribute('data-process'), el.getAttribute('data-state')]));
    expect(processes).toEqual([
      ['core', 'running'],
      ['agent', 'running'],
    ]);
    await expect(hostHealth.textContent()).resolves.toContain(`bundle ${bundle.manifest.version}`);
    // The host's override reached the configuration written on it (<config_dir>/runtime.yaml, this machine's filesystem).
    const runtimeConfig = fs.readFileSync(path.join(tmp, HOST_NAME, 'etc', 'runtime.yaml'), 'utf8');
    expect(runtimeConfig).toMatch(/^\s+keep_files: 7$/m);
    await shoot(page, 'wizard-done', { fullPage: true });

    // Finishing opens the new install's page and forgets the draft: the wizard starts afresh, then and after a reload.
    await page.getByTestId('wizard-next').click();
    await page.waitForURL(new RegExp(`#/installs/${INSTALL_NAME}$`));
    const installed = page.locator(`[data-testid="installed-page"][data-install-name="${INSTALL_NAME}"]`);
    await installed.waitFor({ state: 'visible' });
    await installed.locator(`[data-testid="installed-host"][data-host-name="${HOST_NAME}"]`).waitFor({ state: 'visible' });
    await page.getByRole('link', { name: 'Install', exact: true }).click();
    await page.waitForURL(/#\/install$/);
    await wizardAt(page, 'bundle').waitFor({ state: 'visible' });
    await page.reload({ waitUntil: 'load' });
    await wizardAt(page, 'bundle').waitFor({ state: 'visible' });
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

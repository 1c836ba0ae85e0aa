import type { Browser, Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { ApiError, type ApiClient, type FleetProcess } from '../../electron/contract';
import { collectPageProblems, cspViolations, gotoPage, newCspRecordingContext } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { buildRealNodeBundle } from '../support/install-lab';
import { openInstalledWebMode } from '../support/installed-web-mode';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { useTestLab } from '../support/test-hosts/use-test-lab';
import { connectApiClient } from '../support/web-mode-session';
import { makeWaitFor } from '../support/wait-for';
import { importBundleOverWeb } from '../support/web-uploads';

/**
 * Operators and roles as people meet them in web mode (issue 14 item 1, issue 12's viewer
 * role), against SutazAI installed for real on a test host: with no operator the page is
 * the one admin; the first operator (an admin) is added from the Operators page, and that
 * tab goes on as it; every other tab signs in. A viewer sees the process controls disabled
 * with the reason, and the backend refuses the call when forced; an operator restarts the
 * agent from the page (new pids on the host); an admin's role change and disabling count
 * in the other tabs without a reload.
 *
 * Every other state-changing control of the pages (host: probe, edit, remove, trust a key,
 * preflight; hosts: add, import, bulk probe; bundle import; install wizard; upgrade, roll back,
 * uninstall) is disabled for a role the backend refuses it to, with the reason in words,
 * and enabled for the roles it allows.
 */

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-e2e-operators-');
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 250 });
const PASSWORDS = { ada: 'ada signs in here', vera: 'vera watches the fleet', otto: 'otto keeps it running' } as const;

let host: TestHost;
let hostId = 0;
/** The same machine again, added by the admin without trusting its key: its key check offers Trust. */
let untrustedId = 0;
/** A newer bundle of the installed one's signer, not imported yet: the Bundles page verifies it, then the admin imports it. */
let next: BuiltBundle;
let browser: Browser;
let page: Page;
let url = '';
let api: ApiClient;
const problems: string[] = [];
const tabs: Page[] = [];

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const installed = await openInstalledWebMode(defer, labRef.lab, {
      dir: tmp.path,
      install: 'roles',
      bundleName: 'roles',
      hostName: 'roles-a',
      problems,
    });
    ({ hostId, api } = installed);
    host = installed.host.host;
    ({ page, url, browser } = installed.session);
    next = await buildRealNodeBundle(installed.fleet.kit, 'roles-next', '0.1.1');
    untrustedId = (
      await api.call('hosts.add', {
        name: 'roles-b',
        address: host.address,
        port: host.port,
        user: host.user,
        auth: { method: 'keyText', privateKey: host.privateKey.toString('utf8') },
      })
    ).id;
    // An install prepared up to its plan, as an operator leaves it for an admin to start.
    const bundle = (await api.call('bundles.list', {}))[0]!;
    await api.call('wizard.save', {
      draft: {
        step: 'review',
        bundleId: bundle.id,
        installName: 'roles-next',
        hostIds: [hostId],
        roles: [{ hostId, role: 'both', gpu: false }],
        environment: null,
        config: { name: 'install.yaml', text: '' },
        hostConfigs: [],
        preflightAccepted: true,
        probeJobId: null,
        installJobId: null,
      },
    });
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

/** Another browser tab of its own (its own WebSocket, its own sign-in). */
async function newTab(where: string): Promise<Page> {
  const context = await newCspRecordingContext(browser);
  const tab = await context.newPage();
  tab.setDefaultTimeout(60_000);
  collectPageProblems(tab, problems, where);
  tabs.push(tab);
  return tab;
}

/**
 * Another page of the app in the same tab, as its links go there: a new load of the page
 * (page.goto to another address) is a new connection, which signs in again.
 */
async function show(tab: Page, hash: string): Promise<void> {
  await tab.evaluate((to) => {
    window.location.hash = to;
  }, hash);
}

async function signIn(tab: Page, name: string, password: string): Promise<void> {
  const form = tab.getByTestId('sign-in');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function addOperator(name: keyof typeof PASSWORDS, role: string | null, hostLabels = ''): Promise<void> {
  const form = page.getByTestId('add-operator');
  await form.getByLabel('Name').fill(name);
  if (role !== null) await form.getByLabel('Role').selectOption(role);
  await form.getByLabel('Password').fill(PASSWORDS[name]);
  if (hostLabels !== '') await form.getByLabel('Host labels').fill(hostLabels);
  await form.getByRole('button', { name: 'Add operator', exact: true }).click();
  await page.locator(`[data-operator="${name}"]`).waitFor();
}

/** A control the role may not use: disabled, its title the reason. */
async function expectDenied(control: Locator, reason: string): Promise<void> {
  await expect(control.isDisabled()).resolves.toBe(true);
  await expect(control.getAttribute('title')).resolves.toBe(reason);
}

async function expectNote(tab: Page, testId: string, reason: string): Promise<void> {
  await expect(tab.getByTestId(testId).textContent()).resolves.toBe(reason);
}

/**
 * What a viewer and an operator meet on the pages beyond the process controls. `denied`
 * maps each action to the reason the role gets, or null where the role may.
 */
async function walkGatedPages(
  tab: Page,
  who: 'viewer' | 'operator',
  denied: {
    probe: string | null;
    hosts: string;
    trust: string;
    hostsPage: string;
    importBundle: string;
    uninstall: string;
    acknowledge: string | null;
  },
): Promise<void> {
  // The installed host: probing and preflight (an operator's), edit and remove (an admin's); checking its key only reads.
  await show(tab, `#/hosts/${hostId}`);
  const probeAgain = tab.getByRole('button', { name: 'Probe again', exact: true });
  await probeAgain.waitFor();
  const runPreflight = tab.getByTestId('preflight-card').getByRole('button', { name: 'Run preflight', exact: true });
  if (denied.probe !== null) {
    await expectDenied(probeAgain, denied.probe);
    await expectNote(tab, 'probe-denied', denied.probe);
    await expectDenied(runPreflight, denied.probe);
    // No run yet: the card does not ask her to run one.
    await tab.getByTestId('preflight-card').getByText('An operator or admin runs one here', { exact: false }).waitFor();
  } else {
    await expect(probeAgain.isDisabled()).resolves.toBe(false);
    await expect(tab.getByTestId('probe-denied').count()).resolves.toBe(0);
    await expect(runPreflight.isDisabled()).resolves.toBe(false);
    await tab.getByTestId('preflight-card').getByText('Choose a profile and run it', { exact: false }).waitFor();
  }
  const connection = tab.getByTestId('connection-card');
  for (const name of ['Edit', 'Remove']) await expectDenied(connection.getByRole('button', { name, exact: true }), denied.hosts);
  await expectNote(tab, 'connection-denied', denied.hosts);
  await shoot(tab, `host-page-${who}`, { fullPage: true });

  // A machine whose key is not trusted yet: the key is read and shown; trusting it is an admin's.
  await show(tab, `#/hosts/${untrustedId}`);
  const checkKey = tab.getByTestId('connection-card').getByRole('button', { name: 'Check host key', exact: true });
  await checkKey.waitFor();
  await expect(checkKey.isDisabled()).resolves.toBe(false);
  await checkKey.click();
  const newKey = tab.getByTestId('host-key-new');
  await expect(newKey.getByTestId('host-key-fingerprint').getAttribute('data-fingerprint')).resolves.toBe(host.hostKeyFingerprint);
  await expectDenied(newKey.getByRole('button', { name: 'Trust this key', exact: true }), denied.trust);
  await expect(newKey.getByTestId('trust-denied').textContent()).resolves.toBe(denied.trust);
  await shoot(tab, `host-key-${who}`);

  await show(tab, '#/hosts');
  for (const name of ['Import…', 'Add host']) await expectDenied(tab.getByRole('button', { name, exact: true }), denied.hosts);
  await expectNote(tab, 'hosts-denied', denied.hostsPage);
  await shoot(tab, `hosts-page-${who}`);

  // In a browser a bundle is verified once sent, and the control center takes one only from whoever may import it
  // (checked at the upload itself: upload-access-loopback.test.ts): the page says so before anything is sent.
  await show(tab, '#/bundles');
  await tab.getByTestId('bundle-file').setInputFiles(next.file);
  await expectDenied(tab.getByTestId('bundle-import').getByRole('button', { name: 'Verify', exact: true }), denied.importBundle);
  await expect(tab.getByTestId('bundle-verify-denied').textContent()).resolves.toBe(denied.importBundle);
  await shoot(tab, `bundle-import-${who}`);

  await show(tab, '#/installs/roles');
  await expectDenied(tab.getByTestId('install-uninstall-all'), denied.uninstall);
  await expectDenied(tab.getByTestId('installed-host-uninstall'), denied.uninstall);
  // It keeps no earlier release: the note names only the uninstall the page offers.
  await expect(tab.getByTestId('install-rollback-all').count()).resolves.toBe(0);
  await expectNote(tab, 'installed-denied', denied.uninstall);

  await show(tab, '#/alerts');
  await tab.getByTestId('alerts-page').waitFor();
  if (denied.acknowledge !== null) await expectNote(tab, 'alerts-denied', denied.acknowledge);
  else await expect(tab.getByTestId('alerts-denied').count()).resolves.toBe(0);
}

/** The upgrade the newer bundle offers: its plan is shown (each host looked at), starting it is an admin's. */
async function expectUpgradeDenied(tab: Page, who: 'viewer' | 'operator', reason: string): Promise<void> {
  await show(tab, '#/installs/roles');
  await tab.locator('[data-testid="upgrade-offer"][data-version="0.1.1"]').getByTestId('upgrade-plan').click();
  await tab.getByTestId('upgrade-plan-view').getByTestId('wizard-plan-host').first().waitFor();
  await expectDenied(tab.getByTestId('upgrade-start'), reason);
  await expectNote(tab, 'upgrade-denied', reason);
  await shoot(tab, `upgrade-${who}`);
  await tab.getByTestId('upgrade-plan-view').getByRole('button', { name: 'Not now', exact: true }).click();
}

async function agent(): Promise<FleetProcess> {
  return (await api.call('fleet.processes', { hostId })).processes.find((p) => p.name === 'agent')!;
}

async function aliveOnHost(pid: number): Promise<boolean> {
  return (await labRef.lab.exec(host, `kill -0 ${pid}`)).code === 0;
}

describe('operators and roles in web mode', () => {
  it('asks no one to sign in while there is no operator; the first, an admin, is added from the page, which goes on as it', async () => {
    await gotoPage(page, `${url}#/operators`, { waitUntil: 'load' });
    await page.getByTestId('operators-page').getByText('No operators yet').waitFor();
    const form = page.getByTestId('add-operator');
    await expect(form.getByLabel('Role').isDisabled()).resolves.toBe(true);
    await expect(form.getByLabel('Role').inputValue()).resolves.toBe('admin');
    await addOperator('ada', null);
    await page.locator('[data-testid="signed-in-as"][data-role="admin"]').getByText('ada').waitFor();

    // The client opened before operators existed has not signed in: it is asked to.
    const refused = await api.call('hosts.list', {}).catch((error: ApiError) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('SIGN_IN_REQUIRED');
    await api.call('session.signIn', { name: 'ada', password: PASSWORDS.ada });

    await addOperator('vera', 'viewer', 'rack=b4');
    await addOperator('otto', 'operator');
    const vera = page.locator('[data-operator="vera"]');
    await expect(vera.getByLabel('Role of vera').inputValue()).resolves.toBe('viewer');
    await expect(vera.textContent()).resolves.toContain('hosts rack=b4');
    await shoot(page, 'operators-page-admin');
  }, 120_000);

  it('refuses a wrong password, then shows a viewer the controls disabled with the reason; forced, the call is refused', async () => {
    const tab = await newTab('vera');
    await gotoPage(tab, url, { waitUntil: 'load' });
    await tab.getByTestId('sign-in').waitFor();
    await signIn(tab, 'vera', 'not her password at all');
    await tab.getByTestId('sign-in').getByText('The name and password do not match an enabled operator.').waitFor();
    await signIn(tab, 'vera', PASSWORDS.vera);
    await tab.locator('[data-testid="signed-in-as"][data-role="viewer"]').waitFor();

    await show(tab, `#/hosts/${hostId}`);
    const controls = tab.getByTestId('controls-agent');
    await controls.waitFor();
    for (const name of ['Start', 'Stop', 'Restart', 'Scale'])
      await expect(controls.getByRole('button', { name, exact: true }).isDisabled()).resolves.toBe(true);
    await expect(controls.getByRole('button', { name: 'Restart', exact: true }).getAttribute('title')).resolves.toBe(
      'You are a viewer, and a viewer may not start, stop or restart processes.',
    );
    await expect(controls.getByTestId('controls-denied').textContent()).resolves.toBe(
      'You are a viewer, and a viewer may not start, stop or restart processes.',
    );
    await shoot(tab, 'process-controls-viewer');

    // Forced past the page: the backend refuses it and nothing changes on the host.
    const before = (await agent()).instances.map((i) => i.pid!);
    const forced = await connectApiClient(url);
    try {
      await forced.call('session.signIn', { name: 'vera', password: PASSWORDS.vera });
      const refused = await forced.call('fleet.restart', { hostId, process: 'agent' }).catch((error: ApiError) => error);
      expect((refused as ApiError).toBody()).toEqual({
        code: 'ACCESS_DENIED',
        message: 'vera is a viewer, and a viewer may not start, stop or restart processes (fleet.restart).',
        remedy: 'Ask an admin to do it, or to give you a role that may.',
      });
    } finally {
      forced.close();
    }
    expect((await agent()).instances.map((i) => i.pid!)).toEqual(before);
    for (const pid of before) expect(await aliveOnHost(pid)).toBe(true);

    await walkGatedPages(tab, 'viewer', {
      probe: 'You are a viewer, and a viewer may not probe hosts or run preflight checks.',
      hosts: 'You are a viewer, and a viewer may not add, change or remove hosts.',
      trust: 'You are a viewer, and a viewer may not trust host or bundle keys.',
      hostsPage: 'You are a viewer, and a viewer may not add, change or remove hosts, nor probe hosts or run preflight checks.',
      importBundle: 'You are a viewer, and a viewer may not import bundles.',
      uninstall: 'You are a viewer, and a viewer may not uninstall.',
      acknowledge: 'You are a viewer, and a viewer may not acknowledge alerts.',
    });
    // The admin imports the newer bundle: the install's page offers its upgrade, which she may look at, not start.
    await importBundleOverWeb(api, url, next.file);
    await expectUpgradeDenied(tab, 'viewer', 'You are a viewer, and a viewer may not upgrade installs.');

    // The wizard saves every choice as a draft, which a viewer may not write: it says so instead of its steps.
    await show(tab, '#/install');
    await expectNote(tab, 'wizard-denied', 'You are a viewer, and a viewer may not edit install drafts.');
    await expect(tab.getByTestId('wizard-title').count()).resolves.toBe(0);
    await shoot(tab, 'install-wizard-viewer');

    await show(tab, '#/operators');
    await expect(tab.getByTestId('operators-denied').textContent()).resolves.toBe(
      'You are a viewer, and a viewer may not manage operators.',
    );
    await expect(tab.getByTestId('add-operator').getByRole('button', { name: 'Add operator' }).isDisabled()).resolves.toBe(true);
    await expect(tab.locator('[data-operator="otto"]').getByRole('button', { name: 'Remove' }).isDisabled()).resolves.toBe(true);
  }, 180_000);

  it('lets an operator restart the agent from the page: new pids on the host', async () => {
    const tab = await newTab('otto');
    await gotoPage(tab, url, { waitUntil: 'load' });
    await signIn(tab, 'otto', PASSWORDS.otto);
    await show(tab, `#/hosts/${hostId}`);
    const controls = tab.getByTestId('controls-agent');
    await controls.waitFor();
    await expect(controls.getByTestId('controls-denied').count()).resolves.toBe(0);
    const before = (await agent()).instances.map((i) => i.pid!);
    await controls.getByRole('button', { name: 'Restart', exact: true }).click();
    const confirm = tab.getByTestId('confirm-action');
    await confirm.getByRole('button', { name: 'Restart', exact: true }).click();
    await expect(controls.getByTestId('action-outcome').textContent()).resolves.toMatch(/^agent restarted/);
    const after = await waitFor('new agent pids', async () => {
      const pids = (await agent()).instances.map((i) => i.pid);
      return pids.every((p) => p !== null && !before.includes(p)) ? (pids as number[]) : null;
    });
    for (const pid of before) expect(await aliveOnHost(pid)).toBe(false);
    for (const pid of after) expect(await aliveOnHost(pid)).toBe(true);
  }, 180_000);

  it("shows an operator the operator's controls enabled and the admin's disabled with the reason; forced, the admin's call is refused", async () => {
    const tab = tabs[1]!;
    await walkGatedPages(tab, 'operator', {
      probe: null,
      hosts: 'You are an operator, and an operator may not add, change or remove hosts.',
      trust: 'You are an operator, and an operator may not trust host or bundle keys.',
      hostsPage: 'You are an operator, and an operator may not add, change or remove hosts.',
      importBundle: 'You are an operator, and an operator may not import bundles.',
      uninstall: 'You are an operator, and an operator may not uninstall.',
      acknowledge: null,
    });
    await expectUpgradeDenied(tab, 'operator', 'You are an operator, and an operator may not upgrade installs.');

    // The draft left at its plan: an operator goes through the steps, but Install is an admin's.
    await show(tab, '#/install');
    await expect(tab.getByTestId('wizard-title').textContent()).resolves.toMatch(/^6\. /);
    await expect(tab.getByTestId('wizard-denied').count()).resolves.toBe(0);
    await expectNote(tab, 'wizard-problem', 'You are an operator, and an operator may not install.');
    await expect(tab.getByTestId('wizard-next').isDisabled()).resolves.toBe(true);
    await shoot(tab, 'install-wizard-operator');
    // Back at its hosts (the draft is an operator's to change): probing them is an operator's, adding one an admin's.
    await tab.locator('[data-testid="wizard-step"][data-step="hosts"]').getByRole('button').click();
    await tab.getByTestId('wizard-hosts-step').waitFor();
    await expectDenied(tab.getByTestId('wizard-add-host'), 'You are an operator, and an operator may not add, change or remove hosts.');
    await expectNote(tab, 'wizard-hosts-denied', 'You are an operator, and an operator may not add, change or remove hosts.');
    await expect(tab.getByTestId('wizard-probe-start').isDisabled()).resolves.toBe(false);

    // The admin's own page: the same controls enabled, no reason shown.
    await show(page, `#/hosts/${hostId}`);
    const connection = page.getByTestId('connection-card');
    await connection.getByRole('button', { name: 'Edit', exact: true }).waitFor();
    for (const name of ['Edit', 'Check host key', 'Remove'])
      await expect(connection.getByRole('button', { name, exact: true }).isDisabled()).resolves.toBe(false);
    await expect(page.getByTestId('connection-denied').count()).resolves.toBe(0);
    await expect(page.getByTestId('probe-denied').count()).resolves.toBe(0);

    // Forced past the page: the backend refuses the admin's action and the host stays.
    const forced = await connectApiClient(url);
    try {
      await forced.call('session.signIn', { name: 'otto', password: PASSWORDS.otto });
      const refused = await forced.call('hosts.remove', { hostId: untrustedId }).catch((error: ApiError) => error);
      expect((refused as ApiError).toBody()).toEqual({
        code: 'ACCESS_DENIED',
        message: 'otto is an operator, and an operator may not add, change or remove hosts (hosts.remove).',
        remedy: 'Ask an admin to do it, or to give you a role that may.',
      });
    } finally {
      forced.close();
    }
    expect((await api.call('hosts.get', { hostId: untrustedId })).host.name).toBe('roles-b');
  }, 240_000);

  it("applies an admin's role change and disabling in the other tabs without a reload", async () => {
    const [veraTab, ottoTab] = tabs;
    await show(veraTab!, `#/hosts/${hostId}`);
    await veraTab!.getByTestId('controls-agent').getByTestId('controls-denied').waitFor();

    await show(page, '#/operators');
    await page.locator('[data-operator="vera"]').getByLabel('Role of vera').selectOption('operator');
    await waitFor(
      'vera an operator',
      async () => (await api.call('operators.list', {})).find((o) => o.name === 'vera')?.role === 'operator',
    );
    // The tab reads its session again on its own (every 15 s): the controls come on.
    await veraTab!.getByTestId('controls-agent').getByTestId('controls-denied').waitFor({ state: 'detached' });
    await expect(veraTab!.getByTestId('controls-agent').getByRole('button', { name: 'Restart', exact: true }).isDisabled()).resolves.toBe(
      false,
    );

    await page.locator('[data-operator="otto"]').getByRole('button', { name: 'Disable', exact: true }).click();
    await page.locator('[data-operator="otto"] [data-testid="operator-state"]', { hasText: 'disabled' }).waitFor();
    await ottoTab!.getByTestId('sign-in').waitFor();

    for (const tab of [page, ...tabs]) expect(await cspViolations(tab)).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);

  it("shows operators' runtime certificates with Revoke, and rotates an install's token key, on the Operators page", async () => {
    // Issued as `sutazai operators certificate issue` does (it writes the key to a file; the page never sees one).
    const issued = await api.call('operators.certificateIssue', { name: 'vera', install: 'roles' });
    await show(page, '#/operators');
    const card = page.getByTestId('runtime-credentials');
    // The card reads the list again while shown: the certificate issued elsewhere appears without a reload.
    const row = card.locator(`[data-serial="${issued.serial}"]`);
    await row.getByTestId('certificate-state').getByText('valid').waitFor();
    await shoot(page, 'operators-runtime-credentials', { fullPage: true });
    await row.getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.getByTestId('confirm-revoke-certificate').getByRole('button', { name: 'Revoke', exact: true }).click();
    await row.getByTestId('certificate-state').getByText('revoked').waitFor();
    expect((await api.call('operators.certificates', { name: 'vera' }))[0]?.revokedAt).toEqual(expect.any(Number));

    const rotate = card.getByTestId('rotate-token-key');
    await rotate.getByRole('button', { name: 'Rotate key', exact: true }).click();
    await rotate.getByRole('status').getByText('roles now signs with key').waitFor();
    expect(problems).toEqual([]);
  }, 120_000);
});

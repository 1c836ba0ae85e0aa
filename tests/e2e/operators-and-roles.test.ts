import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ApiError, type ApiClient, type FleetProcess } from '../../electron/contract';
import { collectPageProblems, cspViolations, newCspRecordingContext } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { openInstalledWebMode } from '../support/installed-web-mode';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { useTestLab } from '../support/test-hosts/use-test-lab';
import { connectApiClient } from '../support/web-mode-session';
import { makeWaitFor } from '../support/wait-for';

/**
 * Operators and roles as people meet them in web mode (issue 14 item 1, issue 12's viewer
 * role), against SutazAI installed for real on a test host: with no operator the page is
 * the one admin; the first operator (an admin) is added from the Operators page, and that
 * tab goes on as it; every other tab signs in. A viewer sees the process controls disabled
 * with the reason, and the backend refuses the call when forced; an operator restarts the
 * agent from the page (new pids on the host); an admin's role change and disabling count
 * in the other tabs without a reload.
 */

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-e2e-operators-');
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 250 });
const PASSWORDS = { ada: 'ada signs in here', vera: 'vera watches the fleet', otto: 'otto keeps it running' } as const;

let host: TestHost;
let hostId = 0;
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

async function agent(): Promise<FleetProcess> {
  return (await api.call('fleet.processes', { hostId })).processes.find((p) => p.name === 'agent')!;
}

async function aliveOnHost(pid: number): Promise<boolean> {
  return (await labRef.lab.exec(host, `kill -0 ${pid}`)).code === 0;
}

describe('operators and roles in web mode', () => {
  it('asks no one to sign in while there is no operator; the first, an admin, is added from the page, which goes on as it', async () => {
    await page.goto(`${url}#/operators`, { waitUntil: 'load' });
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
    await tab.goto(url, { waitUntil: 'load' });
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

    await show(tab, '#/operators');
    await expect(tab.getByTestId('operators-denied').textContent()).resolves.toBe(
      'You are a viewer, and a viewer may not manage operators.',
    );
    await expect(tab.getByTestId('add-operator').getByRole('button', { name: 'Add operator' }).isDisabled()).resolves.toBe(true);
    await expect(tab.locator('[data-operator="otto"]').getByRole('button', { name: 'Remove' }).isDisabled()).resolves.toBe(true);
  }, 180_000);

  it('lets an operator restart the agent from the page: new pids on the host', async () => {
    const tab = await newTab('otto');
    await tab.goto(url, { waitUntil: 'load' });
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
});

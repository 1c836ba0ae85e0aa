import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { openStore } from '../../electron/backend/store/open-store';
import type { ApiClient, FleetProcess } from '../../electron/contract';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { openInstalledWebMode } from '../support/installed-web-mode';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { useTestLab } from '../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../support/wait-for';

/**
 * An install's access policy (access_control: abac, issue 14 item 3) as an operator meets it
 * in web mode, against SutazAI installed for real (its install file says abac) on a test host labelled rack=b4: vera, an
 * operator of the vendor team limited to rack=b4, restarts the agent from the host's page
 * (new pids on the host), while Scale is disabled with the site's rule that denies it named
 * beside it. Relabelled rack=a1, the host's page is refused to her, naming her attribute.
 */

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-e2e-abac-');
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 250 });
const INSTALL = 'abac';
const PASSWORDS = { ada: 'ada signs in here', vera: 'vera works on rack b4' } as const;
const POLICY = `rules:
  - name: vendor-never-scales
    effect: deny
    actions: [scale]
    operators:
      attributes: { team: vendor }
`;

let host: TestHost;
let hostId = 0;
let page: Page;
let url = '';
let api: ApiClient;
let policyFile = '';
const problems: string[] = [];

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const installed = await openInstalledWebMode(defer, labRef.lab, {
      dir: tmp.path,
      install: INSTALL,
      bundleName: 'abac',
      hostName: 'abac-a',
      problems,
      values: { system_integration: { security: { access_control: 'abac' } } },
      prepare(dataDir) {
        const store = openStore({ dataDir });
        try {
          const hosts = createHostsRepo(store.db);
          const installed = hosts.list().find((row) => row.name === 'abac-a')!;
          hosts.update(installed.id, { labels: ['rack=b4'] }, Date.now());
        } finally {
          store.close();
        }
        policyFile = path.join(dataDir, 'policies', 'site.yaml');
        fs.mkdirSync(path.dirname(policyFile));
        fs.writeFileSync(policyFile, POLICY);
      },
    });
    ({ hostId, api } = installed);
    host = installed.host.host;
    ({ page, url } = installed.session);
    // The first operator is an admin; this client goes on as her.
    await api.call('operators.add', { name: 'ada', role: 'admin', password: PASSWORDS.ada });
    await api.call('operators.add', {
      name: 'vera',
      role: 'operator',
      password: PASSWORDS.vera,
      attributes: { team: 'vendor', hostLabels: ['rack=b4'] },
    });
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

async function agent(): Promise<FleetProcess> {
  return (await api.call('fleet.processes', { hostId })).processes.find((p) => p.name === 'agent')!;
}

async function aliveOnHost(pid: number): Promise<boolean> {
  return (await labRef.lab.exec(host, `kill -0 ${pid}`)).code === 0;
}

describe("an install's access policy on the host page", () => {
  it('lets vera restart the agent on rack=b4, with Scale disabled and the rule that denies it named', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    const form = page.getByTestId('sign-in');
    await form.getByLabel('Name').fill('vera');
    await form.getByLabel('Password').fill(PASSWORDS.vera);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('[data-testid="signed-in-as"][data-role="operator"]').waitFor();
    await page.evaluate((to) => {
      window.location.hash = to;
    }, `#/hosts/${hostId}`);

    const controls = page.getByTestId('controls-agent');
    await controls.getByTestId('controls-denied').waitFor();
    const reason = `The access policy refuses it: denied by rule "vendor-never-scales" (${policyFile}:2:5).`;
    await expect(controls.getByTestId('controls-denied').textContent()).resolves.toBe(reason);
    const scale = controls.getByRole('button', { name: 'Scale', exact: true });
    await expect(scale.isDisabled()).resolves.toBe(true);
    await expect(scale.getAttribute('title')).resolves.toBe(reason);
    await expect(controls.getByLabel('Replicas of agent').isDisabled()).resolves.toBe(true);
    await shoot(page, 'abac-scale-denied');

    const restart = controls.getByRole('button', { name: 'Restart', exact: true });
    await expect(restart.isDisabled()).resolves.toBe(false);
    const before = (await agent()).instances.map((i) => i.pid!);
    await restart.click();
    await page.getByTestId('confirm-action').getByRole('button', { name: 'Restart', exact: true }).click();
    await expect(controls.getByTestId('action-outcome').textContent()).resolves.toMatch(/^agent restarted/);
    const after = await waitFor('new agent pids', async () => {
      const pids = (await agent()).instances.map((i) => i.pid);
      return pids.every((p) => p !== null && !before.includes(p)) ? (pids as number[]) : null;
    });
    for (const pid of before) expect(await aliveOnHost(pid)).toBe(false);
    for (const pid of after) expect(await aliveOnHost(pid)).toBe(true);
  }, 240_000);

  it('refuses the host to her once it is labelled rack=a1, naming her attribute', async () => {
    await api.call('hosts.update', { hostId, changes: { labels: ['rack=a1'] } });
    await page.reload({ waitUntil: 'load' });
    const form = page.getByTestId('sign-in');
    if (await form.isVisible()) {
      await form.getByLabel('Name').fill('vera');
      await form.getByLabel('Password').fill(PASSWORDS.vera);
      await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    }
    await page
      .getByText("vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and abac-a is not", { exact: false })
      .first()
      .waitFor();
    await expect(page.getByTestId('controls-agent').count()).resolves.toBe(0);
    await shoot(page, 'abac-host-refused');
    expect(problems).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
  }, 120_000);
});

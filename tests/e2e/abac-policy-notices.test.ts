// The host page and the process page ask access.explain with the resource (issue 14, item 3):
// an operator whose install's access policy (abac) denies probing and reading logs sees the
// probe button disabled and the logs replaced by a note, each naming the deny rule, where
// before the page judged by the role alone (enabled, then refused at the backend). And a
// policy file with a typo shows a banner on every page naming file:line:column and the way
// out, as every action the policy judges is refused meanwhile (fail closed). Real backend,
// real SQLite store, real Chromium; the hosts are recorded, never reached.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { openStore } from '../../electron/backend/store/open-store';
import type { ApiClient } from '../../electron/contract';
import { seedRecordedInstalls } from '../support/recorded-installs';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';
import { gotoPage } from '../support/chromium';

const VERA = 'vera keeps rack b4 running';
const SITE_POLICY = `rules:
  - name: vendor-no-logs-or-probes
    effect: deny
    actions: [logs, probe]
    operators:
      attributes: { team: vendor }
`;

describe('policy-aware controls and the broken-policy banner', () => {
  let page: Page;
  let api: ApiClient;
  let url: string;
  let dataDir: string;
  const problems: string[] = [];
  const ids: Record<string, number> = {};

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-abac-notices-');
    defer(dir.remove);
    dataDir = dir.path;
    const store = openStore({ dataDir });
    try {
      seedRecordedInstalls(store.db, [
        {
          name: 'prod',
          config: 'system_integration:\n  security:\n    access_control: abac\n',
          hosts: [{ name: 'gpu-b4', address: '127.0.0.1', role: 'both', state: 'installed' }],
        },
      ]);
      const hosts = createHostsRepo(store.db);
      for (const host of hosts.list()) ids[host.name] = host.id;
      hosts.update(ids['gpu-b4']!, { labels: ['rack=b4'] }, 2);
    } finally {
      store.close();
    }
    fs.mkdirSync(path.join(dataDir, 'policies'));
    fs.writeFileSync(path.join(dataDir, 'policies', 'site.yaml'), SITE_POLICY);
    const session = await openWebModeSession({ dataDir, problems, uiTimeoutMs: 60_000 });
    defer(session.close);
    page = session.page;
    url = session.url;
    api = await connectApiClient(session.url);
    defer(() => api.close());
    await api.call('operators.add', { name: 'ada', role: 'admin', password: 'ada keeps the keys of the site' });
    await api.call('operators.add', {
      name: 'vera',
      role: 'operator',
      password: VERA,
      attributes: { team: 'vendor', hostLabels: ['rack=b4'] },
    });
    await gotoPage(page, url);
    const form = page.getByTestId('sign-in');
    await form.getByLabel('Name').fill('vera');
    await form.getByLabel('Password').fill(VERA);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('[data-testid="signed-in-as"][data-role="operator"]').waitFor();
  });

  it("disables the host page's probe and the process page's logs, naming the deny rule", async () => {
    const site = path.join(dataDir, 'policies', 'site.yaml');
    await page.evaluate((hash) => (window.location.hash = hash), `#/hosts/${ids['gpu-b4']}`);
    const probe = page.getByRole('button', { name: 'Probe again' });
    await expect.poll(() => probe.isDisabled(), { timeout: 60_000 }).toBe(true);
    expect(await probe.getAttribute('title')).toContain(`denied by rule "vendor-no-logs-or-probes" (${site}:2:5)`);
    fs.mkdirSync(path.join('artifacts', 'e2e'), { recursive: true });
    await page.screenshot({ path: path.join('artifacts', 'e2e', 'abac-host-page-probe-denied.png'), fullPage: true });

    await page.evaluate((hash) => (window.location.hash = hash), `#/fleet/hosts/${ids['gpu-b4']}/processes/agent`);
    const note = page.getByTestId('logs-denied');
    await note.waitFor();
    expect(await note.textContent()).toBe(`The access policy refuses it: denied by rule "vendor-no-logs-or-probes" (${site}:2:5).`);
    expect(await page.getByTestId('log-view').count()).toBe(0);
    await page.screenshot({ path: path.join('artifacts', 'e2e', 'abac-process-logs-denied.png'), fullPage: true });
  });

  it('shows a banner naming file:line:column while a policy file does not load, and drops it once fixed', async () => {
    const broken = path.join(dataDir, 'policies', 'typo.yaml');
    fs.writeFileSync(broken, 'rules:\n  - name: night-shift\n    effect: allow\n    hurs: 22:00-06:00\n');
    // No reload (a tab's sign-in is its own socket's): the window reads the policy again within its refresh.
    const banner = page.getByTestId('policy-invalid');
    await banner.waitFor({ timeout: 60_000 });
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain('The access policy does not load, so every action it judges is refused.');
    expect(text).toContain(`${broken}:4:5`);
    expect(text).toContain('sutazai policy');
    await page.screenshot({ path: path.join('artifacts', 'e2e', 'abac-policy-invalid-banner.png'), fullPage: true });
    fs.rmSync(broken);
    await expect.poll(() => banner.count(), { timeout: 60_000 }).toBe(0);
    expect(problems).toEqual([]);
  });
});

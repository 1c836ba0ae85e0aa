// `npm run screenshots`: retakes the README's screenshots (docs/screenshot-*.png) in Debian's
// Chromium against `npm run web`, on a state an operator would have after a first day: three
// SSH machines added with their keys pinned and probed, a preflight across them, a signed
// bundle imported and installed on the core machine, its runtime asked for its health.
// The machines are the test lab's (OpenSSH in network namespaces on 198.18.0.0/15), so it
// needs root, like the integration tests; everything it starts is stopped and removed at
// the end, also when a step fails. Rerun it whenever the pages change.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { makeBundleKit } from '../tests/support/bundle-kit';
import { launchChromium, newCspRecordingContext } from '../tests/support/chromium';
import { addLabHostOverApi, buildRealNodeBundle, stopInstalledRuntime } from '../tests/support/install-lab';
import { labInstallDefinition } from '../tests/support/lab-install-definition';
import { createTestLab } from '../tests/support/test-hosts/test-hosts';
import { makeWaitFor } from '../tests/support/wait-for';
import { startWebModeServer, stopWebModeServer, waitForUrl } from '../tests/support/web-mode-server';
import { provideDirname } from '../tests/support/tsx-dirname';
import { connectApiClient } from '../tests/support/web-mode-session';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs');
const PASSPHRASE = 'screenshots vault passphrase';
const INSTALL = 'lab';
/** The live chart plots one point a second; this many make a line worth showing. */
const CHART_POINTS = 45;

const undo: Array<() => Promise<unknown>> = [];
const waitFor = makeWaitFor({ timeoutMs: 300_000, pollMs: 500 });

async function shoot(page: Page, file: string): Promise<void> {
  await page.evaluate(() => window.scrollTo({ top: 0 }));
  await page.screenshot({ path: path.join(DOCS, file) });
  console.log(`wrote docs/${file}`);
}

async function main(): Promise<void> {
  provideDirname();
  if (process.getuid?.() !== 0) throw new Error('The test machines need root (network namespaces): run it as root.');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sutazai-screenshots-'));
  undo.push(() => rm(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'data');

  console.log('starting three SSH machines and building a signed bundle…');
  const lab = await createTestLab();
  undo.push(() => lab.destroy());
  const [kit, hosts] = await Promise.all([makeBundleKit(), lab.addSshHosts(3)]);
  undo.push(async () => kit.remove());
  const bundle = await buildRealNodeBundle(kit, 'sutazai-screenshots', '1.2.0');
  const [core, gpu, edge] = hosts as [(typeof hosts)[number], (typeof hosts)[number], (typeof hosts)[number]];
  const base = path.join(dir, 'core-1');
  undo.push(() => stopInstalledRuntime(lab, core, path.join(base, 'opt')));

  const server = startWebModeServer(dataDir, { SUTAZAI_PASSPHRASE: PASSPHRASE });
  undo.push(() => stopWebModeServer(server));
  const url = await waitForUrl(server);
  const api = await connectApiClient(url);
  undo.push(async () => api.close());

  console.log('adding, probing and checking the machines, installing on core-1…');
  const ids = [
    await addLabHostOverApi(api, core, 'core-1'),
    await addLabHostOverApi(api, gpu, 'gpu-agent-1'),
    await addLabHostOverApi(api, edge, 'edge-agent-2'),
  ];
  await api.call('preflight.run', { hostIds: ids, profile: 'agent' });
  await api.call('bundles.import', { path: bundle.file, trustKey: kit.key.fingerprint });
  const { jobId } = await api.call('installs.start', {
    install: labInstallDefinition({ name: INSTALL, bundle, hostName: 'core-1', base }),
  });
  const ended = await waitFor('the install', async () => {
    const status = await api.call('installs.status', { jobId });
    return status.state === 'running' ? null : status;
  });
  if (ended.state !== 'succeeded') throw new Error(`the install ended ${ended.state}: ${JSON.stringify(ended.error)}`);

  const browser = await launchChromium();
  undo.push(() => browser.close());
  const context = await newCspRecordingContext(browser);
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(url, { waitUntil: 'load' });

  // The local machine's page, once its live chart has a line.
  await page.getByRole('link', { name: 'Hosts', exact: true }).click();
  await page.locator('[data-testid="host-row"][data-host-name="local"] a').first().click();
  await waitFor(
    'the live chart',
    async () => Number(await page.getByTestId('live-chart').getAttribute('data-point-count')) >= CHART_POINTS,
  );
  await shoot(page, 'screenshot-host.png');

  // The hosts list with the machines chosen for a preflight.
  await page.getByRole('link', { name: 'Hosts', exact: true }).click();
  for (const name of ['core-1', 'gpu-agent-1', 'edge-agent-2']) {
    await page.locator(`[data-testid="host-row"][data-host-name="${name}"]`).getByTestId('host-select').check();
  }
  await shoot(page, 'screenshot-hosts.png');

  // The install's page, its runtime asked for its health.
  await page.evaluate((name) => (window.location.hash = `#/installs/${name}`), INSTALL);
  await page.getByTestId('install-health-check').click();
  await page.locator('[data-testid="install-health-state"][data-healthy="true"]').waitFor({ state: 'visible', timeout: 120_000 });
  await shoot(page, 'screenshot-install.png');
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  for (let step = undo.pop(); step; step = undo.pop()) await step().catch((error: unknown) => console.error('cleanup:', error));
}
process.exit(failed ? 1 : 0);

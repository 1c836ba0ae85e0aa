import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient, FleetProcess } from '../../electron/contract';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { openInstalledWebMode } from '../support/installed-web-mode';
import type { HostTree } from '../support/release-lab';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import type { TestHost } from '../support/test-hosts/test-hosts';
import { useTestLab } from '../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../support/wait-for';

/**
 * The host's runtime section and the process page as a newcomer meets them: SutazAI
 * installed for real on a test host (the runtime, its core and agents), then `npm run web`
 * on that data directory with the vault unlocked, so its link to the host comes up, and
 * Debian's Chromium on it. The controls act on the host's real processes (checked there by
 * pid), a line written on the host reaches the followed logs, and a chart's point opens the
 * logs at its time.
 */

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-e2e-fleet-host-');
const INSTALL = 'hostpage';
const HOST_NAME = 'page-a';
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 250 });

let host: TestHost;
let tree: HostTree;
let hostId = 0;
let page: Page;
let url = '';
let api: ApiClient;
const problems: string[] = [];

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const installed = await openInstalledWebMode(defer, labRef.lab, {
      dir: tmp.path,
      install: INSTALL,
      bundleName: 'hostpage',
      hostName: HOST_NAME,
      problems,
    });
    ({ host, tree } = installed.host);
    ({ hostId, api } = installed);
    ({ page, url } = installed.session);
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

/** Whether a pid is a live process on the host. */
async function aliveOnHost(pid: number): Promise<boolean> {
  return (await labRef.lab.exec(host, `kill -0 ${pid}`)).code === 0;
}

async function processOf(name: string): Promise<FleetProcess> {
  const table = await api.call('fleet.processes', { hostId });
  const found = table.processes.find((p) => p.name === name);
  if (!found) throw new Error(`no process ${name} in ${table.processes.map((p) => p.name).join(', ')}`);
  return found;
}

/** The pids the page's table shows for a process's instances. */
function shownPids(name: string): Promise<string[]> {
  return page
    .locator(`[data-testid="process"][data-process="${name}"] [data-testid="instance-pid"]`)
    .evaluateAll((cells) => cells.map((c) => c.textContent ?? ''));
}

describe("an installed host's page and a process's page, end to end", () => {
  it('shows the link online and the live process table, and the controls act on the host', async () => {
    await gotoPage(page, `${url}#/hosts/${hostId}`, { waitUntil: 'load' });
    await page.locator('[data-testid="host-link"][data-link-state="online"]').waitFor();
    await page.locator('[data-testid="process"][data-process="agent"] [data-testid="instance"]').first().waitFor();
    const agent = await processOf('agent');
    const before = agent.instances.map((i) => i.pid!);
    expect(before.length).toBeGreaterThan(0);
    for (const pid of before) expect(await aliveOnHost(pid)).toBe(true);
    await waitFor('the table showing the runtime’s pids', async () => (await shownPids('agent')).join() === before.join());
    await shoot(page, 'fleet-host-runtime');

    const controls = page.getByTestId('controls-agent');
    // Restart: confirmed first; the outcome said; new pids in the table and on the host, the old ones gone.
    await controls.getByRole('button', { name: 'Restart', exact: true }).click();
    const confirm = page.getByTestId('confirm-action');
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Restart', exact: true }).click();
    await expect(controls.getByTestId('action-outcome').textContent()).resolves.toMatch(/^agent restarted/);
    const restarted = await waitFor('new agent pids', async () => {
      const pids = (await processOf('agent')).instances.map((i) => i.pid);
      return pids.every((p) => p !== null && !before.includes(p)) ? (pids as number[]) : null;
    });
    for (const pid of before) expect(await aliveOnHost(pid)).toBe(false);
    for (const pid of restarted) expect(await aliveOnHost(pid)).toBe(true);
    await waitFor('the table showing the new pids', async () => (await shownPids('agent')).join() === restarted.join());

    // Stop, confirmed: every instance stopped in the page, its process gone from the host.
    await controls.getByRole('button', { name: 'Stop', exact: true }).click();
    await confirm.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitFor('agent stopped in the page', async () => {
      const states = await page
        .locator('[data-testid="process"][data-process="agent"] [data-testid="instance"]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
      return states.length > 0 && states.every((s) => s === 'stopped');
    });
    for (const pid of restarted) expect(await aliveOnHost(pid)).toBe(false);

    // Start: not destructive, so no confirmation; running again with live pids on the host.
    await controls.getByRole('button', { name: 'Start', exact: true }).click();
    const started = await waitFor('agent running again', async () => {
      const instances = (await processOf('agent')).instances;
      return instances.every((i) => i.state === 'running' && i.pid !== null) ? instances.map((i) => i.pid!) : null;
    });
    for (const pid of started) expect(await aliveOnHost(pid)).toBe(true);
    await waitFor('the table showing agent running', async () => (await shownPids('agent')).join() === started.join());

    // Scale up (no confirmation), then back down (confirmed): the table and the runtime agree.
    const replicas = (await processOf('agent')).replicas;
    await controls.getByRole('spinbutton').fill(String(replicas + 1));
    await controls.getByRole('button', { name: 'Scale', exact: true }).click();
    await page.locator(`[data-testid="process"][data-process="agent"][data-replicas="${replicas + 1}"]`).waitFor();
    const scaled = await waitFor('one more agent running', async () => {
      const instances = (await processOf('agent')).instances;
      return instances.length === replicas + 1 && instances.every((i) => i.pid !== null) ? instances.map((i) => i.pid!) : null;
    });
    for (const pid of scaled) expect(await aliveOnHost(pid)).toBe(true);
    await controls.getByRole('spinbutton').fill(String(replicas));
    await controls.getByRole('button', { name: 'Scale', exact: true }).click();
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Scale', exact: true }).click();
    await page.locator(`[data-testid="process"][data-process="agent"][data-replicas="${replicas}"]`).waitFor();
    expect((await processOf('agent')).instances).toHaveLength(replicas);

    // A scale out of bounds is refused in the page before any call.
    await controls.getByRole('spinbutton').fill('10000');
    await expect(controls.getByRole('button', { name: 'Scale', exact: true }).isDisabled()).resolves.toBe(true);
  }, 300_000);

  it('draws the host’s live charts from the samples its runtime pushes over the link, from the runtime’s own series', async () => {
    await gotoPage(page, `${url}#/hosts/${hostId}`, { waitUntil: 'load' });
    const live = page.locator('[data-testid="live-chart"]');
    await live.waitFor();
    // metrics.live's samples reach the chart (the live range follows the push, it does not re-read the store).
    const firstDrawn = await waitFor('a pushed sample drawn', async () =>
      Number(await live.getAttribute('data-live-sample-count')) > 0 ? Number(await live.getAttribute('data-newest-point-ms')) : null,
    );
    await waitFor('a newer pushed sample drawn', async () => Number(await live.getAttribute('data-newest-point-ms')) > firstDrawn);
    // Per-core and filesystem panels from the series the runtime sent, as the store lists them (not the probe's facts).
    const keys = await api.call('metrics.seriesKeys', { hostId, families: ['cpu.core_percent', 'filesystem.used_percent'] });
    const [cores, mounts] = keys.families.map((f) => f.keys);
    expect(cores!.length).toBeGreaterThan(0);
    // A panel is drawn while it is in view (an operator's look), so each is scrolled to first.
    const corePanel = live.locator('[data-metric-panel="cpu-cores"]');
    await corePanel.scrollIntoViewIfNeeded();
    await waitFor('per-core points', async () => Number(await corePanel.getAttribute('data-point-count')) > 0);
    if (mounts!.length > 0) {
      await live.locator('[data-metric-panel="filesystems"]').scrollIntoViewIfNeeded();
      await live.locator('[data-metric-panel="filesystems"] .recharts-surface').waitFor();
    }
    await shoot(page, 'fleet-host-live-charts');
  });

  it('follows an instance’s logs: a line written on the host appears; a chart’s point opens the logs at its time', async () => {
    const agent = await processOf('agent');
    const instance = agent.instances[0]!;
    await gotoPage(page, `${url}#/hosts/${hostId}`, { waitUntil: 'load' });
    await page
      .locator(`[data-testid="process"][data-process="agent"] [data-instance="${instance.instance}"] [data-testid="instance-name"] a`)
      .click();
    await page.waitForURL(new RegExp(`#/fleet/hosts/${hostId}/processes/agent\\?instance=${instance.instance}$`));
    await page.locator('[data-testid="log-view"][data-mode="follow"]').waitFor();
    await page.locator('[data-testid="log-following"][data-paused="false"]').waitFor();

    // Written on the host into the instance's log, as the runtime's stamper writes it, with an
    // escape sequence and markup that must stay text. Written until the follow shows it: the
    // runtime's tail opens in its own time after the subscription.
    const logFile = path.join(tree.logDir, `${instance.instance}.log`);
    const stamped = (text: string) => `${new Date().toISOString()} out ${text}\n`;
    const mark = `page-mark-${Date.now()}`;
    const line = page.getByTestId('log-line').filter({ hasText: mark }).first();
    await waitFor('the written line in the followed logs', async () => {
      fs.appendFileSync(logFile, stamped(`${mark} \u001b]0;title\u0007 <b>x</b>`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      return (await line.count()) > 0;
    });
    await expect(line.locator('.log-text').textContent()).resolves.toBe(`${mark} \\x1b]0;title\\x07 <b>x</b>`);
    expect(await page.locator('.log-text b').count()).toBe(0);

    // Paused: a new line is held, not shown, until resumed.
    await page.getByTestId('log-pause').click();
    const held = `page-held-${Date.now()}`;
    fs.appendFileSync(logFile, stamped(held));
    await page.getByRole('button', { name: /Resume \(\d+ new lines?\)/ }).waitFor();
    expect(await page.getByTestId('log-line').filter({ hasText: held }).count()).toBe(0);
    await page.getByTestId('log-resume').click();
    await page.getByTestId('log-line').filter({ hasText: held }).waitFor();

    // Search: an invalid regular expression is explained with its remedy.
    await page.getByTestId('log-search').fill('(unclosed');
    await page.getByTestId('log-regex').check();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not follow the logs' }).waitFor();
    await page.getByRole('button', { name: 'Clear', exact: true }).click();

    // A point of the CPU chart: the logs at its time.
    const cpu = page.locator('[data-metric-panel="cpu"]');
    await cpu.scrollIntoViewIfNeeded();
    await waitFor('CPU points of the instance', async () => Number(await cpu.getAttribute('data-point-count')) >= 2);
    const box = (await cpu.locator('.recharts-surface').boundingBox())!;
    await cpu.locator('.recharts-surface').hover({ position: { x: box.width * 0.8, y: box.height / 2 } });
    await cpu.locator('.recharts-surface').click({ position: { x: box.width * 0.8, y: box.height / 2 } });
    await page.waitForURL(/[?&]at=\d+/);
    const atMs = Number(new URL(page.url().replace('#/', '')).searchParams.get('at'));
    await page.locator('[data-testid="log-view"][data-mode="at"]').waitFor();
    await expect(page.getByTestId('log-at').getAttribute('data-at-ms')).resolves.toBe(String(atMs));
    const focused = page.locator('[data-testid="log-line"][data-focus="true"]');
    if ((await focused.count()) > 0) expect(Number(await focused.getAttribute('data-at-ms'))).toBeGreaterThanOrEqual(atMs);
    // Every line shown is from a minute before that time on, in order.
    const times = await page.getByTestId('log-line').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-at-ms'))));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every((t) => t >= atMs - 60_000)).toBe(true);

    // The process's events: the operator actions of the first test, with who did them.
    await page.locator('[data-testid="process-event"][data-kind^="action."]').first().waitFor();
    await shoot(page, 'fleet-process');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);
});

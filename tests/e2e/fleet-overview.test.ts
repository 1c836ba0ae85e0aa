import os from 'node:os';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../electron/backend/store/open-store';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { formatBytes } from '../../renderer/src/format/bytes';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { seedRecordedInstalls } from '../support/recorded-installs';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { makeWaitFor } from '../support/wait-for';
import { openWebModeSession } from '../support/web-mode-session';

/**
 * The Fleet overview as a newcomer meets it: Debian's Chromium against `npm run web`, with
 * 50 hosts in three recorded installs (written into the store as an apply records them;
 * the install tests install for real). One of them is this machine, whose 1 Hz sampler
 * gives it real CPU and memory history; the others have none yet. The page must show
 * every host on one readable screen, put the busiest and the failed first on request,
 * filter, and link to each host.
 */

const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 250 });

/** The hosts' names in the order the table shows them. */
function shownHosts(page: Page): Promise<string[]> {
  return page.getByTestId('fleet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-host-name') ?? ''));
}

describe('the Fleet overview, end to end', () => {
  let page: Page;
  let url = '';
  let localId = 0;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-fleet-');
    defer(dir.remove);
    const store = openStore({ dataDir: dir.path });
    try {
      localId = createHostsRepo(store.db).ensureLocal(1).id;
      const ssh = (prefix: string, count: number, from: number, failed = 0) =>
        Array.from({ length: count }, (_, i) => ({
          name: `${prefix}-${String(i + 1).padStart(2, '0')}`,
          // TEST-NET-2: never reached (nothing here opens a link to them).
          address: `198.51.100.${from + i}`,
          role: i === 0 ? ('core' as const) : ('agent' as const),
          state: i < failed ? ('failed' as const) : ('installed' as const),
        }));
      seedRecordedInstalls(store.db, [
        { name: 'prod', hosts: [{ hostId: localId, role: 'core', state: 'installed' }, ...ssh('prod', 29, 1).slice(1)] },
        { name: 'staging', hosts: ssh('staging', 15, 40) },
        { name: 'lab', hosts: [...ssh('lab', 6, 60, 2)] },
      ]);
    } finally {
      store.close();
    }
    const session = await openWebModeSession({ dataDir: dir.path, problems });
    defer(session.close);
    ({ page, url } = session);
  });

  it('shows every host of every install on one screen, with this machine’s CPU and memory now and over 15 minutes', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Fleet', exact: true }).click();
    await page.waitForURL(/#\/fleet$/);
    await page.getByTestId('fleet-row').first().waitFor({ state: 'visible' });
    expect(await page.getByTestId('fleet-row').count()).toBe(50);
    // Each host's link, as fleet.links says: this data directory's vault is locked, so every
    // link is offline, and says why and what to do (the whole remedy on hover).
    const linkStates = () => page.getByTestId('fleet-link').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-link-state')));
    await waitFor(
      'every link reported',
      async () => (await linkStates()).length === 50 && (await linkStates()).every((s) => s === 'offline'),
    );
    await expect(page.getByTestId('fleet-count').textContent()).resolves.toBe('50 hosts in 3 installs: 50 offline, 2 whose install failed');

    // This machine: the sampler's history reaches the page (re-read every 10 s), figures beside it.
    const local = page.locator(`[data-testid="fleet-row"][data-host-name="local"]`);
    await waitFor(
      'this machine’s CPU history',
      async () => Number(await local.getByTestId('fleet-cpu-sparkline').getAttribute('data-points')) >= 2,
    );
    const cpu = Number(await local.getByTestId('fleet-cpu').getAttribute('data-value'));
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(100);
    await waitFor('this machine’s memory share', async () => (await local.getByTestId('fleet-memory').getAttribute('data-value')) !== '');
    const memory = Number(await local.getByTestId('fleet-memory').getAttribute('data-value'));
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThanOrEqual(100);
    await expect(local.getByTestId('fleet-memory').locator('.fleet-usage').getAttribute('title')).resolves.toBe(
      `of ${formatBytes(os.totalmem())}`,
    );
    // This machine's sampler records its real filesystems (the fullest one's share shows); it
    // has no GPU: no GPU column; no alert fires.
    await waitFor('this machine’s disk share', async () => (await local.getByTestId('fleet-disk').getAttribute('data-value')) !== '');
    const disk = Number(await local.getByTestId('fleet-disk').getAttribute('data-value'));
    expect(disk).toBeGreaterThanOrEqual(0);
    expect(disk).toBeLessThanOrEqual(100);
    await expect(local.getByTestId('fleet-disk').textContent()).resolves.toMatch(/^\d{1,3}%/);
    expect(await page.getByTestId('fleet-gpu').count()).toBe(0);
    await expect(local.getByTestId('fleet-alerts').textContent()).resolves.toBe('none');
    expect(await page.getByTestId('fleet-firing').count()).toBe(0);
    await expect(local.getByTestId('fleet-link-reason').textContent()).resolves.toContain('the sealed secrets are locked');
    // Said once above the table, with the way to open the vault right there.
    const locked = page.getByTestId('fleet-links-locked');
    await expect(locked.textContent()).resolves.toContain('50 links wait for the sealed secrets to be unlocked');
    await locked.getByTestId('vault-unlock-open').waitFor({ state: 'visible' });
    await expect(local.getByTestId('fleet-last-seen').textContent()).resolves.toBe('never seen');
    await expect(local.locator('.fleet-link-reason').getAttribute('title')).resolves.toContain('nlock');

    // A host with no history says so instead of a zero.
    const silent = page.locator(`[data-testid="fleet-row"][data-host-name="staging-03"]`);
    await expect(silent.getByTestId('fleet-cpu').textContent()).resolves.toBe('—');
    await expect(silent.getByTestId('fleet-cpu-sparkline').getAttribute('data-points')).resolves.toBe('0');
    // A host whose link is down is not asked for its processes: its link says why.
    const processCells = await page.getByTestId('fleet-processes').evaluateAll((cells) => cells.map((c) => c.textContent));
    expect([processCells.length, new Set(processCells)]).toEqual([50, new Set(['—'])]);
    // With links, "seen" takes the place of the newest sample's age.
    expect(await page.getByTestId('fleet-last-sample').count()).toBe(0);
    await shoot(page, 'fleet-overview', { fullPage: true });
  });

  it('stays readable at 50 hosts: one line per host, nothing wider than the window', async () => {
    const heights = await page.getByTestId('fleet-row').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThanOrEqual(56);
    expect(Math.max(...heights) - Math.min(...heights)).toBeLessThanOrEqual(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('orders by CPU (hosts with figures first), by problems (failed first), and filters by any word', async () => {
    const failed = page.locator(`[data-testid="fleet-row"][data-host-name="lab-01"]`);
    await expect(failed.getByTestId('fleet-install-state').textContent()).resolves.toBe('install failed');
    await page.getByTestId('fleet-sort').selectOption('cpu');
    await waitFor('this machine first', async () => (await shownHosts(page))[0] === 'local');

    // Offline first: every link is down here, so the order is by name within it.
    await page.getByTestId('fleet-sort').selectOption('link');
    await waitFor('offline first', async () => (await shownHosts(page)).slice(0, 2).join(' ') === 'lab-01 lab-02');
    await page.getByTestId('fleet-filter').fill('offline prod');
    await waitFor('the offline hosts of prod', async () => (await shownHosts(page)).length === 29);
    await page.getByTestId('fleet-filter').fill('');

    await page.getByTestId('fleet-sort').selectOption('state');
    await waitFor('the failed first', async () => (await shownHosts(page)).slice(0, 2).join(' ') === 'lab-01 lab-02');
    const states = await page.getByTestId('fleet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
    expect(states.slice(0, 2)).toEqual(['failed', 'failed']);
    expect(new Set(states.slice(2))).toEqual(new Set(['installed']));

    await page.getByTestId('fleet-filter').fill('staging agent');
    await waitFor('the staging agents', async () => (await shownHosts(page)).length === 14);
    expect((await shownHosts(page)).every((h) => h.startsWith('staging-'))).toBe(true);
    await expect(page.getByTestId('fleet-count').textContent()).resolves.toBe(
      '50 hosts in 3 installs: 50 offline, 2 whose install failed · 14 shown',
    );

    // The filter and order survive a reload of the window.
    await page.reload({ waitUntil: 'load' });
    await page.getByTestId('fleet-row').first().waitFor({ state: 'visible' });
    expect((await shownHosts(page)).length).toBe(14);
    await expect(page.getByTestId('fleet-sort').inputValue()).resolves.toBe('state');

    await page.getByTestId('fleet-filter').fill('no-such-host');
    await page.getByRole('button', { name: 'Clear the filter' }).click();
    await waitFor('every host again', async () => (await shownHosts(page)).length === 50);
  });

  it('links each row to its host and its install', async () => {
    const local = page.locator(`[data-testid="fleet-row"][data-host-name="local"]`);
    await local.getByRole('link', { name: 'prod' }).click();
    await page.waitForURL(/#\/installs\/prod$/);
    await page.goBack();
    await page.locator(`[data-testid="fleet-row"][data-host-name="local"]`).getByRole('link', { name: 'local', exact: true }).click();
    await page.waitForURL(new RegExp(`#/hosts/${localId}$`));
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

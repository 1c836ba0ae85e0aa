import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../renderer/src/format/bytes';
import { apiSocketProtocols } from '../../electron/contract';
import { collectPageProblems, cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { STOP_GRACE_MS, stopWebModeServer, type WebModeServer } from '../support/web-mode-server';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';
import { startLocalNeighbour, type LocalNeighbour } from '../support/web-mode-neighbour';
import { WsPeer } from '../support/ws-peer';

/**
 * The renderer in Debian's Chromium against the real web-mode server (`npm run web`)
 * on a fresh data directory: what an operator sees first, end to end.
 */

const UI_TIMEOUT_MS = 20_000;

async function pointCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('live-chart').getAttribute('data-point-count'));
}

/** Polls until the chart plots at least `min` points, or the bound passes; returns the last count. */
async function waitForPoints(page: Page, min: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = await pointCount(page);
  while (count < min && Date.now() < deadline) {
    await sleep(100);
    count = await pointCount(page);
  }
  return count;
}

describe('web mode, end to end', () => {
  let server: WebModeServer;
  let context: BrowserContext;
  let page: Page;
  let url = '';
  let origin = '';
  let token = '';
  let neighbour: LocalNeighbour;
  const problems: string[] = [];
  const foreignRequests: string[] = [];

  setUpSuite(async (defer) => {
    const dataDir = makeTempDir('sutazai-e2e-');
    defer(dataDir.remove);
    const session = await openWebModeSession({ dataDir: dataDir.path, problems, uiTimeoutMs: UI_TIMEOUT_MS });
    defer(session.close);
    ({ server, context, page, url } = session);
    origin = new URL(url).origin;
    token = new URL(url).searchParams.get('token') ?? '';
    neighbour = await startLocalNeighbour();
    defer(neighbour.close);

    page.on('request', (request) => {
      const requestUrl = request.url();
      if (requestUrl.startsWith('data:')) return;
      const requestOrigin = new URL(requestUrl).origin.replace(/^ws/, 'http');
      if (requestOrigin !== origin) foreignRequests.push(requestUrl);
    });
  });

  it('serves the page without the token (it holds no secret) and sets no cookie, but opens no API socket without it', async () => {
    const response = await fetch(`${origin}/`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).not.toContain(token);
    await expect(WsPeer.open(`ws://${new URL(url).host}/api`)).rejects.toMatchObject({ status: 401 });
  });

  it('lists the local machine on the hosts page', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    const row = page.locator('[data-testid="host-row"][data-host-name="local"]');
    await row.waitFor({ state: 'visible' });
    await expect(page.locator('h1', { hasText: 'Hosts' }).count()).resolves.toBe(1);
    await shoot(page, 'hosts-page');
  });

  it('takes the token out of the address bar and keeps it in no cookie', async () => {
    expect(page.url().startsWith(`${origin}/`)).toBe(true);
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate(() => location.href)).not.toContain('token');
    expect(await context.cookies()).toEqual([]);
  });

  it('hands nothing of the session to another program on 127.0.0.1, even through a click on an outside link', async () => {
    const opened = context.waitForEvent('page');
    await page.evaluate((href) => {
      const link = document.createElement('a');
      link.href = href;
      link.target = '_blank';
      link.textContent = 'an outside link';
      document.body.append(link);
      link.click();
      link.remove();
    }, `${neighbour.origin}/followed-link`);
    const outside = await opened;
    await outside.waitForLoadState('load');
    await gotoPage(outside, `${neighbour.origin}/typed-address`, { waitUntil: 'load' });
    // What the neighbour's own page can see of the session, and whether it can use the API.
    const visible = await outside.evaluate(
      () => `${document.cookie} ${JSON.stringify({ ...sessionStorage })} ${JSON.stringify({ ...localStorage })}`,
    );
    expect(visible).not.toContain(token);
    const socket = await outside.evaluate(
      (apiUrl) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(apiUrl);
          ws.onopen = () => resolve('opened');
          ws.onclose = (event) => resolve(`closed ${event.code}`);
        }),
      `ws://${new URL(url).host}/api`,
    );
    expect(socket).not.toBe('opened');
    await outside.close();

    const paths = neighbour.requests.map((request) => request.split('\n', 1)[0]);
    expect(paths).toEqual(expect.arrayContaining(['GET /followed-link', 'GET /typed-address']));
    for (const request of neighbour.requests) {
      expect(request).not.toContain(token);
      expect(request).not.toMatch(/^cookie:/im);
      // No referrer (or any other header) names the web-mode page: Referrer-Policy is no-referrer.
      expect(request).not.toContain(new URL(url).host);
    }
  });

  it('shows a new tab without the token how to get in, and a tab with a refused token that it was refused', async () => {
    const bare = await context.newPage();
    await gotoPage(bare, `${origin}/`, { waitUntil: 'load' });
    const card = bare.getByTestId('access-needed');
    await card.waitFor({ state: 'visible' });
    await expect(card.textContent()).resolves.toContain('no access token');
    await expect(card.textContent()).resolves.toContain('npm run web');
    await shoot(bare, 'web-mode-access-needed');

    await gotoPage(bare, `${origin}/?token=${'x'.repeat(token.length)}`, { waitUntil: 'load' });
    await bare.getByTestId('access-needed').getByText('refused this tab’s access token').waitFor({ state: 'visible' });
    expect(bare.url()).not.toContain('token');
    // Forgotten: a reload does not offer the refused token again.
    await bare.reload({ waitUntil: 'load' });
    await bare.getByTestId('access-needed').getByText('no access token').waitFor({ state: 'visible' });
    await bare.close();
  });

  it('opens the host page with the facts of this machine', async () => {
    await page.locator('[data-testid="host-row"][data-host-name="local"]').click();
    await page.waitForURL(/#\/hosts\/\d+$/);

    const threads = page.getByTestId('cpu-threads');
    await threads.waitFor({ state: 'visible' });
    expect((await threads.textContent())?.trim()).toBe(String(os.cpus().length));

    const memory = page.getByTestId('memory-total');
    const bytes = Number(await memory.getAttribute('data-bytes'));
    expect(Math.abs(bytes - os.totalmem()) / os.totalmem()).toBeLessThanOrEqual(0.01);
    expect((await memory.textContent())?.trim()).toBe(formatBytes(bytes));
  });

  let countBeforeReload = 0;

  it('follows live metrics: the chart gains points every second', async () => {
    const chart = page.getByTestId('live-chart');
    await chart.waitFor({ state: 'visible' });
    const first = await waitForPoints(page, 1, 60_000);
    expect(first, 'no metric point arrived within 60 s').toBeGreaterThan(0);
    // Following live: new points keep arriving (bounded generously: a busy machine is slow).
    const later = await waitForPoints(page, first + 2, 60_000);
    expect(later - first, `points went from ${first} to ${later} in 60 s`).toBeGreaterThanOrEqual(2);
    countBeforeReload = later;
    await shoot(page, 'host-page');
    await shoot(page, 'host-page-full', { fullPage: true });
  });

  it('draws this machine’s whole vocabulary, and one crosshair across its charts: the time under the pointer in one shows in every other', async () => {
    const chart = page.getByTestId('live-chart');
    // The charts at the top of the window, as an operator looks at them: a page draws only the panels in view.
    await chart.evaluate((element) => element.scrollIntoView({ block: 'start' }));
    // The app's own sampler sends what a runtime sends: each core and each filesystem too.
    for (const id of ['cpu', 'cpu-cores', 'memory', 'load', 'network'])
      await page.waitForFunction(
        (panel) =>
          Number(document.querySelector(`[data-testid="live-chart"] [data-metric-panel="${panel}"]`)?.getAttribute('data-point-count')) >=
          2,
        id,
        { timeout: 60_000 },
      );
    const drawn = chart.locator('[data-metric-panel]:has(.recharts-surface)');
    const panelCount = await drawn.count();
    expect(panelCount).toBeGreaterThanOrEqual(5);

    const cpu = chart.locator('[data-metric-panel="cpu"] .recharts-surface');
    const box = (await cpu.boundingBox())!;
    await cpu.hover({ position: { x: box.width * 0.6, y: box.height / 2 } });
    // A new sample a second moves the rows under the pointer, so the panels are read at one
    // instant, and again until they agree: a crosshair that is not shared never does.
    const snapshot = await page.waitForFunction(
      (count) => {
        const panels = Array.from(document.querySelectorAll('[data-testid="live-chart"] [data-metric-panel]')).filter((p) =>
          p.querySelector('.recharts-surface'),
        );
        const times = panels.map((p) => p.querySelector('[data-testid="chart-tooltip"]')?.getAttribute('data-at-ms') ?? null);
        const cursorXs = panels.map((p) => {
          const cursor = p.querySelector('.recharts-tooltip-cursor');
          const svg = p.querySelector('svg.recharts-surface');
          return cursor && svg ? Math.round(cursor.getBoundingClientRect().left - svg.getBoundingClientRect().left) : null;
        });
        const agreed = panels.length >= count && times.every((t) => t !== null && t === times[0]);
        return agreed ? { panels: panels.length, times, cursorXs } : null;
      },
      panelCount,
      { timeout: 20_000, polling: 100 },
    );
    const { times, cursorXs } = (await snapshot.jsonValue())!;
    // One crosshair box per drawn panel, every one at the same time.
    expect(times).toHaveLength(panelCount);
    expect(new Set(times).size).toBe(1);
    // And each panel's cursor line stands at the same place across its plot (their plots are as wide).
    expect(cursorXs.every((x) => x !== null)).toBe(true);
    expect(Math.max(...(cursorXs as number[])) - Math.min(...(cursorXs as number[]))).toBeLessThanOrEqual(1);
    await shoot(page, 'host-page-crosshair');
    await page.mouse.move(0, 0);
  });

  it('shows the stored history again after a reload', async () => {
    const reloadedAtMs = Date.now();
    await page.reload({ waitUntil: 'load' });
    await page.getByTestId('live-chart').waitFor({ state: 'visible' });
    // Live samples all come after the reload; only history brings back points from before it
    // (an order, not a race against the clock: the machine may be too busy for any window).
    await page.waitForFunction(
      (reloadedAt) => Number(document.querySelector('[data-testid="live-chart"]')?.getAttribute('data-oldest-point-ms')) < reloadedAt,
      reloadedAtMs,
      { timeout: 60_000 },
    );
    const count = await pointCount(page);
    expect(count, `after reload the chart showed ${count} points, before it ${countBeforeReload}`).toBeGreaterThanOrEqual(
      countBeforeReload,
    );
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'host-page-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('probes the machine again on request and shows the new probe time', async () => {
    const lastProbed = page.getByTestId('last-probed');
    const before = await lastProbed.getAttribute('datetime');
    expect(before).not.toBeNull();
    const clickedAtMs = Date.now();
    await page.getByRole('button', { name: 'Probe again' }).click();
    await page.waitForFunction(
      (previous) => document.querySelector('[data-testid="last-probed"]')?.getAttribute('datetime') !== previous,
      before,
      { timeout: 60_000 },
    );
    // The new probe ended after the click, and the page says how long ago in words no older
    // than the time since the click ('just now' on a quiet machine; a busy one may be slower).
    expect(Date.parse((await lastProbed.getAttribute('datetime'))!)).toBeGreaterThanOrEqual(clickedAtMs - 1_000);
    const sinceClickS = (Date.now() - clickedAtMs) / 1000;
    const shown = (await lastProbed.textContent()) ?? '';
    const ago = /^(\d+) s ago$/.exec(shown);
    expect(
      shown === 'just now' || (ago !== null && Number(ago[1]) <= sinceClickS + 1),
      `shown "${shown}" ${sinceClickS} s after the click`,
    ).toBe(true);
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
  });

  let shellPage: Page | null = null;

  it('works the same through the Electron pipe (a MessagePort handed over by a stand-in shell)', async () => {
    shellPage = await context.newPage();
    shellPage.setDefaultTimeout(UI_TIMEOUT_MS);
    collectPageProblems(shellPage, problems, 'shell page');
    // Stands in for the preload: bridges a MessageChannel to the backend and posts one end
    // to the page the way electron/preload does. The renderer must not notice the difference.
    await shellPage.addInitScript((protocols) => {
      const state = { requests: 0 };
      (window as unknown as { __shell: typeof state }).__shell = state;
      (window as unknown as { sutazaiShell: unknown }).sutazaiShell = Object.freeze({
        kind: 'electron',
        requestBackendPort() {
          state.requests += 1;
          const socket = new WebSocket(`ws://${location.host}/api`, protocols);
          const channel = new MessageChannel();
          socket.onmessage = (event) => channel.port1.postMessage(event.data);
          channel.port1.onmessage = (event) => socket.send(event.data as string);
          socket.onopen = () => window.postMessage({ type: 'sutazai:backend-port' }, location.origin, [channel.port2]);
          // Electron fires `close` on a renderer MessagePort whose other end went away;
          // Chromium alone does not, so the stand-in fires it on the port the page received.
          let delivered: MessagePort | undefined;
          window.addEventListener('message', (event) => {
            if ((event.data as { type?: unknown } | null)?.type === 'sutazai:backend-port') delivered = event.ports[0];
          });
          socket.onclose = () => {
            channel.port1.close();
            delivered?.dispatchEvent(new Event('close'));
          };
        },
      });
    }, apiSocketProtocols(token));
    // The shell's page has no token in its address: the shell's pipe carries the connection.
    await gotoPage(shellPage, `${origin}/`, { waitUntil: 'load' });
    await shellPage.locator('[data-testid="host-row"][data-host-name="local"]').click();
    const threads = shellPage.getByTestId('cpu-threads');
    await threads.waitFor({ state: 'visible' });
    expect((await threads.textContent())?.trim()).toBe(String(os.cpus().length));
    expect(await waitForPoints(shellPage, 1, 15_000)).toBeGreaterThan(0);
    expect(await shellPage.evaluate(() => (window as unknown as { __shell: { requests: number } }).__shell.requests)).toBe(1);
  });

  it('logged no console error, page error or CSP violation, and reached no other origin', async () => {
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it('says the connection is lost when the server stops, and the server stops on SIGTERM', async () => {
    const stopped = await stopWebModeServer(server);
    const banner = page.getByTestId('connection-lost');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    await expect(banner.getByRole('button', { name: 'Reconnect' }).count()).resolves.toBe(1);
    await shoot(page, 'connection-lost');
    if (shellPage) await shellPage.getByTestId('connection-lost').waitFor({ state: 'visible', timeout: 10_000 });
    expect(stopped, `web.mjs did not exit within ${STOP_GRACE_MS} ms of SIGTERM:\n${server.output().slice(-4000)}`).toBe('terminated');
  });
});

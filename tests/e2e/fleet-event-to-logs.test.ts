import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient, FleetEvent, LiveSample } from '../../electron/contract';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { openInstalledWebMode } from '../support/installed-web-mode';
import type { HostTree } from '../support/release-lab';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { makeWaitFor } from '../support/wait-for';
import { useTestLab } from '../support/test-hosts/use-test-lab';

/**
 * From an event to its cause in one click, as an operator does it: SutazAI installed for
 * real on a test host, `npm run web` with its link up, Debian's Chromium on the Events page.
 * An operator's restart of the agent is an event; its "Logs at this second" opens the
 * process page at that second: the lines from a minute before, in order, the first line at
 * or after it marked, the event among the process's events. A long JSON line there wraps
 * at the edge of the log view, not at the hyphens of the timestamps inside it. The process's
 * charts show the minutes around that second, with a way back to live; a link event opens
 * the host's charts the same way. Charts nobody can see (scrolled away, the page hidden) are
 * not drawn as samples arrive, and catch up when shown.
 */

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-e2e-event-logs-');
const INSTALL = 'eventlogs';
const HOST_NAME = 'logs-a';
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 250 });

let tree: HostTree;
let hostId = 0;
let page: Page;
let url = '';
let api: ApiClient;
const problems: string[] = [];
/** The long JSON line's mark: written before the event, looked at in the second test. */
let jsonMark = '';
/** The operator's restart the first test opens the process page at. */
let restartEvent: FleetEvent | undefined;

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const installed = await openInstalledWebMode(defer, labRef.lab, {
      dir: tmp.path,
      install: INSTALL,
      bundleName: 'eventlogs',
      hostName: HOST_NAME,
      problems,
    });
    ({ hostId, api } = installed);
    ({ page, url } = installed.session);
    tree = installed.host.tree;
  },
  { setUpMs: 400_000, undoMs: 120_000 },
);

/** A line as the runtime's stamper writes it into an instance's log on the host. */
const stamped = (text: string): string => `${new Date().toISOString()} out ${text}\n`;

/** A structured log line as services write them: no spaces, ISO timestamps, 80-character runs between their hyphens. */
function jsonLine(mark: string): string {
  const at = new Date().toISOString();
  const run = (c: string) => c.repeat(80);
  return JSON.stringify({ time: at, mark, detail: run('a'), started: at, path: run('b'), ended: at, note: run('c'), next: at });
}

/**
 * How Chromium laid out an element's text: each visual line's last character's right edge
 * and the element's right edge, from the character boxes of its text.
 */
function visualLines(page: Page, selector: string): Promise<{ lineEnds: number[]; right: number; charWidth: number; texts: string[] }> {
  return page.locator(selector).evaluate((element) => {
    const text = element.firstChild as Text;
    const range = document.createRange();
    const lines: Array<{ top: number; end: number; text: string }> = [];
    let charWidth = 0;
    for (let i = 0; i < text.length; i++) {
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      const box = range.getBoundingClientRect();
      charWidth = Math.max(charWidth, box.width);
      const last = lines.at(-1);
      if (last && Math.abs(last.top - box.top) < 1) {
        last.end = box.right;
        last.text += text.data[i];
      } else lines.push({ top: box.top, end: box.right, text: text.data[i]! });
    }
    return {
      lineEnds: lines.map((l) => l.end),
      right: element.getBoundingClientRect().right,
      charWidth,
      texts: lines.map((l) => l.text),
    };
  });
}

describe('an event opens the process’s logs at its second', () => {
  it('from the Events page to the process page at that second, the lines around it in order, the first after it marked', async () => {
    await waitFor('the link online', async () => (await api.call('fleet.links', {})).find((l) => l.hostId === hostId)?.state === 'online');
    const agent = (await api.call('fleet.processes', { hostId })).processes.find((p) => p.name === 'agent')!;
    const logFiles = agent.instances.map((i) => path.join(tree.logDir, `${i.instance}.log`));
    expect(logFiles.length).toBeGreaterThan(0);

    // Before the event: a plain line and a long JSON one in every agent instance's log.
    const before = `before-event-${Date.now()}`;
    jsonMark = `json-${Date.now()}`;
    const json = jsonLine(jsonMark);
    for (const file of logFiles) fs.appendFileSync(file, stamped(before) + stamped(json));
    // Written lines carry their stamp's millisecond: the event is in a later one.
    await new Promise((resolve) => setTimeout(resolve, 20));

    // The event: the operator restarts the agent.
    await api.call('fleet.restart', { hostId, process: 'agent' });
    const event = await waitFor('the restart as an event', async () => {
      const { events } = await api.call('events.list', { kinds: ['action.restart'] });
      return events.find((e) => e.hostId === hostId && e.process === 'agent') ?? null;
    });
    expect(event.actor).not.toBeNull();
    restartEvent = event;
    // After it: a line the view must mark as the first at or after the event's second.
    const after = `after-event-${Date.now()}`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const file of logFiles) fs.appendFileSync(file, stamped(after));

    await gotoPage(page, `${url}#/events`, { waitUntil: 'load' });
    const row = page.locator(`[data-testid="event-row"][data-event-id="${event.id}"]`);
    await row.waitFor();
    await row.getByTestId('event-logs').click();
    await page.waitForURL(new RegExp(`#/fleet/hosts/${hostId}/processes/agent\\?(.*&)?at=${event.atMs}(&|$)`));
    await page.locator('[data-testid="log-view"][data-mode="at"]').waitFor();
    await expect(page.getByTestId('log-at').getAttribute('data-at-ms')).resolves.toBe(String(event.atMs));

    const shown = () =>
      page
        .getByTestId('log-line')
        .evaluateAll((rows) =>
          rows.map((r) => ({ at: Number(r.getAttribute('data-at-ms')), focus: r.hasAttribute('data-focus'), text: r.textContent ?? '' })),
        );
    const lines = await waitFor('the lines before and after the event', async () => {
      const now = await shown();
      return now.some((l) => l.text.includes(before)) && now.some((l) => l.text.includes(after)) ? now : null;
    });
    // From a minute before the event on, in order; the first line at or after it is the marked one.
    const times = lines.map((l) => l.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every((t) => t >= event.atMs - 60_000)).toBe(true);
    const focus = lines.findIndex((l) => l.focus);
    expect(focus).toBe(lines.findIndex((l) => l.at >= event.atMs));
    expect(lines.filter((l) => l.focus)).toHaveLength(1);
    expect(lines.findIndex((l) => l.text.includes(before))).toBeLessThan(focus);
    expect(lines.findIndex((l) => l.text.includes(after))).toBeGreaterThanOrEqual(focus);
    // The event itself among the process's events.
    await page.locator(`[data-testid="process-event"][data-event-id="${event.id}"]`).waitFor();
    await shoot(page, 'fleet-event-to-logs');
  }, 180_000);

  it('wraps a long JSON line at the edge of the view, not at the hyphens of its timestamps, and keeps the time column whole', async () => {
    const id = 'wrapped-json-line';
    const found = await page.getByTestId('log-line').evaluateAll(
      (rows, [mark, marker]) => {
        const row = rows.find((r) => r.textContent?.includes(mark!));
        row?.setAttribute('data-check', marker!);
        return row !== undefined;
      },
      [jsonMark, id],
    );
    expect(found).toBe(true);
    const text = await visualLines(page, `[data-check="${id}"] .log-text`);
    // It does wrap (the view is narrower than the line)...
    expect(text.lineEnds.length).toBeGreaterThan(1);
    // ...and every visual line but the last is filled to the edge: broken where needed, not at a hyphen before it.
    for (const end of text.lineEnds.slice(0, -1)) expect(text.right - end).toBeLessThan(text.charWidth * 1.5);
    const time = await page.locator(`[data-check="${id}"] .log-time`).evaluate((element) => element.getClientRects().length);
    expect(time).toBe(1);
    // The check tells: under the rule before (breaks only where the text offers one), the same line broke at a hyphen, short of the edge.
    await page
      .locator(`[data-check="${id}"] .log-text`)
      .evaluate((element) => (element as HTMLElement).style.setProperty('line-break', 'auto'));
    const before = await visualLines(page, `[data-check="${id}"] .log-text`);
    expect(before.texts.slice(0, -1).some((t, i) => t.endsWith('-') && before.right - before.lineEnds[i]! >= before.charWidth * 1.5)).toBe(
      true,
    );
    await page.locator(`[data-check="${id}"] .log-text`).evaluate((element) => (element as HTMLElement).style.removeProperty('line-break'));
    await shoot(page, 'fleet-log-long-json');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it('centres the process’s charts on the event’s second, marked, with a way back to live', async () => {
    const event = restartEvent!;
    // Still the page the event opened (the first test): the charts around its second, not the live range.
    const around = page.getByTestId('around-charts');
    await around.waitFor();
    const second = Math.floor(event.atMs / 1000) * 1000;
    expect(Number(await around.getAttribute('data-at-ms'))).toBe(event.atMs);
    expect(Number(await around.getAttribute('data-from-ms'))).toBe(second - 300_000);
    expect(Number(await around.getAttribute('data-to-ms'))).toBe(second + 300_000 - 1);
    expect(await page.getByTestId('live-chart').count()).toBe(0);
    await expect(page.locator('[data-testid="range-picker"] [data-range="around"] input').isChecked()).resolves.toBe(true);
    // The instance's samples from the store, per second, with the event's second marked in the middle of the plot.
    const cpu = around.locator('[data-metric-panel="cpu"]');
    await waitFor('CPU points around the event', async () => Number(await cpu.getAttribute('data-point-count')) > 0);
    await expect(around.getAttribute('data-tier')).resolves.toBe('1s');
    await expect(around.getAttribute('data-step-ms')).resolves.toBe('1000');
    const plot = await cpu.evaluate((figure) => {
      const mark = figure.querySelector('.recharts-reference-line line');
      const gridLine = figure.querySelector('.recharts-cartesian-grid-horizontal line');
      return {
        mark: mark === null ? null : Number(mark.getAttribute('x1')),
        left: Number(gridLine?.getAttribute('x1')),
        right: Number(gridLine?.getAttribute('x2')),
      };
    });
    expect(plot.mark).not.toBeNull();
    expect(plot.right - plot.left).toBeGreaterThan(100);
    expect(Math.abs(plot.mark! - (plot.left + plot.right) / 2)).toBeLessThan(3);
    await cpu.scrollIntoViewIfNeeded();
    await shoot(page, 'fleet-process-charts-around-event');

    // Back to live: the charts follow the samples again; the logs stay at the event's second.
    await page.getByTestId('charts-back-to-live').click();
    const live = page.getByTestId('live-chart');
    await live.waitFor();
    expect(await page.getByTestId('around-charts').count()).toBe(0);
    await expect(page.locator('[data-testid="range-picker"] [data-range="5m"] input').isChecked()).resolves.toBe(true);
    await waitFor('live samples after the event drawn', async () => Number(await live.getAttribute('data-newest-point-ms')) > event.atMs);
    await page.locator('[data-testid="log-view"][data-mode="at"]').waitFor();
    // The moment is still offered, and centres the charts again.
    await page.locator('[data-testid="range-picker"] [data-range="around"]').click();
    await page.getByTestId('around-charts').waitFor();
    // The logs' "Follow live" leaves the moment: the charts follow live and no longer offer it.
    await page.getByTestId('log-follow-live').click();
    await page.waitForURL((u) => !/[?&]at=/.test(u.hash));
    await live.waitFor();
    expect(await page.locator('[data-testid="range-picker"] [data-range="around"]').count()).toBe(0);
    // A click on a live chart's point opens the logs there without pulling the charts off live.
    const liveCpu = live.locator('[data-metric-panel="cpu"]');
    await liveCpu.scrollIntoViewIfNeeded();
    await waitFor('live CPU points', async () => Number(await liveCpu.getAttribute('data-point-count')) >= 2);
    const box = (await liveCpu.locator('.recharts-surface').boundingBox())!;
    await liveCpu.locator('.recharts-surface').hover({ position: { x: box.width * 0.8, y: box.height / 2 } });
    await liveCpu.locator('.recharts-surface').click({ position: { x: box.width * 0.8, y: box.height / 2 } });
    await page.waitForURL((u) => /[?&]at=\d+/.test(u.hash));
    await page.locator('[data-testid="log-view"][data-mode="at"]').waitFor();
    await live.waitFor();
    expect(await page.getByTestId('around-charts').count()).toBe(0);
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);

  it('does not draw panels scrolled out of view or in a hidden page, and catches them up when shown', async () => {
    const live = page.getByTestId('live-chart');
    await live.waitFor();
    // The logs at the clicked time loaded first: their view scrolls the page to the marked line once, when its lines come.
    await page.getByTestId('log-at').waitFor();
    const newestOf = async () => Number(await live.getAttribute('data-newest-point-ms'));
    const panelsNewest = () =>
      live.locator('[data-metric-panel]').evaluateAll((figures) =>
        figures.map((f) => ({
          id: f.getAttribute('data-metric-panel')!,
          newest: Number(f.getAttribute('data-newest-point-ms')),
          bottom: f.getBoundingClientRect().bottom,
        })),
      );
    /** Waits until the window has a sample newer than `than` (the samples keep coming, one a second). */
    const newerThan = (than: number) =>
      waitFor('a newer sample in the window', async () => ((await newestOf()) > than ? newestOf() : null));

    // Scrolled away (a long page's foot, far past the charts): the panels keep what they drew while the window moves on.
    await page.evaluate(() => {
      const spacer = document.createElement('div');
      spacer.id = 'test-spacer';
      spacer.style.height = '3000px';
      document.body.append(spacer);
      window.scrollTo(0, document.documentElement.scrollHeight);
    });
    const away = await panelsNewest();
    // More than the observer's 200 px margin above the window: nobody sees them.
    expect(away.every((p) => p.bottom < -250)).toBe(true);
    // Two samples after the scroll: the observer has answered by the second.
    await newerThan(await newerThan(await newestOf()));
    const held = await panelsNewest();
    const later = await newerThan(await newerThan(await newestOf()));
    const still = await panelsNewest();
    expect(still.map((p) => p.newest)).toEqual(held.map((p) => p.newest));
    expect(Math.max(...still.map((p) => p.newest))).toBeLessThan(later);

    // Shown again: drawn at once with the newest samples.
    await page.evaluate(() => document.getElementById('test-spacer')?.remove());
    const cpu = live.locator('[data-metric-panel="cpu"]');
    await cpu.scrollIntoViewIfNeeded();
    await waitFor('the CPU panel caught up', async () => Number(await cpu.getAttribute('data-newest-point-ms')) >= later);

    // A hidden page (a minimised window, a background tab) draws nothing; what came meanwhile is drawn when it is shown.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const hiddenAt = await newestOf();
    const countAt = Number(await live.getAttribute('data-live-sample-count'));
    const pushed: LiveSample[] = [];
    const stop = await api.subscribe('metrics.live', { hostId }, (sample) => void pushed.push(sample));
    try {
      await waitFor('four samples pushed while hidden', async () => pushed.filter((s) => s.t > hiddenAt).length >= 4);
    } finally {
      await stop();
    }
    const newestPushed = Math.max(...pushed.map((s) => s.t));
    // At most the one sample whose frame was asked for before the page said it was hidden.
    expect(Number(await live.getAttribute('data-live-sample-count'))).toBeLessThanOrEqual(countAt + 1);
    expect(Number(await cpu.getAttribute('data-newest-point-ms'))).toBeLessThan(newestPushed);
    await page.evaluate(() => {
      delete (document as { visibilityState?: DocumentVisibilityState }).visibilityState;
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await waitFor('the hidden time caught up', async () => Number(await cpu.getAttribute('data-newest-point-ms')) >= newestPushed);
    expect(Number(await live.getAttribute('data-live-sample-count'))).toBeGreaterThanOrEqual(countAt + 4);
    expect(problems).toEqual([]);
  }, 120_000);

  it('a link event opens the host’s charts around its second', async () => {
    const { events } = await api.call('events.list', { hostId, kinds: ['link.up'] });
    const linkUp = events[0]!;
    expect(linkUp).toBeDefined();
    await gotoPage(page, `${url}#/events`, { waitUntil: 'load' });
    const row = page.locator(`[data-testid="event-row"][data-event-id="${linkUp.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('event-logs').count()).toBe(0);
    await row.getByTestId('event-charts').click();
    await page.waitForURL((u) => u.hash === `#/hosts/${hostId}?at=${linkUp.atMs}`);
    const charts = page.getByTestId('host-charts');
    const around = charts.getByTestId('around-charts');
    await around.waitFor();
    expect(Number(await around.getAttribute('data-at-ms'))).toBe(linkUp.atMs);
    // Each process's logs at that second, offered beside them.
    await expect(charts.getByTestId('chart-jump').getAttribute('data-at-ms')).resolves.toBe(String(linkUp.atMs));
    const cpu = around.locator('[data-metric-panel="cpu"]');
    await cpu.scrollIntoViewIfNeeded();
    await waitFor('host CPU points around the link event', async () => Number(await cpu.getAttribute('data-point-count')) > 0);
    await shoot(page, 'fleet-host-charts-around-event');
    await charts.getByTestId('charts-back-to-live').click();
    await charts.getByTestId('live-chart').waitFor();
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);
});

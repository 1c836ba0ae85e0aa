import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../electron/contract';
import { cspViolations } from '../support/chromium';
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
 * at the edge of the log view, not at the hyphens of the timestamps inside it.
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
    // After it: a line the view must mark as the first at or after the event's second.
    const after = `after-event-${Date.now()}`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const file of logFiles) fs.appendFileSync(file, stamped(after));

    await page.goto(`${url}#/events`, { waitUntil: 'load' });
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
});

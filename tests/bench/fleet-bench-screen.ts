/**
 * The fleet benchmark's screen part (tests/bench/fleet.bench.ts): sample-to-screen latency
 * of one host's live CPU panel in Chromium, and where that time goes, stage by stage:
 *
 *   taken     the runtime's clock when it took the sample (the sample's own time, `t`)
 *   received  the backend's clock when its link read the sample off the wire (`receivedMs`
 *             of the `metrics.live` push): the runtime's sampling and send, gRPC over TLS
 *             over the SSH tunnel, the backend's event loop
 *   committed the store's commit of that second, seen by the benchmark polling the store
 *             (not on the screen path: the push does not wait for it; printed beside)
 *   message   the page's clock when the WebSocket message arrived (a listener registered
 *             before the app's, so before its parsing): the backend's push, the browser's
 *             network process, the page's main thread being free
 *   dom       the chart's `data-newest-point-ms` changed (a MutationObserver, right after
 *             React's commit): the app's parsing, its wait for a frame, React and recharts
 *   line      the panel's line next changed (its path, or its shape put in anew, as recharts
 *             does; it may draw it a commit after the rows came)
 *   frame     the animation frame after that, the frame that paints it
 *
 * One clock for all: the runtimes run in network namespaces of this machine (no time
 * namespace, and Linux's time namespaces cannot shift CLOCK_REALTIME anyway), so the
 * runtime's Date.now(), the backend's and Chromium's read the same kernel clock;
 * `clockCheck` shows it for the run (the watched host's clock read from inside its
 * namespace, the namespaces compared, the backend's own skew estimate).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import type { TestHost, TestLab } from '../support/test-hosts/test-hosts';
import { percentile } from './runtime-bench-procs';

/** One drawn change of the panel, each stage's time on this machine's clock (null: not seen). */
interface DrawnSample {
  t: number;
  receivedMs: number | null;
  messageMs: number | null;
  domMs: number;
  lineMs: number;
  frameMs: number;
}

/**
 * Before any page script: every WebSocket of the context notes when each `metrics.live`
 * message of `hostId` arrived and the `receivedMs` it carries, keyed by the sample's time.
 * Read without parsing the whole message (a runtime's sample carries every series).
 */
export async function installScreenProbe(context: BrowserContext, hostId: number): Promise<void> {
  // Plain JavaScript text: a function handed over would carry the TypeScript loader's helpers (__name), unknown to the page.
  await context.addInitScript({
    content: `(() => {
      const watched = ${JSON.stringify(hostId)};
      const arrivals = new Map();
      window.__liveArrivals = arrivals;
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url, protocols) {
          super(url, protocols);
          // Registered in the constructor, so before the app's own listener: the arrival, not the handling.
          this.addEventListener('message', (event) => {
            const messageMs = Date.now();
            if (typeof event.data !== 'string' || !event.data.includes('"event":"metrics.live"')) return;
            const host = /"hostId":(\\d+)/.exec(event.data);
            const t = /"t":(\\d+)/.exec(event.data);
            if (!host || !t || Number(host[1]) !== watched) return;
            const received = /"receivedMs":(\\d+)/.exec(event.data);
            const skew = /"clockSkewMs":(-?\\d+)/.exec(event.data);
            if (skew) window.__liveSkewMs = Number(skew[1]);
            arrivals.set(Number(t[1]), { messageMs, receivedMs: received ? Number(received[1]) : null });
          });
        }
      };
    })();`,
  });
}

/**
 * Records each change of the panel's newest drawn point: when the DOM showed it, when the
 * line's path next changed (recharts may draw the line in a commit after the one that
 * handed it the rows), and the frame after that (the page's clock, this machine's, as the
 * runtimes' are), with what the WebSocket probe saw of the same sample.
 */
export async function watchScreen(page: Page, selector: string): Promise<void> {
  await page.locator(selector).scrollIntoViewIfNeeded();
  await page.evaluate((panelSelector) => {
    const arrivals = (window as unknown as { __liveArrivals?: Map<number, { messageMs: number; receivedMs: number | null }> })
      .__liveArrivals;
    const drawn: DrawnSample[] = [];
    (window as unknown as { __screenDrawn: DrawnSample[] }).__screenDrawn = drawn;
    let last = '';
    let waiting: { t: number; domMs: number } | null = null;
    // The whole document, the panel found again each time: a new set of series remounts the charts.
    new MutationObserver((mutations) => {
      const now = Date.now();
      const chart = document.querySelector(panelSelector);
      if (chart === null) return;
      const newest = chart.getAttribute('data-newest-point-ms') ?? '';
      if (newest !== '' && newest !== last) {
        last = newest;
        waiting = { t: Number(newest), domMs: now };
      }
      // The line's path changed, or (as recharts does) its shape was put in anew.
      const lineDrawn = mutations.some(
        (m) =>
          (m.type === 'childList' || m.attributeName === 'd') &&
          chart.contains(m.target) &&
          (m.target as Element).closest('.recharts-line') !== null,
      );
      if (waiting === null || !lineDrawn) return;
      const { t, domMs } = waiting;
      waiting = null;
      const arrival = arrivals?.get(t);
      // After the frame that paints it: the sample is on screen, not only in the DOM.
      requestAnimationFrame(() =>
        drawn.push({
          t,
          domMs,
          lineMs: now,
          frameMs: Date.now(),
          messageMs: arrival?.messageMs ?? null,
          receivedMs: arrival?.receivedMs ?? null,
        }),
      );
    }).observe(document.body, { attributes: true, childList: true, subtree: true, attributeFilter: ['data-newest-point-ms', 'd'] });
  }, selector);
}

/** What the page recorded: each drawn change, and the newest clock skew the backend reported for the host. */
export function readDrawn(page: Page): Promise<{ drawn: DrawnSample[]; skewMs: number | null }> {
  return page.evaluate(() => {
    const w = window as unknown as { __screenDrawn?: DrawnSample[]; __liveSkewMs?: number };
    return { drawn: w.__screenDrawn?.slice() ?? [], skewMs: w.__liveSkewMs ?? null };
  });
}

/** Sample-to-screen latencies (frame minus the sample's time), the figure the target is about. */
export function screenLatencies(drawn: readonly DrawnSample[]): number[] {
  return drawn.map((d) => d.frameMs - d.t);
}

const stat = (values: number[]): string =>
  values.length === 0
    ? 'not seen'
    : `p50 ${percentile(values, 50).toFixed(0)}, p95 ${percentile(values, 95).toFixed(0)} (n ${values.length})`;

/**
 * The per-stage table: each stage over the drawn samples that have both ends (a frame that
 * drew several samples at once counts its newest). `committedAt` maps a second to when
 * the benchmark saw it committed.
 */
export function stageLines(drawn: readonly DrawnSample[], committedAt: ReadonlyMap<number, number>): string[] {
  const diffs = (f: (d: DrawnSample) => number | null): number[] =>
    drawn.flatMap((d) => {
      const v = f(d);
      return v === null || !Number.isFinite(v) ? [] : [v];
    });
  const committed = (d: DrawnSample): number | null => {
    const at = committedAt.get(Math.floor(d.t / 1000) * 1000);
    return at === undefined || d.receivedMs === null ? null : at - d.receivedMs;
  };
  const rows: Array<[string, string]> = [
    [
      'taken by the runtime -> received by the backend (sampling, gRPC/TLS/SSH, backend loop)',
      stat(diffs((d) => (d.receivedMs === null ? null : d.receivedMs - d.t))),
    ],
    ['received -> committed to the store (seen by a 50 ms poll; not on the screen path)', stat(diffs(committed))],
    [
      'received -> WebSocket message in the page (push, browser)',
      stat(diffs((d) => (d.receivedMs === null || d.messageMs === null ? null : d.messageMs - d.receivedMs))),
    ],
    [
      'WebSocket message -> chart DOM changed (parse, frame wait, React, recharts)',
      stat(diffs((d) => (d.messageMs === null ? null : d.domMs - d.messageMs))),
    ],
    ['chart DOM changed -> its line redrawn (recharts)', stat(diffs((d) => d.lineMs - d.domMs))],
    ['line redrawn -> the frame that paints it', stat(diffs((d) => d.frameMs - d.lineMs))],
    ['taken -> frame (sample-to-screen)', stat(diffs((d) => d.frameMs - d.t))],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    `  by stage, ms (over the samples drawn; a frame that drew several counts its newest):`,
    ...rows.map(([name, s]) => `    ${name.padEnd(width)}  ${s}`),
  ];
}

/**
 * Evidence that the sample's clock and the draw's clock are one: the watched host's clock
 * read inside its namespace between two reads of ours, the time namespaces of this process
 * and of a process inside the host, and the backend's own skew estimate (the smallest
 * delay seen, as `clockSkewMs` of the live samples).
 */
export async function clockCheck(lab: TestLab, host: TestHost, backendSkewMs: number | null): Promise<string> {
  const before = Date.now();
  const result = await lab.exec(host, 'date +%s%3N; readlink /proc/self/ns/time');
  const after = Date.now();
  const [hostNow, hostNs] = result.stdout.trim().split('\n');
  const ours = fs.readlinkSync('/proc/self/ns/time');
  const hostMs = Number(hostNow);
  const offset = hostMs < before ? hostMs - before : hostMs > after ? hostMs - after : 0;
  return (
    `  clocks: the host's clock read inside its namespace fell ${offset === 0 ? 'between' : `${offset} ms outside`} two reads of ours ` +
    `(${after - before} ms apart); time namespace: host ${hostNs ?? '?'}, ours ${ours} (${hostNs === ours ? 'the same' : 'DIFFERENT'}); ` +
    `the backend's skew estimate for the host ${backendSkewMs === null ? 'not reported' : `${backendSkewMs} ms`}`
  );
}

/**
 * BENCH_SCREEN_PROFILE=<dir>: the page's JavaScript profiled over the screen window (the
 * DevTools protocol's sampling profiler), written as page.<time>.cpuprofile (open it in
 * Chrome's DevTools); `stop` writes it and gives the busiest functions by self time.
 */
export async function profilePage(page: Page, dir: string): Promise<{ stop(): Promise<string[]> }> {
  const session: CDPSession = await page.context().newCDPSession(page);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 500 });
  await session.send('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.send('Profiler.stop');
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `page.${Date.now()}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(profile));
      await session.detach().catch(() => undefined);
      return [`  page profile: ${file}`, ...topSelfTime(profile)];
    },
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The functions with the most samples of their own, as `share % name (file:line)`. */
function topSelfTime(profile: { nodes: ProfileNode[] }, count = 15): string[] {
  const hits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const n = node.hitCount ?? 0;
    total += n;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} (${url.split('/').pop() ?? ''}:${lineNumber + 1})`;
    hits.set(key, (hits.get(key) ?? 0) + n);
  }
  return [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, n]) => `    ${((n / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
}

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../electron/contract';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';
import { gotoPage } from '../support/chromium';

/**
 * A window whose operator is disabled while its pages hold live feeds (issue 14, item 1; the
 * backend's half is tested in operators-sign-in): the backend ends each feed with
 * SIGN_IN_REQUIRED, the window asks again who it is signed in as on the first such end
 * instead of at its next periodic check, and shows the sign-in screen. The page's clock is
 * paused while the operator is disabled, so no periodic check can do it instead (the old code
 * never asked); order is asserted from the frames the page's WebSocket sends and receives.
 */

const ADA = 'ada manages the operators';
const BO = 'bo watches the fleet';

interface Frame {
  readonly direction: 'sent' | 'received';
  readonly message: { type?: string; method?: string; event?: string; error?: { code?: string } };
}

describe('a window whose operator is disabled while it watches', () => {
  let page: Page;
  let api: ApiClient;
  const problems: string[] = [];
  const frames: Frame[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-feed-ended-');
    defer(dir.remove);
    const session = await openWebModeSession({ dataDir: dir.path, problems, uiTimeoutMs: 60_000 });
    defer(session.close);
    page = session.page;
    page.on('websocket', (socket) => {
      const record = (direction: Frame['direction']) => (data: { payload: string | Buffer }) => {
        try {
          frames.push({ direction, message: JSON.parse(String(data.payload)) as Frame['message'] });
        } catch {
          // Not an API frame; nothing to order.
        }
      };
      socket.on('framesent', record('sent'));
      socket.on('framereceived', record('received'));
    });
    api = await connectApiClient(session.url);
    defer(() => api.close());
    // The bootstrap's admin adds ada (this pipe goes on as her), and ada adds bo.
    await api.call('operators.add', { name: 'ada', role: 'admin', password: ADA });
    await api.call('operators.add', { name: 'bo', role: 'operator', password: BO });
    // The page's timers run on a clock this test can pause (see below).
    await page.clock.install();
    await gotoPage(page, session.url);
  });

  it('ends the feeds, asks who it is at once and shows the sign-in screen', async () => {
    const form = page.getByTestId('sign-in');
    await form.getByLabel('Name').fill('bo');
    await form.getByLabel('Password').fill(BO);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('signed-in-as').waitFor();
    // The Events page holds a live feed of new events beside the window's own feeds.
    await page.evaluate(() => {
      window.location.hash = '#/events';
    });
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await expect.poll(() => frames.some((f) => f.direction === 'sent' && f.message.event === 'events.appended')).toBe(true);

    await page.clock.pauseAt(Date.now() + 1_000);
    await api.call('operators.set', { name: 'bo', disabled: true });
    const whoamiAfterEnd = () => {
      const end = frames.findIndex((f) => f.direction === 'received' && f.message.type === 'subscriptionEnded');
      return end >= 0 && frames.slice(end + 1).some((f) => f.direction === 'sent' && f.message.method === 'session.whoami');
    };
    // Bounded so that the old code fails here rather than hangs; the backend ends feeds within its 1 s re-check.
    await expect.poll(whoamiAfterEnd, { timeout: 30_000 }).toBe(true);
    await page.clock.resume();
    await page.getByTestId('sign-in').waitFor();

    const firstEnd = frames.findIndex((f) => f.direction === 'received' && f.message.type === 'subscriptionEnded');
    expect(firstEnd).toBeGreaterThan(-1);
    expect(frames[firstEnd]!.message.error?.code).toBe('SIGN_IN_REQUIRED');
    // The first request after the first end is the window asking who it is.
    const next = frames.slice(firstEnd + 1).find((f) => f.direction === 'sent' && f.message.type === 'request');
    expect(next?.message.method).toBe('session.whoami');
    expect(problems).toEqual([]);
  });
});

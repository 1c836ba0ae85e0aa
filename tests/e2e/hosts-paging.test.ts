import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HOSTS_PAGE_SIZE, type ApiClient } from '../../electron/contract';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';
import { gotoPage } from '../support/chromium';

/**
 * The hosts page over an inventory bigger than one hosts.list page, in Debian's Chromium
 * against `npm run web`: the page asks for the inventory page by page (each answer at most
 * HOSTS_PAGE_SIZE hosts, the next one `after` the last id) and shows every host.
 */

const COUNT = HOSTS_PAGE_SIZE * 2 + 50;

describe('hosts page paging', () => {
  let page: Page;
  let url = '';
  let client: ApiClient;
  const problems: string[] = [];
  const listRequests: Array<{ id: unknown; params: { after?: number; limit?: number } }> = [];
  const listAnswerSizes: number[] = [];

  setUpSuite(async (defer) => {
    const dataDir = makeTempDir('sutazai-e2e-paging-');
    defer(dataDir.remove);
    const session = await openWebModeSession({ dataDir: dataDir.path, problems });
    defer(session.close);
    ({ page, url } = session);
    client = await connectApiClient(url);
    defer(() => client.close());
    const text = `hosts:\n${Array.from({ length: COUNT }, (_, i) => `  - { name: paged-${i}, address: 10.7.${Math.floor(i / 250)}.${(i % 250) + 1} }\n`).join('')}`;
    expect((await client.call('hosts.import', { text, fileName: 'hosts.yaml' })).errors).toEqual([]);

    const listIds = new Set<unknown>();
    page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => {
        const message = parse(payload);
        if (message?.type === 'request' && message.method === 'hosts.list') {
          listIds.add(message.id);
          listRequests.push({ id: message.id, params: message.params ?? {} });
        }
      });
      socket.on('framereceived', ({ payload }) => {
        const message = parse(payload);
        if (message?.type === 'response' && listIds.has(message.id) && Array.isArray(message.result))
          listAnswerSizes.push(message.result.length);
      });
    });
  });

  it('shows every host of an inventory bigger than a page, fetched one page at a time', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.locator(`[data-testid="host-row"][data-host-name="paged-${COUNT - 1}"]`).waitFor({ state: 'attached' });
    await expect(page.getByTestId('host-row').count()).resolves.toBe(COUNT + 1); // and the local machine
    expect(listAnswerSizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...listAnswerSizes)).toBeLessThanOrEqual(HOSTS_PAGE_SIZE);
    expect(listRequests.slice(1, 3).every((request) => typeof request.params.after === 'number')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('draws the sidebar column the whole height of a tall page, down to its last row', async () => {
    // A full-page screenshot is the whole document; decode it in the browser itself (a
    // canvas) and compare the sidebar column near the bottom with its colour at the top.
    const png = await page.screenshot({ fullPage: true });
    const [top, bottom, height] = await page.evaluate(
      async (dataUrl) => {
        const image = new Image();
        image.src = dataUrl;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        const at = (y: number) => Array.from(context.getImageData(8, y, 1, 1).data).join(',');
        return [at(10), at(image.height - 8), image.height];
      },
      `data:image/png;base64,${png.toString('base64')}`,
    );
    const viewport = page.viewportSize()!;
    expect(height).toBeGreaterThan(viewport.height * 2);
    expect(bottom).toBe(top);
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw wire messages seen by the browser
function parse(payload: string | Buffer): any {
  try {
    return JSON.parse(String(payload));
  } catch {
    return null;
  }
}

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { gotoPage } from '../../support/chromium';

/**
 * A page whose navigations fail with `failures`, in order, then succeed. `calls` records each
 * navigation and each wait for Chromium's error page, in order.
 */
function pageFailingWith(failures: readonly string[]): { page: Page; calls: string[] } {
  const calls: string[] = [];
  let navigations = 0;
  const page = {
    goto: (url: string) => {
      calls.push(`goto ${url}`);
      const failure = failures[navigations];
      navigations += 1;
      return failure === undefined ? Promise.resolve(null) : Promise.reject(new Error(failure));
    },
    waitForURL: (url: RegExp) => {
      calls.push(`wait ${String(url)}`);
      return Promise.resolve();
    },
  } as unknown as Page;
  return { page, calls };
}

const NETWORK_CHANGED = 'page.goto: net::ERR_NETWORK_CHANGED at https://localhost:4000/\nCall log: ...';
const INTERRUPTED =
  'page.goto: Navigation to "https://localhost:4000/" is interrupted by another navigation to "chrome-error://chromewebdata/"';
const TARGET = 'https://localhost:4000/';

describe('gotoPage', () => {
  it('waits for the error page, then navigates again, when Chromium aborted the navigation because the network changed', async () => {
    const { page, calls } = pageFailingWith([NETWORK_CHANGED, INTERRUPTED]);
    await expect(gotoPage(page, TARGET)).resolves.toBeNull();
    expect(calls).toEqual([`goto ${TARGET}`, 'wait /^chrome-error:/', `goto ${TARGET}`, 'wait /^chrome-error:/', `goto ${TARGET}`]);
  });

  it('gives up after four navigations, with the last error', async () => {
    const { page, calls } = pageFailingWith([NETWORK_CHANGED, NETWORK_CHANGED, NETWORK_CHANGED, `${NETWORK_CHANGED} (fourth)`]);
    await expect(gotoPage(page, TARGET)).rejects.toThrow('(fourth)');
    expect(calls.filter((call) => call.startsWith('goto'))).toHaveLength(4);
  });

  it('throws any other failure at once, without navigating again', async () => {
    const { page, calls } = pageFailingWith([`page.goto: net::ERR_CONNECTION_REFUSED at ${TARGET}`]);
    await expect(gotoPage(page, TARGET)).rejects.toThrow('ERR_CONNECTION_REFUSED');
    expect(calls).toEqual([`goto ${TARGET}`]);
  });
});

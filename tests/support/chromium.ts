import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/**
 * Debian's Chromium (`apt install chromium`) driven by playwright-core, as the e2e tests
 * use it: the operator's browser, not a downloaded one.
 */

const CHROMIUM = '/usr/bin/chromium';

/** `extraArgs`: further command-line flags (a test's own CA: --ignore-certificate-errors-spki-list). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
    timeout: 60_000,
  });
}

/**
 * A 1280×800 light-scheme context whose pages record every CSP violation; read them with
 * `cspViolations`. `options` adds to or replaces those defaults.
 */
export async function newCspRecordingContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', ...options });
  // CSP violations also reach the console, but only as text; keep the structured record too.
  await context.addInitScript(() => {
    const record: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = record;
    document.addEventListener('securitypolicyviolation', (event) => {
      record.push(`${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return context;
}

/** The CSP violations the current document of `page` met, one line each. */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
}

/** Adds each console error and uncaught page error of `page` to `problems`; `where` names the page in them. */
export function collectPageProblems(page: Page, problems: string[], where?: string): void {
  const suffix = where === undefined ? '' : ` (${where})`;
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error${suffix}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error${suffix}: ${error.message}`));
}

/** How many navigations `gotoPage` makes at most when Chromium aborted them because the network changed. */
const NETWORK_CHANGED_TRIES = 4;

/** Chromium's error page, which it shows in the tab after aborting a navigation. */
const CHROME_ERROR_PAGE = /^chrome-error:/;

/**
 * `page.goto`, made again (up to four navigations in all) only when Chromium aborted it
 * because the network changed. Chromium fails a connection still being set up (a TLS
 * handshake: the HTTPS tests) with net::ERR_NETWORK_CHANGED whenever an interface comes or
 * goes, and the integration files beside the e2e files add and remove test hosts' veth
 * interfaces all the time; the server never refused anything. After such an abort Chromium
 * navigates the tab to its error page, and a navigation started before that lands is
 * "interrupted by another navigation to chrome-error://": so wait for the error page first,
 * and count that interruption as the same abort. Any other failure is thrown at once.
 */
export async function gotoPage(page: Page, url: string, options?: Parameters<Page['goto']>[1]): ReturnType<Page['goto']> {
  for (let navigation = 1; ; navigation += 1) {
    try {
      return await page.goto(url, options);
    } catch (error) {
      if (!abortedByNetworkChange(error) || navigation >= NETWORK_CHANGED_TRIES) throw error;
      // Bounded: when the error page never comes (the tab was closed), the next goto says why.
      await page.waitForURL(CHROME_ERROR_PAGE, { timeout: 5_000, waitUntil: 'commit' }).catch(() => undefined);
    }
  }
}

function abortedByNetworkChange(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.message.includes('net::ERR_NETWORK_CHANGED') || error.message.includes('interrupted by another navigation to "chrome-error://')
  );
}

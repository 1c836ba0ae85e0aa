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

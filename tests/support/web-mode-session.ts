import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { createApiClient, type ApiClient } from '../../electron/contract';
import { collectPageProblems, launchChromium, newCspRecordingContext } from './chromium';
import { startWebModeServer, stopWebModeServer, waitForUrl, type WebModeServer } from './web-mode-server';
import { openSocket, wsTransport } from './ws-peer';

/**
 * What every e2e file starts with: `npm run web` on a data directory, and one page of
 * Debian's Chromium that records its console errors, page errors and CSP violations.
 */
export interface WebModeSession {
  server: WebModeServer;
  /** The `http://127.0.0.1:<port>/?token=<token>` address the server printed. */
  url: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Closes the browser and stops the server (if still running); safe to call twice. */
  close(): Promise<void>;
}

export interface WebModeSessionOptions {
  dataDir: string;
  /** Added to the server's environment (e.g. SUTAZAI_PASSPHRASE). */
  env?: Record<string, string>;
  /** Every console and page error of the page is added here. */
  problems: string[];
  context?: BrowserContextOptions;
  /** The page's default timeout for each action and wait; 20 s unless given. */
  uiTimeoutMs?: number;
}

export async function openWebModeSession(options: WebModeSessionOptions): Promise<WebModeSession> {
  const server = startWebModeServer(options.dataDir, options.env ?? {});
  let browser: Browser | null = null;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await browser?.close().catch(() => undefined);
    await stopWebModeServer(server);
  };
  try {
    const url = await waitForUrl(server);
    browser = await launchChromium();
    const context = await newCspRecordingContext(browser, options.context);
    const page = await context.newPage();
    page.setDefaultTimeout(options.uiTimeoutMs ?? 20_000);
    collectPageProblems(page, options.problems);
    return { server, url, browser, context, page, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** An API client of the server at `url` (the page's address and token), on a WebSocket of its own: what the backend says, beside what the page shows. */
export async function connectApiClient(url: string): Promise<ApiClient> {
  const { port, searchParams } = new URL(url);
  return createApiClient(wsTransport(await openSocket(`ws://127.0.0.1:${port}/api`, searchParams.get('token'))));
}

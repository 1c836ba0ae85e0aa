import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { createPipeSession, desktopPipeGrants, type Dispatcher } from '../../electron/backend/server/dispatcher';
// @ts-expect-error: a plain .mjs script without type declarations
import { buildAll as buildAllUntyped } from '../../scripts/build.mjs';
import { RENDERER_SECURITY_HEADERS } from '../../electron/shared-node/content-security-policy';
import { contentTypeFor, resolveStaticPath } from '../../electron/shared-node/static-path';
import type { Defer } from './suite-set-up';
import { makeTempDir } from './temp-dir';
import { gotoPage } from './chromium';

/**
 * The desktop app's window without the Electron binary (which cannot run here): the renderer,
 * built from the sources as `npm start` builds it, served on 127.0.0.1, and a stand-in for the
 * preload that hands the page a MessagePort bridged to a pipe with the desktop app's grants
 * (actor `desktop`, its own sign-in), as electron/preload and the main process do. The page
 * then believes it is the desktop window (`window.sutazaiShell.kind === 'electron'`): the
 * desktop-only screens (the provider sign-in's button and its second step) show.
 */
export interface DesktopWindows {
  /** Opens a new desktop window (a page with its own pipe) in `context`. */
  open(context: BrowserContext): Promise<Page>;
}

const PIPE_PATH = '/desktop-pipe';
const buildAll = buildAllUntyped as (options: { only: string[]; outDir: string; quiet: boolean }) => Promise<void>;

export async function startDesktopWindows(dispatcher: Dispatcher, defer: Defer): Promise<DesktopWindows> {
  const out = makeTempDir('sutazai-desktop-window-');
  defer(out.remove);
  // Its own build in its own folder: another build of dist/ at the same time cannot change it under the test.
  await buildAll({ only: ['renderer'], outDir: out.path, quiet: true });
  const rendererDir = path.join(out.path, 'renderer');

  const server = http.createServer((req, res) => {
    void (async () => {
      const requested = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const file = resolveStaticPath(rendererDir, requested === '/' ? '/index.html' : requested);
      const found = file !== null && (await stat(file).catch(() => null))?.isFile() === true;
      if (!found) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': contentTypeFor(file), ...RENDERER_SECURITY_HEADERS });
      createReadStream(file).pipe(res);
    })();
  });
  const sockets = new WebSocketServer({ server, path: PIPE_PATH });
  sockets.on('connection', (socket) => {
    // One pipe per window, as the main process gives each window its own.
    const connection = dispatcher.connect(
      (text) => socket.send(text),
      'port:test-window',
      desktopPipeGrants(createPipeSession()),
      'desktop',
    );
    socket.on('message', (data) => connection.receive(String(data)));
    socket.on('close', () => connection.close());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.clients) socket.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    async open(context) {
      const page = await context.newPage();
      // Stands in for the preload: bridges a MessageChannel to the pipe and posts one end to the page the way electron/preload does.
      await page.addInitScript((pipePath) => {
        (window as unknown as { sutazaiShell: unknown }).sutazaiShell = Object.freeze({
          kind: 'electron',
          requestBackendPort() {
            const socket = new WebSocket(`ws://${location.host}${pipePath}`);
            const channel = new MessageChannel();
            socket.onmessage = (event) => channel.port1.postMessage(event.data);
            channel.port1.onmessage = (event) => socket.send(event.data as string);
            socket.onopen = () => window.postMessage({ type: 'sutazai:backend-port' }, location.origin, [channel.port2]);
          },
        });
      }, PIPE_PATH);
      await gotoPage(page, `${origin}/`, { waitUntil: 'load' });
      return page;
    },
  };
}

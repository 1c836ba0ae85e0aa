import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_SUBPROTOCOL, MAX_MESSAGE_BYTES, type ApiErrorBody } from '../../contract';
import { RENDERER_SECURITY_HEADERS } from '../../shared-node/content-security-policy';
import type { Dispatcher, DispatcherLogger } from './dispatcher';
import { ERROR_PAGE_HEADERS, errorPage } from './error-page';
import { contentTypeFor, resolveStaticPath } from '../../shared-node/static-path';
import { isLoopbackHost, isOwnOrigin, socketAuthorized } from './web-auth';

export interface WebServerOptions {
  dispatcher: Dispatcher;
  rendererDir: string;
  token: string;
  /** 0 picks a free port. */
  port: number;
  logger: DispatcherLogger & { info(details: object, message: string): void };
}

export interface WebServer {
  readonly port: number;
  /** The address to open, token included: print it, never log it. The page takes the token from it once. */
  readonly url: string;
  readonly connectionCount: number;
  close(): Promise<void>;
}

/**
 * Web mode: the renderer and the WebSocket end of the API on 127.0.0.1 only. The API
 * socket needs the token, offered as a subprotocol in its handshake; the page's files
 * are served without it, since they hold no secret and a cookie to carry the token
 * would reach every other program on 127.0.0.1 (cookies are not bound to a port).
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { dispatcher, logger, token } = options;
  // Who acts through this server's sockets, in the record of actions: the session, named without its secret.
  const actor = `web:${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
  let port = options.port;
  // ws closes the socket on frames over maxPayload; we keep some headroom above the
  // contract's limit so an oversized message gets a structured error instead.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES * 8,
    // Answer with the API's subprotocol, never with the one that carries the token.
    handleProtocols: (protocols) => (protocols.has(API_SUBPROTOCOL) ? API_SUBPROTOCOL : false),
  });
  const sockets = new Set<WebSocket>();

  const server = http.createServer((req, res) => {
    void serveHttp(req, res).catch((error) => {
      logger.error({ err: error }, 'web request failed');
      if (!res.headersSent) sendError(res, 500, { code: 'INTERNAL', message: 'The request failed.', remedy: 'Reload the page.' });
      else res.destroy();
    });
  });

  async function serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const html = (req.headers.accept ?? '').includes('text/html');
    if (!isLoopbackHost(req.headers.host, port)) {
      sendError(
        res,
        403,
        {
          code: 'UNAUTHORIZED',
          message: 'This server answers only to 127.0.0.1 and localhost.',
          remedy: 'Open the exact URL that `npm run web` printed.',
        },
        html,
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...RENDERER_SECURITY_HEADERS, Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolveStaticPath(options.rendererDir, url.pathname);
    const info = file ? await stat(file).catch(() => null) : null;
    if (!file || !info?.isFile()) {
      sendError(res, 404, { code: 'NOT_FOUND', message: `Nothing is served at ${url.pathname}.`, remedy: 'Open the app at /.' }, html);
      return;
    }
    const headers: Record<string, string> = {
      ...RENDERER_SECURITY_HEADERS,
      'Content-Type': contentTypeFor(file),
      'Content-Length': String(info.size),
      'Cache-Control': 'no-store',
    };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/api') return refuse(404, 'Not Found');
    if (!isLoopbackHost(req.headers.host, port) || !isOwnOrigin(req.headers.origin, port)) return refuse(403, 'Forbidden');
    if (!socketAuthorized(token, req.headers['sec-websocket-protocol'])) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const peer = `ws:${req.socket.remotePort ?? '?'}`;
      const connection = dispatcher.connect((text) => ws.send(text), peer, {}, actor);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return connection.receiveNonText('a binary frame');
        const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        connection.receive(buffer.toString('utf8'));
      });
      ws.on('close', () => {
        sockets.delete(ws);
        connection.close();
      });
      ws.on('error', (error) => logger.warn({ peer, err: String(error) }, 'websocket error'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ port }, 'web mode listening on 127.0.0.1');

  return {
    port,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    get connectionCount() {
      return sockets.size;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}

/** JSON for scripts; a plain page for a person who opened the address in a browser. */
function sendError(res: http.ServerResponse, status: number, body: ApiErrorBody, acceptsHtml = false): void {
  const text = acceptsHtml ? errorPage(status, body) : JSON.stringify({ error: body });
  res.writeHead(status, {
    ...(acceptsHtml ? ERROR_PAGE_HEADERS : RENDERER_SECURITY_HEADERS),
    'Content-Type': acceptsHtml ? 'text/html; charset=utf-8' : 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

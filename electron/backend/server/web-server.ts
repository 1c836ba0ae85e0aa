import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_SUBPROTOCOL, MAX_MESSAGE_BYTES, type ApiErrorBody } from '../../contract';
import { RENDERER_SECURITY_HEADERS } from '../../shared-node/content-security-policy';
import type { Dispatcher, DispatcherLogger } from './dispatcher';
import { ERROR_PAGE_HEADERS, errorPage } from './error-page';
import { contentTypeFor, resolveStaticPath } from '../../shared-node/static-path';
import { isLoopbackHost, isOwnOrigin, socketAuthorized, tokenMatches } from './web-auth';
import type { OneTimeFiles } from './one-time-files';
import {
  hostForUrl,
  isConfiguredHost,
  isConfiguredOrigin,
  HSTS_HEADER,
  sessionOriginRefusal,
  sessionCookieOf,
  signInOverHttp,
  signOutOverHttp,
  sourceAddress,
  webPipeSession,
  type SignInAnswer,
  type WebTeamOptions,
} from './web-team';

export interface WebServerOptions {
  dispatcher: Dispatcher;
  rendererDir: string;
  /** The launch token of loopback mode (one person); unused with `team`. */
  token: string;
  /** 0 picks a free port. */
  port: number;
  logger: DispatcherLogger & { info(details: object, message: string): void };
  /** Files the backend offers a browser once (Backend.downloads): served at /download/<id>. */
  downloads?: OneTimeFiles;
  /**
   * Web mode for a team (issue 14, item 5): HTTPS with this certificate, on `listen`, for the
   * configured names, and each person signs in as an operator (cookie sessions) instead of the
   * launch token.
   */
  team?: WebTeamOptions & {
    /** The address to listen on (`0.0.0.0`, `::`, or one of the machine's). */
    listen: string;
    tls: { cert: string | Buffer; key: string | Buffer };
  };
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
 * For a team (`team`): HTTPS on the configured address and names only, POST /session signs
 * a browser in as an operator (web-team.ts), and the socket opens for a live session's cookie.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { dispatcher, logger, token, team } = options;
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

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Team mode is HTTPS only: every answer tells the browser to keep to it (web-team.ts).
    if (team) for (const [name, value] of Object.entries(HSTS_HEADER)) res.setHeader(name, value);
    void serveHttp(req, res).catch((error) => {
      logger.error({ err: error }, 'web request failed');
      if (!res.headersSent) sendError(res, 500, { code: 'INTERNAL', message: 'The request failed.', remedy: 'Reload the page.' });
      else res.destroy();
    });
  };
  // TLS 1.2 at least: the team's passwords and session cookies cross the network.
  const server = team ? https.createServer({ ...team.tls, minVersion: 'TLSv1.2' }, onRequest) : http.createServer(onRequest);
  const hostAllowed = (host: string | undefined) => (team ? isConfiguredHost(host, team.names, port) : isLoopbackHost(host, port));
  const originAllowed = (origin: string | undefined) => (team ? isConfiguredOrigin(origin, team.names, port) : isOwnOrigin(origin, port));

  async function serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const html = (req.headers.accept ?? '').includes('text/html');
    if (!hostAllowed(req.headers.host)) {
      sendError(
        res,
        403,
        team
          ? {
              code: 'UNAUTHORIZED',
              message: `This server answers only to ${team.names.join(', ')}.`,
              remedy: `Open https://${hostForUrl(team.names[0] ?? 'localhost')}:${port}/, or ask whoever runs it to add the name you use (--name).`,
            }
          : {
              code: 'UNAUTHORIZED',
              message: 'This server answers only to 127.0.0.1 and localhost.',
              remedy: 'Open the exact URL that `npm run web` printed.',
            },
        html,
      );
      return;
    }
    if (team && url.pathname === '/session' && (req.method === 'POST' || req.method === 'DELETE')) {
      // A browser's POST carries Origin: another site's page may not sign a browser in or out here,
      // and a request with no Origin must say it is no browser (X-SutazAI-Client).
      const refusal = sessionOriginRefusal(req.headers, team.names, port);
      if (refusal !== null) {
        sendError(res, 403, refusal);
        return;
      }
      const answer =
        req.method === 'POST' ? await signInOverHttp(req, { dispatcher, sessions: team.sessions }) : signOutOverHttp(req, team.sessions);
      sendAnswer(res, answer);
      return;
    }
    if (url.pathname === UPLOAD_PATH && req.method === 'POST') {
      await serveUpload(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...RENDERER_SECURITY_HEADERS, Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname.startsWith(DOWNLOAD_PREFIX)) {
      // A download is served once: a HEAD (a link checker, a browser's look ahead) would use it up.
      if (req.method !== 'GET') {
        res.writeHead(405, { ...RENDERER_SECURITY_HEADERS, Allow: 'GET' }).end();
        return;
      }
      serveDownload(req, res, url.pathname.slice(DOWNLOAD_PREFIX.length), html);
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

  /**
   * GET /download/<id>: a file the backend offered to one pipe identity (support.download),
   * served once to the same one: a team's session by its cookie, loopback mode's tab by the
   * launch token in the X-SutazAI-Token header (never in the address). Anything else, or a
   * second fetch, finds nothing.
   */
  function serveDownload(req: http.IncomingMessage, res: http.ServerResponse, id: string, html: boolean): void {
    const who = requestActor(req);
    if (who === null) {
      sendError(
        res,
        401,
        {
          code: 'UNAUTHORIZED',
          message: 'A download is served only to the signed-in session that asked for it.',
          remedy: 'Download it again from the page.',
        },
        html,
      );
      return;
    }
    const offered = options.downloads?.take(id, who) ?? null;
    if (offered === null) {
      sendError(
        res,
        404,
        {
          code: 'NOT_FOUND',
          message: 'This download is not offered to this session (each is served once, for ten minutes).',
          remedy: 'Press Download again on the page for a new one.',
        },
        html,
      );
      return;
    }
    const remove = () => void rm(offered.file, { force: true }).catch(() => undefined);
    stat(offered.file).then(
      (info) => {
        res.writeHead(200, {
          ...RENDERER_SECURITY_HEADERS,
          'Content-Type': 'application/x-tar',
          'Content-Length': String(info.size),
          'Content-Disposition': `attachment; filename="${offered.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
          'Cache-Control': 'no-store',
        });
        const stream = createReadStream(offered.file);
        stream.on('error', () => res.destroy());
        res.on('close', remove);
        stream.pipe(res);
      },
      () => sendError(res, 404, { code: 'NOT_FOUND', message: 'The download is gone.', remedy: 'Press Download again on the page.' }, html),
    );
  }

  /** The pipe identity an HTTP request acts as: a team's live session by its cookie, loopback mode's by the token header; else null. */
  function requestActor(req: http.IncomingMessage): string | null {
    if (team) {
      const cookie = sessionCookieOf(req.headers.cookie);
      const webSession = cookie !== null ? team.sessions.byToken(cookie) : undefined;
      return webSession === undefined ? null : `web:session-${webSession.id}`;
    }
    return tokenMatches(token, headerValue(req.headers['x-sutazai-token'])) ? actor : null;
  }

  /**
   * POST /upload: a file the page sends for the backend to read (a support bundle to analyze),
   * held for the same session once (support.analyzeUpload takes it by the id answered). Only
   * from this server's own pages (Origin), up to UPLOAD_MAX_BYTES.
   */
  async function serveUpload(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const who = requestActor(req);
    if (!originAllowed(req.headers.origin) || who === null || !options.downloads) {
      sendError(res, 401, {
        code: 'UNAUTHORIZED',
        message: "Uploads are taken only from this app's own page, signed in.",
        remedy: 'Upload from the page.',
      });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (!(declared >= 0) || declared > UPLOAD_MAX_BYTES) {
      req.resume();
      sendError(res, 413, {
        code: 'SUPPORT_BUNDLE_TOO_LARGE',
        message: `An upload must say its length and be at most ${UPLOAD_MAX_BYTES / 1024 ** 3} GiB.`,
        remedy: 'Ask for a bundle collected with less log per process, or analyze it with `sutazai support analyze FILE`.',
      });
      return;
    }
    // One upload a session at a time, a few in all: each may hold a GiB of the data directory's disk.
    const release = options.downloads.receive(who);
    if (release === null) {
      req.resume();
      sendError(res, 429, {
        code: 'SUPPORT_UPLOAD_BUSY',
        message: 'Another upload is being received (one per session, a few at once).',
        remedy: 'Wait until the upload sent before is answered, then upload again.',
      });
      return;
    }
    let uploadId: string;
    try {
      const file = options.downloads.newFile('.tar');
      const out = await open(file, 'wx', 0o600);
      let received = 0;
      try {
        for await (const chunk of req as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (received > declared) throw new Error('the upload is longer than it said');
          await out.write(chunk);
        }
      } catch (error) {
        await out.close();
        await rm(file, { force: true });
        sendError(res, 400, {
          code: 'BAD_PARAMS',
          message: `The upload failed: ${(error as Error).message}.`,
          remedy: 'Upload the file again.',
        });
        return;
      }
      await out.close();
      const fileName = (headerValue(req.headers['x-file-name']) ?? 'uploaded.tar').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
      uploadId = options.downloads.offer(who, file, fileName);
    } finally {
      release();
    }
    const text = JSON.stringify({ uploadId });
    res.writeHead(200, {
      ...RENDERER_SECURITY_HEADERS,
      'Content-Type': 'application/json',
      'Content-Length': String(text.length),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/api') return refuse(404, 'Not Found');
    if (!hostAllowed(req.headers.host) || !originAllowed(req.headers.origin)) return refuse(403, 'Forbidden');
    // Team mode: the socket opens only for a live session's cookie, and acts as its operator; loopback: the launch token.
    const cookie = team ? sessionCookieOf(req.headers.cookie) : null;
    const webSession = team && cookie !== null ? team.sessions.byToken(cookie) : undefined;
    if (team ? webSession === undefined : !socketAuthorized(token, req.headers['sec-websocket-protocol']))
      return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const peer = team ? `wss:${sourceAddress(req)}:${req.socket.remotePort ?? '?'}` : `ws:${req.socket.remotePort ?? '?'}`;
      const connection = webSession
        ? dispatcher.connect(
            (text) => ws.send(text),
            peer,
            { session: webPipeSession(team!.sessions, webSession.id), address: sourceAddress(req) },
            `web:session-${webSession.id}`,
          )
        : dispatcher.connect((text) => ws.send(text), peer, {}, actor);
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
    server.listen(options.port, team?.listen ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  logger.info(
    { port, listen: team?.listen ?? '127.0.0.1', names: team?.names },
    team ? 'web mode for a team listening' : 'web mode listening on 127.0.0.1',
  );

  return {
    port,
    url: team ? `https://${hostForUrl(team.names[0] ?? 'localhost')}:${port}/` : `http://127.0.0.1:${port}/?token=${token}`,
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

/** Where a download is fetched, and an upload sent (server/one-time-files.ts holds both). */
const DOWNLOAD_PREFIX = '/download/';
const UPLOAD_PATH = '/upload';
/** The most an upload may be: a support bundle's own limit (its files together, 1 GiB) and its headers. */
const UPLOAD_MAX_BYTES = 1024 ** 3 + 64 * 1024 * 1024;

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

function sendAnswer(res: http.ServerResponse, answer: SignInAnswer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...RENDERER_SECURITY_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...(answer.setCookie ? { 'Set-Cookie': answer.setCookie } : {}),
  });
  res.end(text);
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

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, API_SUBPROTOCOL, isApiError, MAX_MESSAGE_BYTES, type ApiErrorBody, type MethodName } from '../../contract';
import { RENDERER_SECURITY_HEADERS } from '../../shared-node/content-security-policy';
import { createPipeSession, type Dispatcher, type DispatcherLogger } from './dispatcher';
import { ERROR_PAGE_HEADERS, errorPage } from './error-page';
import { contentTypeFor, resolveStaticPath } from '../../shared-node/static-path';
import { isLoopbackHost, isOwnOrigin, socketAuthorized, tokenMatches } from './web-auth';
import { UPLOAD_KINDS, type OneTimeFiles, type UploadKind } from './one-time-files';
import { checkUploadSpace, writeUploadBody } from './upload-body';
import { watchUploadRate } from './upload-rate-watchdog';
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
import {
  completeSecondStep,
  finishProviderSignIn,
  PROVIDER_CALLBACK_PATH,
  PROVIDER_INFO_PATH,
  PROVIDER_SECOND_STEP_PATH,
  PROVIDER_START_PATH,
  providerInfo,
  startProviderSignIn,
  type ProviderRouteDeps,
} from './web-team-provider';
import {
  beginEnrolmentOverHttp,
  cancelEnrolmentOverHttp,
  confirmEnrolmentOverHttp,
  ENROLMENT_PATH,
  ENROLMENT_SECRET_PATH,
  enrolmentWaiting,
} from './web-team-enrolment';

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
    if (!(req.url ?? '').startsWith(UPLOAD_PATH)) {
      // What Node's requestTimeout did for every request: a request still arriving after this long is cut.
      // (`complete`: the request arrived whole; a long download's answer is not cut.)
      const timer = setTimeout(() => {
        if (!req.complete) req.destroy();
      }, REQUEST_BODY_MS);
      timer.unref();
      res.once('close', () => clearTimeout(timer));
    }
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
  // Node's request timeout (300 s by default) would cut an upload of a GiB bundle over a slow link with a
  // bare 408: uploads have a minimum-rate watchdog instead (upload-rate-watchdog.ts), and every other
  // request still has REQUEST_BODY_MS to arrive whole (onRequest's timer).
  server.requestTimeout = 0;
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
    const providerDeps = (): ProviderRouteDeps => ({
      dispatcher,
      sessions: team!.sessions,
      provider: team!.provider ?? null,
      names: team!.names,
      port,
      log: (details, message) => logger.warn(details, message),
    });
    if (team && url.pathname === ENROLMENT_PATH && req.method === 'GET') {
      sendAnswer(res, enrolmentWaiting(req));
      return;
    }
    if (
      team &&
      (url.pathname === '/session' ||
        url.pathname === PROVIDER_SECOND_STEP_PATH ||
        url.pathname === ENROLMENT_PATH ||
        (url.pathname === ENROLMENT_SECRET_PATH && req.method === 'POST')) &&
      (req.method === 'POST' || req.method === 'DELETE')
    ) {
      // A browser's POST carries Origin: another site's page may not sign a browser in or out here,
      // and a request with no Origin must say it is no browser (X-SutazAI-Client).
      const refusal = sessionOriginRefusal(req.headers, team.names, port);
      if (refusal !== null) {
        sendError(res, 403, refusal);
        return;
      }
      const enrolmentDeps = { dispatcher, sessions: team.sessions };
      const answer =
        url.pathname === PROVIDER_SECOND_STEP_PATH
          ? await completeSecondStep(req, providerDeps())
          : url.pathname === ENROLMENT_SECRET_PATH
            ? await beginEnrolmentOverHttp(req, enrolmentDeps)
            : url.pathname === ENROLMENT_PATH
              ? req.method === 'POST'
                ? await confirmEnrolmentOverHttp(req, enrolmentDeps)
                : await cancelEnrolmentOverHttp(req, enrolmentDeps)
              : req.method === 'POST'
                ? await signInOverHttp(req, { dispatcher, sessions: team.sessions })
                : signOutOverHttp(req, team.sessions);
      sendAnswer(res, answer);
      return;
    }
    if (team && url.pathname.startsWith('/oidc/') && req.method === 'GET') {
      await serveProviderRoute(req, res, url, providerDeps(), html);
      return;
    }
    if (url.pathname === UPLOAD_PATH && req.method === 'POST') {
      await serveUpload(req, res, url.searchParams.get('kind'));
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
   * POST /upload?kind=support|config|bundle: a file the page sends for the backend to read (a
   * support bundle to analyze, a configuration file to review and import, a release bundle to
   * verify and import), held for the same session under the id answered, with its SHA-256 and
   * size. Only from this server's own pages (Origin), up to its kind's limit; streamed to disk
   * and hashed as it arrives, never held in memory; refused before a byte is read when the
   * disk has no room for it.
   */
  async function serveUpload(req: http.IncomingMessage, res: http.ServerResponse, kindName: string | null): Promise<void> {
    // A refused upload's body is not read (it may be GiBs): the answer closes the connection.
    const refuse = (status: number, body: ApiErrorBody) => {
      res.setHeader('Connection', 'close');
      res.on('finish', () => req.destroy());
      sendError(res, status, body);
    };
    if (!originAllowed(req.headers.origin)) {
      refuse(403, {
        code: 'UPLOAD_ORIGIN_REFUSED',
        message: "Uploads are taken only from this app's own page.",
        remedy: 'Upload from the page.',
      });
      return;
    }
    const who = requestActor(req);
    if (who === null) {
      refuse(401, {
        code: 'UNAUTHORIZED',
        message: 'Uploads are taken only from a signed-in page.',
        remedy: 'Sign in, then upload from the page.',
      });
      return;
    }
    if (!options.downloads) {
      refuse(503, {
        code: 'UPLOADS_UNAVAILABLE',
        message: 'This server takes no uploads.',
        remedy: 'Use the desktop app or the sutazai command on the control center machine.',
      });
      return;
    }
    const files = options.downloads;
    // An upload says what it is for; an older page that does not is sending a support bundle.
    const kind = (UPLOAD_KINDS as readonly string[]).includes(kindName ?? 'support') ? ((kindName ?? 'support') as UploadKind) : null;
    if (kind === null) {
      refuse(400, {
        code: 'BAD_PARAMS',
        message: `An upload is for one of ${UPLOAD_KINDS.join(', ')} (?kind=), not "${String(kindName).slice(0, 40)}".`,
        remedy: 'Upload from the page.',
      });
      return;
    }
    // Taken only from whoever may call the method it is for (role and access policy, as over the pipe):
    // a viewer may not fill the disk with bundles it may not import.
    try {
      if (team) {
        const webSession = team.sessions.byToken(sessionCookieOf(req.headers.cookie) ?? '');
        if (webSession === undefined) throw new Error('the session ended');
        dispatcher.checkMayCall(
          UPLOAD_METHOD[kind],
          { session: webPipeSession(team.sessions, webSession.id), address: sourceAddress(req) },
          who,
        );
      } else {
        // Loopback mode: the launch token is the person at this machine, and each tab signs in on its own socket,
        // so the request alone names no operator: the tab's permit (uploads.permit) says which one asked.
        const holder = files.permits.take(headerValue(req.headers['x-sutazai-upload-permit'])?.slice(0, 256) ?? '', who, kind);
        if (holder === null)
          throw new ApiError(
            'UNAUTHORIZED',
            'An upload is taken only with a fresh permit from the signed-in page that sends it.',
            'Reload the page, then upload again from it.',
          );
        const session = createPipeSession();
        if (holder.operatorId !== undefined) session.signIn(holder.operatorId);
        dispatcher.checkMayCall(UPLOAD_METHOD[kind], { session }, who);
      }
    } catch (error) {
      const body: ApiErrorBody = isApiError(error)
        ? { code: error.code, message: error.message, remedy: error.remedy }
        : { code: 'UNAUTHORIZED', message: 'Uploads are taken only from a signed-in page.', remedy: 'Sign in, then upload from the page.' };
      refuse(body.code === 'SIGN_IN_REQUIRED' || body.code === 'UNAUTHORIZED' ? 401 : 403, body);
      return;
    }
    const lengthHeader = req.headers['content-length'];
    if (lengthHeader === undefined) {
      refuse(411, {
        code: 'UPLOAD_LENGTH_REQUIRED',
        message: 'An upload must say its length (Content-Length) before it is sent.',
        remedy: 'Upload from the page (it says the length).',
      });
      return;
    }
    const declared = Number(lengthHeader);
    const limit = files.maxBytes(kind);
    if (!(declared >= 0) || declared > limit) {
      refuse(413, {
        code: 'UPLOAD_TOO_LARGE',
        message: `This upload is too large: a ${UPLOAD_WHAT[kind]} may be at most ${sizeText(limit)}.`,
        remedy: UPLOAD_TOO_LARGE_REMEDY[kind],
      });
      return;
    }
    // One upload a session at a time, a few in all, within one byte budget for every session: each may hold GiBs of the data directory's disk.
    const receiving = files.receive(who, declared);
    if ('refused' in receiving) {
      refuse(
        receiving.refused === 'busy' ? 429 : 507,
        receiving.refused === 'busy'
          ? {
              code: 'UPLOAD_BUSY',
              message: 'Another upload is being received (one per session, a few at once).',
              remedy: 'Wait until the upload sent before is answered, then upload again.',
            }
          : {
              code: 'UPLOAD_BUDGET_FULL',
              message: `The uploads held and being received, for every session together, leave no room for this one of ${sizeText(declared)}.`,
              remedy:
                'Import or finish with the files uploaded before (each is removed once used, or after ten minutes unused), then upload again.',
            },
      );
      return;
    }
    const watchdog = watchUploadRate();
    let answer: { uploadId: string; sha256: string; sizeBytes: number };
    try {
      const file = files.newFile(UPLOAD_EXTENSION[kind]);
      await checkUploadSpace(path.dirname(file), declared, receiving.othersDeclared);
      const written = await writeUploadBody(req, file, declared, watchdog);
      const fallback = `uploaded${UPLOAD_EXTENSION[kind]}`;
      const fileName = (headerValue(req.headers['x-file-name']) ?? fallback).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
      answer = { uploadId: files.hold(who, kind, { file, fileName, ...written }), ...written };
    } catch (error) {
      const body: ApiErrorBody = isApiError(error)
        ? { code: error.code, message: error.message, remedy: error.remedy }
        : { code: 'UPLOAD_FAILED', message: 'The upload could not be kept.', remedy: 'Upload the file again.' };
      if (!isApiError(error)) options.logger.warn({ err: String(error) }, 'an upload failed');
      refuse(
        body.code === 'UPLOAD_NO_SPACE' ? 507 : body.code === 'UPLOAD_FAILED' ? 500 : body.code === 'UPLOAD_TOO_SLOW' ? 408 : 400,
        body,
      );
      return;
    } finally {
      watchdog.stop();
      receiving.release();
    }
    const text = JSON.stringify(answer);
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
      // Upgrades that arrive from here on are answered 503 (ws refuses once closed).
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() ends idle connections only: one with a request in flight, or a keep-alive one
      // that a browser goes on reusing, would hold the stop for as long as it lasts (seen: over 10 s
      // of SIGTERM on a busy machine). A stopping server answers nothing more, so every one goes now.
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Where a download is fetched, and an upload sent (server/one-time-files.ts holds both). */
const DOWNLOAD_PREFIX = '/download/';
const UPLOAD_PATH = '/upload';
/** How long any request but an upload has to arrive whole (Node's own requestTimeout default). */
const REQUEST_BODY_MS = 300_000;
/** What each kind of upload is kept as, and called in a refusal. */
// A configuration upload may be a bundle or a YAML export: its content says which (a name ending .sutazai-config would insist on a bundle).
const UPLOAD_EXTENSION: Record<UploadKind, string> = { support: '.tar', config: '.upload', bundle: '.sutazai-bundle' };
/** The method each kind of upload is for: its sender must be allowed to call it (role, access policy). */
const UPLOAD_METHOD: Record<UploadKind, MethodName> = {
  support: 'support.analyzeUpload',
  config: 'configBundles.importUpload',
  bundle: 'bundles.importUpload',
};
const UPLOAD_WHAT: Record<UploadKind, string> = { support: 'support bundle', config: 'configuration file', bundle: 'release bundle' };
const UPLOAD_TOO_LARGE_REMEDY: Record<UploadKind, string> = {
  support: 'Ask for a bundle collected with less log per process, or analyze it with `sutazai support analyze FILE`.',
  config: 'Choose a .sutazai-config bundle or an exported .yaml file; a larger file is not one.',
  bundle: 'Copy the bundle to the control center’s machine and import it there: `sutazai bundle import FILE` or the desktop app.',
};

function sizeText(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(bytes % 1024 ** 3 === 0 ? 0 : 2)} GiB`
    : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** /oidc/start, /oidc/callback and /oidc/provider of web mode for a team (web-team-provider.ts). */
async function serveProviderRoute(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  deps: ProviderRouteDeps,
  html: boolean,
): Promise<void> {
  const answer =
    url.pathname === PROVIDER_START_PATH
      ? await startProviderSignIn(req, deps)
      : url.pathname === PROVIDER_CALLBACK_PATH
        ? await finishProviderSignIn(req, url, deps)
        : url.pathname === PROVIDER_INFO_PATH
          ? providerInfo(req, deps)
          : null;
  if (answer === null) {
    sendError(res, 404, { code: 'NOT_FOUND', message: `Nothing is served at ${url.pathname}.`, remedy: 'Open the app at /.' }, html);
    return;
  }
  if (answer.kind === 'json') return sendAnswer(res, answer.answer);
  if (answer.kind === 'redirect') {
    res.writeHead(302, {
      ...RENDERER_SECURITY_HEADERS,
      Location: answer.location,
      'Cache-Control': 'no-store',
      'Set-Cookie': answer.setCookies,
    });
    res.end();
    return;
  }
  res.setHeader('Set-Cookie', answer.setCookies);
  // A person arrives here from the provider in a browser: the page says why, with the remedy; a script gets JSON.
  // A link back to the sign-in page: the remedy says to start again there.
  sendError(res, answer.status, answer.error, html, { href: '/', label: 'Back to sign-in' });
}

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
function sendError(
  res: http.ServerResponse,
  status: number,
  body: ApiErrorBody,
  acceptsHtml = false,
  back?: Parameters<typeof errorPage>[2],
): void {
  const text = acceptsHtml ? errorPage(status, body, back) : JSON.stringify({ error: body });
  res.writeHead(status, {
    ...(acceptsHtml ? ERROR_PAGE_HEADERS : RENDERER_SECURITY_HEADERS),
    'Content-Type': acceptsHtml ? 'text/html; charset=utf-8' : 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

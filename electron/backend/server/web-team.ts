import type http from 'node:http';
import { ApiError, type ApiErrorBody } from '../../contract';
import { WEB_ENROLMENT_MS } from '../app/web-enrolment';
import type { ProviderSignIn } from '../oidc/oidc-sign-in';
import type { WebSessions } from '../operators/web-sessions';
import { createPipeSession, type Dispatcher, type PipeSession } from './dispatcher';

/**
 * The browser's session cookie. `__Host-` makes the browser keep it only when it was set
 * Secure, with Path=/ and no Domain: it goes back over HTTPS to this host name alone, never to
 * a sibling or parent domain. Not to this port alone, though: cookies are not bound to a port,
 * so any other HTTPS service under the same name receives it too (README says so).
 */
export const SESSION_COOKIE = '__Host-sutazai-session';

/** A sign-in request's body: a name, a password and a code fit in far less. */
const MAX_SIGN_IN_BYTES = 8 * 1024;

export interface WebTeamOptions {
  /** The names (DNS or IP) browsers reach this server by: only these are answered (DNS-rebinding protection). */
  readonly names: readonly string[];
  readonly sessions: WebSessions;
  /** Sign-in through the site's OpenID Connect provider (web-team-provider.ts), when it is set up. */
  readonly provider?: ProviderSignIn | null;
}

/** A request's source address, as sign-in failures are counted by (IPv4 without its IPv6 wrapping). */
export function sourceAddress(req: http.IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Whether the Host header names this server as configured (a rebinding page arrives with its own name). */
export function isConfiguredHost(hostHeader: string | undefined, names: readonly string[], port: number): boolean {
  if (hostHeader === undefined) return false;
  const host = hostHeader.toLowerCase();
  // A client may write HTTPS's own port or leave it out.
  return names.some((name) => host === authorityOf(name, port) || host === `${hostForUrl(name).toLowerCase()}:${port}`);
}

/** A browser sends Origin on a WebSocket upgrade and on a POST: it must be this server's own HTTPS origin. */
export function isConfiguredOrigin(origin: string | undefined, names: readonly string[], port: number): boolean {
  if (origin === undefined) return true; // non-browser clients (tests, scripts) send none; the cookie is what they need
  return names.some((name) => origin.toLowerCase() === `https://${authorityOf(name, port)}`);
}

/**
 * The header a client that is not a browser (a script, a monitoring probe) sends on POST and
 * DELETE /session instead of Origin, naming itself: `X-SutazAI-Client: NAME`. Every browser
 * sends Origin on a POST, so a sign-in with neither is refused. A page of another site cannot
 * add this header: a custom header makes the browser ask first (CORS preflight, OPTIONS), which
 * this server never allows, and the browser then sends nothing.
 */
export const NON_BROWSER_CLIENT_HEADER = 'x-sutazai-client';

/** Why a sign-in or sign-out request's origin is refused, or null: a configured Origin, or no Origin and the non-browser header. */
export function sessionOriginRefusal(headers: http.IncomingHttpHeaders, names: readonly string[], port: number): ApiErrorBody | null {
  const origin = headers.origin;
  if (origin === undefined) {
    const client = headers[NON_BROWSER_CLIENT_HEADER];
    if (typeof client === 'string' && client.trim() !== '') return null;
    return {
      code: 'UNAUTHORIZED',
      message: 'A sign-in request without an Origin header is refused: every browser sends one.',
      remedy: `Sign in on this server's own page; a script or other client that is not a browser sends the header X-SutazAI-Client: <its name> instead.`,
    };
  }
  if (isConfiguredOrigin(origin, names, port)) return null;
  return { code: 'UNAUTHORIZED', message: 'A sign-in from another site is refused.', remedy: "Sign in on this server's own page." };
}

/**
 * HTTP Strict Transport Security for team mode: a browser that once reached this name over
 * HTTPS refuses plain HTTP to it for a year, so a network attacker cannot strip TLS from a
 * later visit. Not includeSubDomains: other services under the same domain are not ours to
 * bind to HTTPS.
 */
export const HSTS_HEADER = { 'Strict-Transport-Security': 'max-age=31536000' } as const;

/** A name and port as a browser writes them in Host and Origin: without the port where it is HTTPS's own (443). */
export function authorityOf(name: string, port: number): string {
  const host = hostForUrl(name).toLowerCase();
  return port === 443 ? host : `${host}:${port}`;
}

/** An IPv6 address in a URL or Host header is written in brackets. */
export function hostForUrl(name: string): string {
  return name.includes(':') ? `[${name}]` : name;
}

/** The session cookie's secret in a Cookie header, or null. */
export function sessionCookieOf(cookieHeader: string | undefined): string | null {
  return cookieOf(cookieHeader, SESSION_COOKIE) || null;
}

/** The value of the cookie `name` in a Cookie header ('' when it is not there). */
export function cookieOf(cookieHeader: string | undefined, name: string): string {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return '';
}

/**
 * The Set-Cookie that carries a new session to the browser. HttpOnly: the page's script never
 * reads it (an injected script cannot carry it off). Secure: only over TLS, which team mode
 * always is. SameSite=Strict: another site's page cannot make the browser send it, so a
 * cross-site request arrives signed out. On loopback these would not be enough (cookies are
 * not bound to a port, and every program on 127.0.0.1 would be "same site"), which is why the
 * launch-token mode offers its token as a WebSocket subprotocol instead; here the name is the
 * team server's own over HTTPS, and the cookie goes only to HTTPS services under that name.
 */
export function sessionCookie(token: string, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; Secure; HttpOnly; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`;
}

/**
 * The cookie that holds a forced two-factor enrolment's ticket (app/web-enrolment.ts) between
 * a right password (or provider sign-in) and the first code, when web mode requires two-factor
 * sign-in. As the session cookie: HttpOnly (the page never reads it), Secure, SameSite=Strict
 * (only this server's own page sends it), `__Host-` (this host name only); for 5 minutes.
 */
export const ENROLMENT_COOKIE = '__Host-sutazai-enrolment';

export function enrolmentCookie(ticket: string, maxAgeMs: number): string {
  return `${ENROLMENT_COOKIE}=${ticket}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; Secure; HttpOnly; SameSite=Strict`;
}

/** The answer of a sign-in that waits for the operator's enrolment: its ticket goes in the cookie, never in the body. */
export function enrolmentAskedOf(result: unknown): { ticket: string; operator: string; expiresAt: number } | null {
  const asked = (result as { enrolment?: { ticket?: unknown; operator?: unknown; expiresAt?: unknown } } | null)?.enrolment;
  return typeof asked?.ticket === 'string' && typeof asked.operator === 'string' && typeof asked.expiresAt === 'number'
    ? { ticket: asked.ticket, operator: asked.operator, expiresAt: asked.expiresAt }
    : null;
}

/**
 * The sign-in of one browser session as the dispatcher sees it: who it is is read from the
 * store at every call (a revoked, expired or signed-out session acts as no one at once), a
 * call moves its idle expiry, and signing out ends it.
 */
export function webPipeSession(sessions: WebSessions, id: number): PipeSession {
  return {
    webSessionId: id,
    get operatorId() {
      return sessions.operatorOf(id);
    },
    touch: () => sessions.touch(id),
    get stepUpUntil() {
      return sessions.stepUpUntil(id);
    },
    markStepUp: (until) => sessions.markStepUp(id, until),
    signIn: () => {
      // session.signIn refuses a web session's pipe before it gets here (operator-handlers.ts).
    },
    signOut: () => void sessions.end(id, 'signed out'),
  };
}

/** What answers a browser's sign-in: the status, the JSON body, and the cookie when it worked. */
export interface SignInAnswer {
  status: number;
  body: unknown;
  setCookie?: string | string[];
}

/**
 * POST /session: { name, password, code? } signs the browser in. It goes through the
 * dispatcher's session.signIn on a pipe of its own (the same checks, rate limit and audit
 * entry as every sign-in, with this request's address), and, when it worked, a web session
 * is made for the operator it signed in as.
 */
export async function signInOverHttp(
  req: http.IncomingMessage,
  deps: { dispatcher: Dispatcher; sessions: WebSessions },
): Promise<SignInAnswer> {
  const address = sourceAddress(req);
  let params: unknown;
  try {
    params = JSON.parse(await readBody(req, MAX_SIGN_IN_BYTES));
  } catch (error) {
    return failure(
      error instanceof ApiError
        ? error.toBody()
        : { code: 'BAD_JSON', message: 'The sign-in request is not valid JSON.', remedy: 'Send { "name", "password", "code"? } as JSON.' },
    );
  }
  // A code typed with the password is this browser session's step-up too (step-up.ts), caught as it is marked.
  let stepUpUntil: number | undefined;
  const login = withStepUpMark(createPipeSession(), (until) => void (stepUpUntil = until), true);
  const answer = await callOnce(
    deps.dispatcher,
    { session: login, address },
    `https:${address}:${req.socket.remotePort ?? '?'}`,
    'session.signIn',
    params,
  );
  if (!answer.ok) return failure(answer.error);
  // Two-factor sign-in is required here and the operator has none: no session yet; the page walks them through enrolment.
  const enrolment = enrolmentAskedOf(answer.result);
  if (enrolment !== null)
    return {
      status: 200,
      body: { enrolment: { operator: enrolment.operator, expiresAt: enrolment.expiresAt } },
      // The ticket's own lifetime, not a difference of clocks (the backend's may be another than this one's).
      setCookie: enrolmentCookie(enrolment.ticket, WEB_ENROLMENT_MS),
    };
  const operatorId = login.operatorId;
  if (operatorId === undefined) return failure({ code: 'INTERNAL', message: 'The sign-in left no operator.', remedy: 'Try again.' });
  const userAgent = String(req.headers['user-agent'] ?? '');
  const { token, createdAt, expiresAt } = deps.sessions.create(operatorId, { address, userAgent }, stepUpUntil);
  return { status: 200, body: answer.result, setCookie: sessionCookie(token, expiresAt - createdAt) };
}

/** The same sign-in, told when a code is proved on it (written out: a spread would copy the operator getter's value once). */
function withStepUpMark(session: PipeSession, markStepUp: (until: number) => void, teamSignInPage = false): PipeSession {
  return {
    teamSignInPage,
    signIn: (id) => session.signIn(id),
    signOut: () => session.signOut(),
    get operatorId() {
      return session.operatorId;
    },
    markStepUp,
  };
}

/** DELETE /session: ends the browser's session (if live) and clears its cookie. */
export function signOutOverHttp(req: http.IncomingMessage, sessions: WebSessions): SignInAnswer {
  const token = sessionCookieOf(req.headers.cookie);
  const live = token === null ? undefined : sessions.byToken(token);
  if (live) sessions.end(live.id, 'signed out');
  return { status: 200, body: { signedOut: live !== undefined }, setCookie: clearedSessionCookie() };
}

function failure(error: ApiErrorBody): SignInAnswer {
  const status =
    error.code === 'SIGN_IN_THROTTLED'
      ? 429
      : error.code === 'SIGN_IN_FAILED' || error.code === 'MFA_REQUIRED'
        ? 401
        : error.code === 'INTERNAL'
          ? 500
          : 400;
  return { status, body: { error } };
}

/**
 * A method that signs in by a two-factor code (a provider sign-in's second step, a forced
 * enrolment's first code), called on a pipe of its own: the answer, the operator it signed in
 * and the step-up the code marked (step-up.ts: the code counts as the session's step-up).
 */
export async function callSigningInByCode(
  dispatcher: Dispatcher,
  req: http.IncomingMessage,
  method: string,
  params: unknown,
): Promise<{ answer: Awaited<ReturnType<typeof callOnce>>; operatorId: number | undefined; stepUpUntil: number | undefined }> {
  let stepUpUntil: number | undefined;
  const login = withStepUpMark(createPipeSession(), (until) => void (stepUpUntil = until));
  const answer = await callOnce(dispatcher, { session: login, address: sourceAddress(req) }, peerOf(req), method, params);
  return { answer, operatorId: login.operatorId, stepUpUntil };
}

/**
 * The browser's session for an operator a ticket's code just signed in: an earlier session of
 * this browser ends (its cookie is replaced, and a copy of it must not stay live). The cookie.
 */
export function startBrowserSession(
  req: http.IncomingMessage,
  sessions: WebSessions,
  operatorId: number,
  stepUpUntil: number | undefined,
  endedBecause: string,
): string {
  const earlier = sessions.byToken(sessionCookieOf(req.headers.cookie) ?? '');
  if (earlier) sessions.end(earlier.id, endedBecause);
  const { token, createdAt, expiresAt } = sessions.create(
    operatorId,
    { address: sourceAddress(req), userAgent: String(req.headers['user-agent'] ?? '') },
    stepUpUntil,
  );
  return sessionCookie(token, expiresAt - createdAt);
}

/** A method that signs no one in (a ticket's secret asked for, a ticket ended), on a pipe of its own. */
export function callWithoutSignIn(
  dispatcher: Dispatcher,
  req: http.IncomingMessage,
  method: string,
  params: unknown,
): ReturnType<typeof callOnce> {
  return callOnce(dispatcher, { session: createPipeSession(), address: sourceAddress(req) }, peerOf(req), method, params);
}

/** How a browser's request names its end of the connection on the dispatcher. */
export function peerOf(req: http.IncomingMessage): string {
  return `https:${sourceAddress(req)}:${req.socket.remotePort ?? '?'}`;
}

/** One request on a pipe of its own, closed after its answer. */
export function callOnce(
  dispatcher: Dispatcher,
  grants: { session: PipeSession; address: string },
  peer: string,
  method: string,
  params: unknown,
): Promise<{ ok: true; result: unknown } | { ok: false; error: ApiErrorBody }> {
  return new Promise((resolve) => {
    const connection = dispatcher.connect(
      (text) => {
        const message = JSON.parse(text) as { type: string; ok?: boolean; result?: unknown; error?: ApiErrorBody };
        if (message.type !== 'response') return;
        connection.close();
        resolve(message.ok ? { ok: true, result: message.result } : { ok: false, error: message.error! });
      },
      peer,
      grants,
      `web:${grants.address}`,
    );
    connection.receive(JSON.stringify({ type: 'request', id: 1, method, params }));
  });
}

/** A sign-in request's body as text, at most `limit` bytes (MESSAGE_TOO_LARGE past it). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ApiError('MESSAGE_TOO_LARGE', `A sign-in request over ${limit} bytes.`, 'Send only a name, a password and a code.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Web mode for a team: signing a browser in through the site's OpenID Connect provider
 * (oidc/oidc-sign-in.ts has the flow). GET /oidc/start sends the browser to the provider
 * with a fresh state, nonce and PKCE challenge, and gives it a cookie that binds the attempt
 * to this browser; GET /oidc/callback takes the provider's answer back through the
 * dispatcher (session.completeProviderSignIn: the same rate limit and audit entry as every
 * sign-in) and, when it worked, makes the browser's session as POST /session does.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { ApiError, type ApiErrorBody } from '../../contract';
import { providerErrorCode, type ProviderSignIn } from '../oidc/oidc-sign-in';
import { createPipeSession, type Dispatcher } from './dispatcher';
import { authorityOf, callOnce, isConfiguredHost, sessionCookie, sessionCookieOf, sourceAddress, type SignInAnswer } from './web-team';
import { addressKeyOf } from '../operators/sign-in-limiter';
import type { WebSessions } from '../operators/web-sessions';

export const PROVIDER_START_PATH = '/oidc/start';
export const PROVIDER_CALLBACK_PATH = '/oidc/callback';
export const PROVIDER_INFO_PATH = '/oidc/provider';

/**
 * The cookie that binds a sign-in attempt to the browser that started it. SameSite=Lax, not
 * Strict: the provider sends the browser back by a cross-site navigation, on which a Strict
 * cookie would not be sent; Lax goes with top-level GETs only, and the value is useless
 * without the state the same attempt was given.
 */
export const PROVIDER_BINDING_COOKIE = '__Host-sutazai-oidc';

function bindingCookie(value: string, maxAgeS: number): string {
  return `${PROVIDER_BINDING_COOKIE}=${value}; Path=/; Max-Age=${maxAgeS}; Secure; HttpOnly; SameSite=Lax`;
}

function bindingOf(cookieHeader: string | undefined): string {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === PROVIDER_BINDING_COOKIE) return value.join('=');
  }
  return '';
}

/** What a provider route answers: a redirect, JSON, or an error for a person (the caller renders the page). */
export type ProviderAnswer =
  | { kind: 'redirect'; location: string; setCookies: string[] }
  | { kind: 'json'; answer: SignInAnswer }
  | { kind: 'error'; status: number; error: ApiErrorBody; setCookies: string[] };

export interface ProviderRouteDeps {
  dispatcher: Dispatcher;
  sessions: WebSessions;
  /** Null when this control center has no provider sign-in (or its settings do not load). */
  provider: ProviderSignIn | null;
  /** The names (--name) and port this server answers to: the callback URL is built from them. */
  names: readonly string[];
  port: number;
  /** Where the reason of a refused sign-in goes, under the reference the browser is shown. */
  log?: (details: object, message: string) => void;
}

/**
 * What a browser that is not signed in is told of a failed provider sign-in: that it failed,
 * and a reference under which the reason is in the log (an admin reads it there).
 */
function withheld(error: ApiErrorBody, deps: ProviderRouteDeps): ApiErrorBody {
  const reference = randomBytes(6).toString('hex');
  deps.log?.({ reference, code: error.code, reason: error.message }, 'provider sign-in refused');
  return {
    code: error.code === 'INTERNAL' ? 'INTERNAL' : 'OIDC_SIGN_IN_FAILED',
    message: `The sign-in through the provider did not work (reference ${reference}).`,
    remedy:
      "Start again from the sign-in page. If it keeps failing, give an admin the reference: the reason is in the control center's log.",
  };
}

/** GET /oidc/provider: the button's words, or null (the sign-in page asks before it has a socket). */
export function providerInfo(deps: ProviderRouteDeps): ProviderAnswer {
  return { kind: 'json', answer: { status: 200, body: { displayName: deps.provider?.displayName ?? null } } };
}

/** GET /oidc/start: a new attempt, the browser sent to the provider with the binding cookie. */
export async function startProviderSignIn(req: http.IncomingMessage, deps: ProviderRouteDeps): Promise<ProviderAnswer> {
  if (deps.provider === null)
    return {
      kind: 'error',
      status: 404,
      error: {
        code: 'OIDC_SIGN_IN_NOT_CONFIGURED',
        message: 'This control center signs no one in through a provider.',
        remedy: 'Sign in with your operator name and password.',
      },
      setCookies: [],
    };
  // The callback URL is built from the configured name the Host header matched (checked before
  // this route), in one fixed form: never from the header's own text.
  const host = (req.headers.host ?? '').toLowerCase();
  const name = deps.names.find((candidate) => isConfiguredHost(host, [candidate], deps.port));
  if (name === undefined)
    return {
      kind: 'error',
      status: 421,
      error: {
        code: 'BAD_PARAMS',
        message: 'This server does not answer to that name.',
        remedy: 'Open the control center at the name it was set up with.',
      },
      setCookies: [],
    };
  try {
    const { url, binding } = await deps.provider.begin(
      `https://${authorityOf(name, deps.port)}${PROVIDER_CALLBACK_PATH}`,
      addressKeyOf(sourceAddress(req)),
    );
    return { kind: 'redirect', location: url, setCookies: [bindingCookie(binding, 300)] };
  } catch (error) {
    const body =
      error instanceof ApiError
        ? error.toBody()
        : { code: 'INTERNAL' as const, message: 'The sign-in could not start.', remedy: 'Try again.' };
    return { kind: 'error', status: 502, error: withheld(body, deps), setCookies: [] };
  }
}

/** GET /oidc/callback: the provider's answer checked through the dispatcher; a session cookie when it worked. */
export async function finishProviderSignIn(req: http.IncomingMessage, url: URL, deps: ProviderRouteDeps): Promise<ProviderAnswer> {
  const cleared = bindingCookie('', 0);
  const providerError = url.searchParams.get('error');
  if (providerError !== null)
    return {
      kind: 'error',
      status: 401,
      error: {
        code: 'OIDC_SIGN_IN_FAILED',
        message: `The provider did not sign you in (${providerErrorCode(providerError)}).`,
        remedy: 'Return to the sign-in page and try again.',
      },
      setCookies: [cleared],
    };
  const address = sourceAddress(req);
  const login = createPipeSession();
  const params = {
    state: (url.searchParams.get('state') ?? '').slice(0, 256),
    code: (url.searchParams.get('code') ?? '').slice(0, 4096),
    // No cookie (another browser, or it expired): a value that binds nothing, refused with the reason after the state is taken.
    binding: bindingOf(req.headers.cookie).slice(0, 256) || 'none',
  };
  const answer = await callOnce(
    deps.dispatcher,
    { session: login, address },
    `https:${address}:${req.socket.remotePort ?? '?'}`,
    'session.completeProviderSignIn',
    params,
  );
  if (!answer.ok)
    return {
      kind: 'error',
      status: answer.error.code === 'SIGN_IN_THROTTLED' ? 429 : answer.error.code === 'INTERNAL' ? 500 : 401,
      // The wait is the caller's own to know; any other reason would tell a stranger which operators exist, are
      // disabled or have two-factor sign-in, and the provider's internals: it goes to the log under a reference.
      error: answer.error.code === 'SIGN_IN_THROTTLED' ? answer.error : withheld(answer.error, deps),
      setCookies: [cleared],
    };
  const operatorId = login.operatorId;
  if (operatorId === undefined)
    return {
      kind: 'error',
      status: 500,
      error: { code: 'INTERNAL', message: 'The sign-in left no operator.', remedy: 'Try again.' },
      setCookies: [cleared],
    };
  // The browser's earlier session (another operator's, maybe) ends: its cookie is replaced, and a copy of it must not stay live.
  const earlier = deps.sessions.byToken(sessionCookieOf(req.headers.cookie) ?? '');
  if (earlier) deps.sessions.end(earlier.id, 'signed in again through the provider');
  const { token, createdAt, expiresAt } = deps.sessions.create(operatorId, { address, userAgent: String(req.headers['user-agent'] ?? '') });
  return { kind: 'redirect', location: '/', setCookies: [cleared, sessionCookie(token, expiresAt - createdAt)] };
}

/**
 * Web mode for a team: signing a browser in through the site's OpenID Connect provider
 * (oidc/oidc-sign-in.ts has the flow). GET /oidc/start sends the browser to the provider
 * with a fresh state, nonce and PKCE challenge, and gives it a cookie that binds the attempt
 * to this browser; GET /oidc/callback takes the provider's answer back through the
 * dispatcher (session.completeProviderSignIn: the same rate limit and audit entry as every
 * sign-in) and, when it worked, makes the browser's session as POST /session does. An operator
 * with this control center's two-factor sign-in whose provider attested no second factor gets
 * a second step instead: a ticket in an HttpOnly cookie, and the sign-in page asks for the code
 * (POST /oidc/second-step, session.completeProviderSecondStep); only a right code makes the session.
 * Where web mode requires two-factor sign-in, an operator without it is sent back to the page
 * with a set-up's ticket instead (web-team-enrolment.ts), and enrols before any session.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { ApiError, type ApiErrorBody } from '../../contract';
import { SECOND_STEP_ENDED_REMEDY } from '../app/provider-second-step';
import { WEB_ENROLMENT_MS } from '../app/web-enrolment';
import { providerErrorCode, type ProviderSignIn } from '../oidc/oidc-sign-in';
import { createPipeSession, type Dispatcher, type PipeSession } from './dispatcher';
import {
  authorityOf,
  callOnce,
  callSigningInByCode,
  callWithoutSignIn,
  cookieOf,
  enrolmentAskedOf,
  enrolmentCookie,
  isConfiguredHost,
  peerOf,
  readBody,
  sourceAddress,
  startBrowserSession,
  type SignInAnswer,
} from './web-team';
import { addressKeyOf } from '../operators/sign-in-limiter';
import type { WebSessions } from '../operators/web-sessions';

export const PROVIDER_START_PATH = '/oidc/start';
export const PROVIDER_CALLBACK_PATH = '/oidc/callback';
export const PROVIDER_INFO_PATH = '/oidc/provider';
export const PROVIDER_SECOND_STEP_PATH = '/oidc/second-step';

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

/**
 * The cookie that holds a provider sign-in's second-step ticket (provider-second-step.ts) until
 * the code is typed. SameSite=Strict: it is only ever sent by this server's own page (the
 * code's POST), never on a navigation from another site; HttpOnly: the page never reads it.
 */
export const SECOND_STEP_COOKIE = '__Host-sutazai-second-step';

function secondStepCookie(value: string, maxAgeS: number): string {
  return `${SECOND_STEP_COOKIE}=${value}; Path=/; Max-Age=${maxAgeS}; Secure; HttpOnly; SameSite=Strict`;
}

function bindingOf(cookieHeader: string | undefined): string {
  return cookieOf(cookieHeader, PROVIDER_BINDING_COOKIE);
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

/**
 * GET /oidc/provider: the button's words, or null (the sign-in page asks before it has a
 * socket), and whether this browser holds a second step's ticket (the page then asks for the
 * code; whether the ticket is still live is known when the code is sent).
 */
export function providerInfo(req: http.IncomingMessage, deps: ProviderRouteDeps): ProviderAnswer {
  const secondStep = deps.provider !== null && cookieOf(req.headers.cookie, SECOND_STEP_COOKIE) !== '';
  return { kind: 'json', answer: { status: 200, body: { displayName: deps.provider?.displayName ?? null, secondStep } } };
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
  // The sign-in page of web mode for a team: where two-factor sign-in is required there, an operator without it enrols first.
  const pipe = createPipeSession();
  // (Written out: a spread would copy the operator getter's value once.)
  const login: PipeSession = {
    signIn: (id) => pipe.signIn(id),
    signOut: () => pipe.signOut(),
    get operatorId() {
      return pipe.operatorId;
    },
    teamSignInPage: true,
  };
  const params = {
    state: (url.searchParams.get('state') ?? '').slice(0, 256),
    code: (url.searchParams.get('code') ?? '').slice(0, 4096),
    // No cookie (another browser, or it expired): a value that binds nothing, refused with the reason after the state is taken.
    binding: bindingOf(req.headers.cookie).slice(0, 256) || 'none',
  };
  const answer = await callOnce(deps.dispatcher, { session: login, address }, peerOf(req), 'session.completeProviderSignIn', params);
  if (!answer.ok)
    return {
      kind: 'error',
      status: answer.error.code === 'SIGN_IN_THROTTLED' ? 429 : answer.error.code === 'INTERNAL' ? 500 : 401,
      // The wait is the caller's own to know; any other reason would tell a stranger which operators exist, are
      // disabled or have two-factor sign-in, and the provider's internals: it goes to the log under a reference.
      error: answer.error.code === 'SIGN_IN_THROTTLED' ? answer.error : withheld(answer.error, deps),
      setCookies: [cleared],
    };
  // Web mode requires two-factor sign-in and the operator has none: the sign-in page finds the set-up's cookie and walks them through it.
  const enrolment = enrolmentAskedOf(answer.result);
  if (enrolment !== null)
    return { kind: 'redirect', location: '/', setCookies: [cleared, enrolmentCookie(enrolment.ticket, WEB_ENROLMENT_MS)] };
  const waiting = (answer.result as { secondStep?: { ticket?: unknown; expiresAt?: unknown } }).secondStep;
  if (typeof waiting?.ticket === 'string' && typeof waiting.expiresAt === 'number') {
    // The operator's code must follow: the sign-in page finds the ticket's cookie and asks for it.
    const maxAgeS = Math.max(1, Math.floor((waiting.expiresAt - Date.now()) / 1000));
    return { kind: 'redirect', location: '/', setCookies: [cleared, secondStepCookie(waiting.ticket, maxAgeS)] };
  }
  const session = startSession(req, login.operatorId, deps, undefined);
  if ('error' in session) return { kind: 'error', status: 500, error: session.error, setCookies: [cleared] };
  return { kind: 'redirect', location: '/', setCookies: [cleared, session.cookie] };
}

/**
 * The browser's session for the operator a provider sign-in ended as. The browser's earlier
 * session (another operator's, maybe) ends: its cookie is replaced, and a copy of it must not stay live.
 */
function startSession(
  req: http.IncomingMessage,
  operatorId: number | undefined,
  deps: ProviderRouteDeps,
  stepUpUntil: number | undefined,
): { cookie: string } | { error: ApiErrorBody } {
  if (operatorId === undefined) return { error: { code: 'INTERNAL', message: 'The sign-in left no operator.', remedy: 'Try again.' } };
  return { cookie: startBrowserSession(req, deps.sessions, operatorId, stepUpUntil, 'signed in again through the provider') };
}

/**
 * POST /oidc/second-step { code }: the two-factor code for the ticket in this browser's cookie
 * (never one from the body: the ticket stays bound to the browser the provider sent back).
 * A right code makes the session; a wrong or reused one is refused and the page may try again
 * (the ticket's tries and the name's limit count it); anything else ends the ticket, and the
 * reason goes to the log under the reference the page shows. The last wrong code the ticket
 * takes clears the cookie too (the page then stops asking; a later try is told there is no
 * sign-in waiting). DELETE ends the ticket on the server and drops the cookie (the person
 * chose to sign in another way; a copy of the cookie can type no codes after it).
 */
export async function completeSecondStep(req: http.IncomingMessage, deps: ProviderRouteDeps): Promise<SignInAnswer> {
  const cleared = secondStepCookie('', 0);
  const ticket = cookieOf(req.headers.cookie, SECOND_STEP_COOKIE).slice(0, 256);
  if (req.method === 'DELETE') {
    if (ticket !== '')
      // Whatever it answers (nothing waited: used or expired), the cookie goes.
      await callWithoutSignIn(deps.dispatcher, req, 'session.cancelProviderSecondStep', { ticket });
    return { status: 200, body: { cancelled: true }, setCookie: cleared };
  }
  let code: unknown;
  try {
    code = (JSON.parse(await readBody(req, 8 * 1024)) as { code?: unknown } | null)?.code;
  } catch {
    code = undefined;
  }
  if (typeof code !== 'string' || code === '')
    return {
      status: 400,
      body: {
        error: { code: 'BAD_PARAMS', message: 'Send the two-factor code as { "code" }.', remedy: 'Type the code on the sign-in page.' },
      },
    };
  if (ticket === '' || deps.provider === null) return { status: 401, body: { error: withheld(noSecondStep(), deps) }, setCookie: cleared };
  const { answer, operatorId, stepUpUntil } = await callSigningInByCode(deps.dispatcher, req, 'session.completeProviderSecondStep', {
    ticket,
    code: code.slice(0, 64),
  });
  if (!answer.ok) {
    const { error } = answer;
    if (error.code === 'SIGN_IN_THROTTLED') return { status: 429, body: { error } };
    // A wrong or reused code: the person may type the next one (the message says no more than that).
    if (error.code === 'SIGN_IN_FAILED') {
      deps.log?.({ code: error.code, reason: error.message }, 'provider sign-in: a two-factor code refused');
      // The ticket's last try: its cookie goes with the answer.
      return error.remedy === SECOND_STEP_ENDED_REMEDY
        ? { status: 401, body: { error }, setCookie: cleared }
        : { status: 401, body: { error } };
    }
    return { status: error.code === 'INTERNAL' ? 500 : 401, body: { error: withheld(error, deps) }, setCookie: cleared };
  }
  const session = startSession(req, operatorId, deps, stepUpUntil);
  if ('error' in session) return { status: 500, body: { error: session.error }, setCookie: cleared };
  return { status: 200, body: answer.result, setCookie: [cleared, session.cookie] };
}

function noSecondStep(): ApiErrorBody {
  return {
    code: 'OIDC_SIGN_IN_FAILED',
    message: 'This browser has no provider sign-in waiting for a two-factor code.',
    remedy: 'Start again from the sign-in page.',
  };
}

/**
 * Web mode for a team, when it requires two-factor sign-in (mfa.setWebRequired): the routes of
 * the forced enrolment a sign-in of an operator without two-factor sign-in goes through before
 * any session starts (app/web-enrolment-handlers.ts has the rules). The ticket is the
 * `__Host-sutazai-enrolment` cookie POST /session or /oidc/callback set (web-team.ts), never
 * a value from the body: it stays bound to the browser whose sign-in was right.
 *
 * - GET /session/enrolment: whether this browser holds a ticket (the page then shows the set-up).
 * - POST /session/enrolment/secret: a new secret and its otpauth URI, shown once (a reload asks
 *   for a new one, which replaces it).
 * - POST /session/enrolment { code }: the first code; right, the session starts and the ten
 *   recovery codes are answered, once.
 * - DELETE /session/enrolment: "Sign in another way": the ticket ends on the server too.
 */
import type http from 'node:http';
import type { ApiErrorBody } from '../../contract';
import { WEB_ENROLMENT_ENDED_REMEDY } from '../app/web-enrolment';
import type { WebSessions } from '../operators/web-sessions';
import type { Dispatcher } from './dispatcher';
import {
  callSigningInByCode,
  callWithoutSignIn,
  cookieOf,
  ENROLMENT_COOKIE,
  enrolmentCookie,
  readBody,
  startBrowserSession,
  type SignInAnswer,
} from './web-team';

export const ENROLMENT_PATH = '/session/enrolment';
export const ENROLMENT_SECRET_PATH = '/session/enrolment/secret';

export interface EnrolmentRouteDeps {
  dispatcher: Dispatcher;
  sessions: WebSessions;
}

function ticketOf(req: http.IncomingMessage): string {
  return cookieOf(req.headers.cookie, ENROLMENT_COOKIE).slice(0, 256);
}

const cleared = () => enrolmentCookie('', 0);

/** What this browser's page must know before it has a socket: whether a set-up waits for it. */
export function enrolmentWaiting(req: http.IncomingMessage): SignInAnswer {
  return { status: 200, body: { waiting: ticketOf(req) !== '' } };
}

/** The refusals after which the same ticket may go on: a wrong code with tries left, a wait, a locked vault. */
function keepsTicket(error: ApiErrorBody): boolean {
  return error.code === 'SIGN_IN_THROTTLED' || error.code === 'SECRETS_LOCKED' || error.code === 'MFA_CODE_WRONG';
}

function refusal(error: ApiErrorBody): SignInAnswer {
  const status = error.code === 'SIGN_IN_THROTTLED' ? 429 : error.code === 'INTERNAL' ? 500 : error.code === 'SECRETS_LOCKED' ? 503 : 401;
  return keepsTicket(error) ? { status, body: { error } } : { status, body: { error }, setCookie: cleared() };
}

function noTicket(): SignInAnswer {
  return {
    status: 401,
    body: {
      error: {
        code: 'MFA_ENROLMENT_ENDED',
        message: 'This browser has no two-factor set-up waiting.',
        remedy: WEB_ENROLMENT_ENDED_REMEDY,
      },
    },
    setCookie: cleared(),
  };
}

/** POST /session/enrolment/secret: the secret and its QR code's URI, for this browser's ticket. */
export async function beginEnrolmentOverHttp(req: http.IncomingMessage, deps: EnrolmentRouteDeps): Promise<SignInAnswer> {
  const ticket = ticketOf(req);
  if (ticket === '') return noTicket();
  const answer = await callWithoutSignIn(deps.dispatcher, req, 'session.beginWebEnrolment', { ticket });
  return answer.ok ? { status: 200, body: answer.result } : refusal(answer.error);
}

/**
 * POST /session/enrolment { code }: the first code; right, the browser's session starts (an
 * earlier session of this browser ends: its cookie is replaced, and a copy of it must not stay
 * live) and the recovery codes are in the answer, the only time they are shown.
 */
export async function confirmEnrolmentOverHttp(req: http.IncomingMessage, deps: EnrolmentRouteDeps): Promise<SignInAnswer> {
  const ticket = ticketOf(req);
  let code: unknown;
  try {
    code = (JSON.parse(await readBody(req, 8 * 1024)) as { code?: unknown } | null)?.code;
  } catch {
    code = undefined;
  }
  if (typeof code !== 'string' || code.trim() === '')
    return {
      status: 400,
      body: {
        error: {
          code: 'BAD_PARAMS',
          message: 'Send the code the authenticator app shows as { "code" }.',
          remedy: 'Type the code on the page.',
        },
      },
    };
  if (ticket === '') return noTicket();
  const { answer, operatorId, stepUpUntil } = await callSigningInByCode(deps.dispatcher, req, 'session.confirmWebEnrolment', {
    ticket,
    code: code.slice(0, 64),
  });
  if (!answer.ok) return refusal(answer.error);
  if (operatorId === undefined)
    return {
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'The set-up left no operator signed in.', remedy: 'Sign in again.' } },
      setCookie: cleared(),
    };
  const session = startBrowserSession(req, deps.sessions, operatorId, stepUpUntil, 'signed in again');
  return { status: 200, body: answer.result, setCookie: [cleared(), session] };
}

/** DELETE /session/enrolment: ends this browser's set-up on the server (whatever it answers) and drops the cookie. */
export async function cancelEnrolmentOverHttp(req: http.IncomingMessage, deps: EnrolmentRouteDeps): Promise<SignInAnswer> {
  const ticket = ticketOf(req);
  if (ticket !== '') await callWithoutSignIn(deps.dispatcher, req, 'session.cancelWebEnrolment', { ticket });
  return { status: 200, body: { cancelled: true }, setCookie: cleared() };
}

import { ApiError, ApiErrorBodySchema } from '../../../electron/contract';

/**
 * Web mode for a team is served over HTTPS only, and loopback web mode (one person, the
 * launch token) over plain HTTP on 127.0.0.1: the page's scheme tells which sign-in it has.
 */
export function isTeamWebMode(location: Pick<Location, 'protocol'> = window.location): boolean {
  return location.protocol === 'https:';
}

/** The socket was refused while the page's server is up: in team mode, the browser has no live session. */
export function teamSignInRequired(): ApiError {
  return new ApiError(
    'SIGN_IN_REQUIRED',
    'This browser is not signed in here, or its sign-in ended (signed out, idle too long, expired or revoked).',
    'Sign in with your operator name and password.',
  );
}

/**
 * Signs this browser in (POST /session): the server answers with an HttpOnly cookie the page
 * never sees, which the API socket then carries. The password and code go in the body only.
 * Then the page starts over, so its socket opens with the new session.
 */
export async function signInOverHttps(params: { name: string; password: string; code?: string }): Promise<void> {
  await sendToServer('/session', 'POST', params);
  window.location.reload();
}

/**
 * The second step of a sign-in through the provider (POST /oidc/second-step): the two-factor
 * code for the sign-in this browser holds (its ticket is an HttpOnly cookie the page never
 * sees). Then the page starts over with the new session, as after a password sign-in.
 */
export async function secondStepOverHttps(code: string): Promise<void> {
  await sendToServer('/oidc/second-step', 'POST', { code });
  window.location.reload();
}

/** Drops this browser's waiting provider sign-in (DELETE /oidc/second-step): the person signs in another way. */
export async function cancelSecondStep(): Promise<void> {
  await sendToServer('/oidc/second-step', 'DELETE', {});
}

/**
 * The forced two-factor set-up at sign-in (web mode for a team requiring two-factor sign-in):
 * whether this browser holds one (GET /session/enrolment; its ticket is an HttpOnly cookie the
 * page never sees). A failed answer counts as none: the sign-in form still works.
 */
export async function enrolmentWaiting(): Promise<boolean> {
  try {
    const response = await fetch('/session/enrolment', { credentials: 'same-origin', cache: 'no-store' });
    const body = response.ok ? ((await response.json()) as { waiting?: unknown }) : null;
    return body?.waiting === true;
  } catch {
    return false;
  }
}

/** A new secret for that set-up and the otpauth URI its QR code carries, shown once (POST /session/enrolment/secret). */
export async function beginEnrolment(): Promise<{ name: string; secret: string; uri: string; expiresAt: number }> {
  const body = (await sendToServer('/session/enrolment/secret', 'POST', {})) as Partial<{
    name: string;
    secret: string;
    uri: string;
    expiresAt: number;
  }>;
  if (
    typeof body.name !== 'string' ||
    typeof body.secret !== 'string' ||
    typeof body.uri !== 'string' ||
    typeof body.expiresAt !== 'number'
  )
    throw new ApiError(
      'INTERNAL',
      'The server answered the set-up without a secret.',
      'Sign in again; if it keeps failing, tell whoever runs the server.',
    );
  return { name: body.name, secret: body.secret, uri: body.uri, expiresAt: body.expiresAt };
}

/** The first code of the set-up (POST /session/enrolment): the browser is signed in, and the recovery codes come back once. */
export async function confirmEnrolment(code: string): Promise<string[]> {
  const body = (await sendToServer('/session/enrolment', 'POST', { code })) as { recoveryCodes?: unknown };
  return Array.isArray(body.recoveryCodes) ? body.recoveryCodes.filter((recovery): recovery is string => typeof recovery === 'string') : [];
}

/** Drops this browser's set-up on the server too (DELETE /session/enrolment): the person signs in another way. */
export async function cancelEnrolment(): Promise<void> {
  await sendToServer('/session/enrolment', 'DELETE', {});
}

/** A sign-in request to the page's own server: its JSON answer; its refusal as an ApiError. */
async function sendToServer(path: string, method: 'POST' | 'DELETE', params: object): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(
      'DISCONNECTED',
      `Could not reach the control center to sign in (${error instanceof Error ? error.message : String(error)}).`,
      'Check the connection to the server, then try again.',
    );
  }
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    const parsed = ApiErrorBodySchema.safeParse((body as { error?: unknown } | null)?.error);
    if (parsed.success) throw ApiError.fromBody(parsed.data);
    throw new ApiError(
      'INTERNAL',
      `The sign-in was answered with HTTP ${response.status}.`,
      'Try again; if it keeps failing, tell whoever runs the server.',
    );
  }
  return (await response.json().catch(() => null)) ?? {};
}

/**
 * Signing in through the site's OpenID Connect provider (issue 14, item 5): the
 * authorization code flow with PKCE (S256), a state and a nonce. Each attempt is held here,
 * in memory, for ATTEMPT_TTL_MS: a restart forgets attempts under way, and the person just
 * signs in again. An attempt is bound to what started it (a browser's cookie, or the desktop
 * app's loopback listener: `binding`) and is used once: its callback is taken from the table
 * before anything else is checked, so a replayed or second callback finds nothing.
 *
 * The ID token is checked against the provider's published keys (read through the same key
 * source as the runtimes' oauth2 keys, fetched again once when a token names a key not yet
 * seen), for its issuer, audience (the client id; `azp` when several), the attempt's nonce,
 * and its times. Who signed in is the claim `operator_claim` names; what they may do is
 * the control center's operator record, as for a password sign-in.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { ApiError } from '../../contract';
import { checkUrl, createOidcKeySource, fetchJson, MAX_OIDC_DOCUMENT_BYTES, unavailable, type OidcKeySource } from './oidc-key-source';
import type { SignInProviderSettings } from './sign-in-provider-settings';

/** How long a started sign-in waits for its callback (the person types a password, maybe a code, at the provider). */
export const ATTEMPT_TTL_MS = 5 * 60_000;
/** Attempts held at once (each is a few hundred bytes; a flood of starts must not grow memory). */
export const MAX_ATTEMPTS = 1000;
/**
 * Open attempts one source (an IPv4 address, an IPv6 /64, the desktop app) holds: its next
 * start drops its own oldest. Past MAX_ATTEMPTS the oldest attempt of the source holding the
 * most goes, so a flood from one address evicts its own attempts, never another person's.
 */
export const MAX_ATTEMPTS_PER_SOURCE = 5;
/**
 * The sign-in at the provider that stands for this control center's two-factor code must be
 * this recent (`max_age`, sent with every attempt; `auth_time` checked): a provider session
 * left open from a morning's second factor is not one now.
 */
export const MAX_AUTH_AGE_S = 300;
/** The token request as a whole, however slowly the provider trickles its answer. */
const TOKEN_DEADLINE_MS = 15_000;
/** Clock difference allowed between the provider and this machine. */
const CLOCK_TOLERANCE_S = 30;
/** An ID token issued longer ago than this is not a fresh sign-in's. */
const MAX_ID_TOKEN_AGE_S = 10 * 60;

/** Who the provider says signed in, checked. */
export interface ProviderIdentity {
  /** The value of `operator_claim`. */
  operatorName: string;
  /** Whether the provider's `amr` shows a second factor (`multi_factor_amr`). */
  multiFactor: boolean;
  /** The provider's account: `iss` and `sub`, which the provider never hands to another person (the operator is bound to them). */
  issuer: string;
  subject: string;
}

/**
 * The claim's value as an operator name is compared with: printable ASCII only (operator
 * names are), compared exactly. Case folding would let other characters stand for ASCII
 * letters (the Kelvin sign U+212A lower-cases to "k").
 */
const OPERATOR_CLAIM_VALUE = /^[\x21-\x7e]{1,256}$/;

export interface ProviderSignIn {
  readonly displayName: string;
  /**
   * A new attempt: the provider's authorization URL to send the person to, and the secret
   * that binds the attempt to its starter (the browser's cookie; the loopback listener keeps its own).
   * `source`: who started it (the browser's address), for MAX_ATTEMPTS_PER_SOURCE.
   */
  begin(redirectUri: string, source?: string): Promise<{ url: string; state: string; binding: string }>;
  /** The attempt's callback: takes the attempt (once), trades the code and checks the ID token. */
  complete(callback: { state: string; code: string; binding: string }): Promise<ProviderIdentity>;
}

interface Attempt {
  source: string;
  bindingHash: Buffer;
  verifier: string;
  nonce: string;
  redirectUri: string;
  expiresAt: number;
}

interface Endpoints {
  authorization: URL;
  token: URL;
}

/** The one code a failed provider sign-in is answered with; the message says which check failed (the person needs it; it tells an attacker nothing they sent not). */
export function providerSignInFailed(detail: string): ApiError {
  return new ApiError(
    'OIDC_SIGN_IN_FAILED',
    `The sign-in through the provider was not accepted: ${detail}`,
    'Start again with the "Sign in with" button on the sign-in page (each sign-in link works once, for 5 minutes, in the browser that started it).',
  );
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const randomToken = (): string => randomBytes(32).toString('base64url');

export function createProviderSignIn(
  settings: SignInProviderSettings,
  deps: { now?: () => number; keySource?: OidcKeySource; tokenDeadlineMs?: number } = {},
): ProviderSignIn {
  const now = deps.now ?? Date.now;
  const keySource = deps.keySource ?? createOidcKeySource({ changed: () => undefined });
  const source = { issuer: settings.issuer, ...(settings.ca_file !== undefined ? { ca_file: settings.ca_file } : {}) };
  // Read and checked by readSignInProvider: making the flow reads no file, so it cannot stop the start.
  const caPem = settings.ca_pem;
  const attempts = new Map<string, Attempt>();
  let endpoints: Promise<Endpoints> | null = null;

  const discover = async (): Promise<Endpoints> => {
    const discoveryUrl = checkUrl(`${settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, settings.issuer);
    const document = (await fetchJson(discoveryUrl, settings.issuer, caPem)) as Record<string, unknown> | null;
    // Another issuer's document (a mix-up, a misconfigured proxy) must not send people or codes elsewhere.
    if (document?.issuer !== settings.issuer)
      throw unavailable(settings.issuer, `its discovery document names the issuer ${JSON.stringify(document?.issuer)}`);
    const methods = document.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes('S256'))
      throw unavailable(settings.issuer, 'it does not offer PKCE with S256 (code_challenge_methods_supported)');
    if (typeof document.authorization_endpoint !== 'string' || typeof document.token_endpoint !== 'string')
      throw unavailable(settings.issuer, 'its discovery document names no authorization_endpoint or token_endpoint');
    return {
      authorization: endpointUrl(document.authorization_endpoint, settings.issuer),
      token: endpointUrl(document.token_endpoint, settings.issuer),
    };
  };
  /** Read once; a failed read is tried again on the next sign-in. */
  const endpointsNow = (): Promise<Endpoints> => {
    endpoints ??= discover().catch((error: unknown) => {
      endpoints = null;
      throw error;
    });
    return endpoints;
  };

  /** Makes room for one more attempt from `source`: the expired go, then its own oldest, then the biggest source's oldest. */
  const makeRoom = (source: string): void => {
    const at = now();
    for (const [state, attempt] of attempts) if (attempt.expiresAt <= at) attempts.delete(state);
    // The map keeps insertion order: the first of a source's entries is its oldest.
    const statesBySource = new Map<string, string[]>();
    for (const [state, attempt] of attempts) {
      const states = statesBySource.get(attempt.source) ?? [];
      states.push(state);
      statesBySource.set(attempt.source, states);
    }
    const own = statesBySource.get(source) ?? [];
    while (own.length >= MAX_ATTEMPTS_PER_SOURCE) attempts.delete(own.shift()!);
    while (attempts.size >= MAX_ATTEMPTS) {
      let biggest: string[] = [];
      for (const states of statesBySource.values()) if (states.length > biggest.length) biggest = states;
      attempts.delete(biggest.shift()!);
    }
  };

  const verifyIdToken = async (idToken: string, attempt: Attempt): Promise<JWTPayload> => {
    const verifyWith = async (): Promise<JWTPayload> => {
      const keys = keySource.keysFor(source);
      if (keys === null) throw keySource.problemOf(source) ?? unavailable(settings.issuer, 'its keys have not been read');
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(JSON.parse(keys) as { keys: [] }), {
        issuer: settings.issuer,
        audience: settings.client_id,
        algorithms: settings.algorithms,
        clockTolerance: CLOCK_TOLERANCE_S,
        maxTokenAge: MAX_ID_TOKEN_AGE_S,
        requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
        currentDate: new Date(now()),
      });
      return payload;
    };
    let payload: JWTPayload;
    try {
      if (keySource.keysFor(source) === null) await keySource.refresh([source]);
      try {
        payload = await verifyWith();
      } catch (error) {
        // A key rotated in at the provider since the last read: read its keys once more.
        if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
        await keySource.refresh([source]);
        payload = await verifyWith();
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const reason = error instanceof joseErrors.JOSEError ? `${error.code}: ${error.message}` : (error as Error).message;
      throw providerSignInFailed(`the ID token did not verify (${reason}).`);
    }
    const nonce = typeof payload.nonce === 'string' ? payload.nonce : '';
    if (!safeEqual(sha256(nonce), sha256(attempt.nonce)))
      throw providerSignInFailed('the ID token names another sign-in (its nonce does not match).');
    // OpenID Connect Core 3.1.3.7: azp, when present, must be this client; any other audience
    // must be one this site trusts (trusted_audiences), since a token for several clients may
    // have been obtained by any of them.
    if (payload.azp !== undefined && payload.azp !== settings.client_id)
      throw providerSignInFailed('the ID token was issued to another client (azp).');
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const untrusted = audiences.filter((aud) => aud !== settings.client_id && !settings.trusted_audiences.includes(String(aud)));
    if (untrusted.length > 0)
      throw providerSignInFailed('the ID token is meant for other clients too (aud), which this control center does not trust.');
    return payload;
  };

  return {
    displayName: settings.display_name,
    async begin(redirectUri, source = 'unknown') {
      const { authorization } = await endpointsNow();
      makeRoom(source);
      const state = randomToken();
      const binding = randomToken();
      const attempt: Attempt = {
        source,
        bindingHash: sha256(binding),
        verifier: randomToken(),
        nonce: randomToken(),
        redirectUri,
        expiresAt: now() + ATTEMPT_TTL_MS,
      };
      attempts.set(state, attempt);
      const url = new URL(authorization);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', settings.client_id);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('scope', settings.scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('nonce', attempt.nonce);
      url.searchParams.set('code_challenge', createHash('sha256').update(attempt.verifier).digest('base64url'));
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('max_age', String(MAX_AUTH_AGE_S));
      return { url: url.href, state, binding };
    },
    async complete({ state, code, binding }) {
      const attempt = attempts.get(state);
      // Taken before any other check: a callback is answered once, right or wrong.
      attempts.delete(state);
      if (attempt === undefined || attempt.expiresAt <= now())
        throw providerSignInFailed('this sign-in link is unknown, used already or older than 5 minutes.');
      if (!safeEqual(sha256(binding), attempt.bindingHash))
        throw providerSignInFailed('it was started in another browser or window (the sign-in is bound to the one that started it).');
      const { token } = await endpointsNow();
      const answer = await postForm(
        token,
        settings,
        caPem,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: attempt.redirectUri,
          code_verifier: attempt.verifier,
          ...(settings.client_secret === undefined ? { client_id: settings.client_id } : {}),
        },
        deps.tokenDeadlineMs ?? TOKEN_DEADLINE_MS,
      );
      const idToken = (answer as { id_token?: unknown }).id_token;
      if (typeof idToken !== 'string') throw providerSignInFailed('the provider answered the code without an ID token.');
      const claims = await verifyIdToken(idToken, attempt);
      const name = claims[settings.operator_claim];
      if (typeof name !== 'string' || name === '')
        throw providerSignInFailed(`the ID token has no ${settings.operator_claim} claim to name an operator by.`);
      if (!OPERATOR_CLAIM_VALUE.test(name))
        throw providerSignInFailed(`the ID token's ${settings.operator_claim} has characters no operator name has (printable ASCII only).`);
      // An address the person typed at the provider and the provider never checked names anyone.
      if (settings.operator_claim === 'email' && claims.email_verified !== true)
        throw providerSignInFailed('the provider has not verified the email address (email_verified is not true).');
      const amr = Array.isArray(claims.amr) ? claims.amr.filter((value): value is string => typeof value === 'string') : [];
      // A second factor counts only when the person signed in at the provider within max_age.
      const authAgeS = typeof claims.auth_time === 'number' ? now() / 1000 - claims.auth_time : Infinity;
      const recent = authAgeS <= MAX_AUTH_AGE_S + CLOCK_TOLERANCE_S && authAgeS >= -CLOCK_TOLERANCE_S;
      return {
        operatorName: name,
        multiFactor: recent && amr.some((value) => settings.multi_factor_amr.includes(value)),
        issuer: settings.issuer,
        subject: claims.sub!,
      };
    },
  };
}

/**
 * An endpoint the discovery document names: https, or http on loopback (checkUrl), and https
 * whenever the issuer is: an https provider's document naming http://127.0.0.1 would have the
 * client secret and the code sent in clear to whatever listens there.
 */
export function endpointUrl(raw: string, issuer: string): URL {
  const url = checkUrl(raw, issuer);
  if (issuer.startsWith('https:') && url.protocol !== 'https:')
    throw unavailable(issuer, `its discovery document names ${url.origin}, not https, for an https issuer`);
  return url;
}

/** Error codes a provider may send back (RFC 6749 4.1.2.1 and 5.2, OpenID Connect Core 3.1.2.6): only these are shown, never the provider's or an attacker's text. */
const PROVIDER_ERROR_CODES = new Set([
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'invalid_client',
  'invalid_grant',
  'unsupported_grant_type',
  'interaction_required',
  'login_required',
  'account_selection_required',
  'consent_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
]);

/** The provider's error as shown to a person: one of the listed codes, or "an unlisted error". */
export function providerErrorCode(raw: unknown): string {
  return typeof raw === 'string' && PROVIDER_ERROR_CODES.has(raw) ? raw : 'an unlisted error';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token request (RFC 6749 4.1.3): a form, the client's secret (when it has one) as HTTP Basic. */
function postForm(
  url: URL,
  settings: SignInProviderSettings,
  caPem: string | undefined,
  form: Record<string, string>,
  deadlineMs: number,
): Promise<unknown> {
  const body = new URLSearchParams(form).toString();
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    accept: 'application/json',
  };
  if (settings.client_secret !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(settings.client_id)}:${encodeURIComponent(settings.client_secret)}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers, timeout: 10_000, ...(caPem ? { ca: caPem } : {}) },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_OIDC_DOCUMENT_BYTES) request.destroy(new Error('the answer is too large'));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const parsed = parseJson(Buffer.concat(chunks).toString('utf8')) as { error?: unknown; error_description?: unknown } | undefined;
          if (parsed === undefined || parsed === null) {
            reject(unavailable(settings.issuer, `its token endpoint answered HTTP ${response.statusCode} without JSON`));
            return;
          }
          if (response.statusCode !== 200) {
            // invalid_grant: a code used already, expired, or not issued for this verifier or redirect.
            reject(providerSignInFailed(`the provider refused the code (${providerErrorCode(parsed.error)}).`));
            return;
          }
          resolve(parsed);
        });
        response.on('error', (error) => reject(unavailable(settings.issuer, error.message)));
      },
    );
    // A provider that sends a byte now and then never trips the idle timeout: the whole answer has a deadline.
    const deadline = setTimeout(() => request.destroy(new Error(`no complete answer within ${deadlineMs} ms`)), deadlineMs);
    deadline.unref();
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (error) => reject(unavailable(settings.issuer, `${url.href}: ${error.message}`)));
    request.end(body);
  });
}

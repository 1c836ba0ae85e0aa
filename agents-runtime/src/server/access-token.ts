/**
 * Access tokens: short-lived JWTs the control center signs (EdDSA, its install's token key)
 * for one call made on an operator's behalf, sent as `authorization: Bearer <token>`. Each
 * names the operator (`sub`), their role and attributes, the install (`aud`) and a unique
 * `jti`; a token is good for one call, so a `jti` seen before is refused until the token
 * would have expired anyway.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { RuntimeError } from '../runtime-error';
import { MAX_TOKEN_LIFETIME_S, TOKEN_ISSUER } from '../wire/access-token-claims';
import { isRole, ROLES, type Role } from '../wire/roles';
import type { AccessView } from './access-state';
import { checkTokenLifetime, claimTime as at, clockRefusal, CLOCK_TOLERANCE_S, tokenClockOptions } from './token-clock';

export interface TokenClaims {
  subject: string;
  role: Role;
  attributes: Record<string, unknown>;
  jti: string;
  expiresAtMs: number;
}

export interface AccessTokenVerifier {
  /** The token's claims, or a RuntimeError ACCESS_TOKEN_INVALID saying what is wrong with it. */
  verify(token: string, view: AccessView): Promise<TokenClaims>;
}

const REMEDY =
  'the control center signs a fresh token for every call: check that this host keeps time (NTP) and that its link to the control center is up, then retry';

function refused(message: string, remedy = REMEDY): RuntimeError {
  return new RuntimeError('ACCESS_TOKEN_INVALID', `the access token ${message}`, remedy);
}

/** Turns jose's failure into the reason an operator can act on. */
function reasonOf(error: unknown, install: string): RuntimeError {
  const clock = clockRefusal(error, MAX_TOKEN_LIFETIME_S, refused);
  if (clock !== null) return clock;
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return refused(
          `is meant for ${JSON.stringify(error.payload.aud ?? '(no install)')}, not for the install ${install}`,
          'use a token the control center signed for this install',
        );
      case 'iss':
        return refused(`was not issued by ${TOKEN_ISSUER}`, 'use a token the control center signed for this install');
      default:
        return refused(`has an invalid "${error.claim}" claim (${error.reason})`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refused(
      'has a signature that does not verify with the key it names',
      "the token was altered or signed with another key: use one the control center signed with this install's current key",
    );
  if (error instanceof errors.JOSEAlgNotAllowed) return refused('is not signed with EdDSA, the only algorithm accepted');
  if (error instanceof RuntimeError) return error;
  return refused(`cannot be read (${error instanceof Error ? error.message : String(error)})`);
}

export function createAccessTokenVerifier(options: { now?: () => number; startedAtMs?: number } = {}): AccessTokenVerifier {
  const now = options.now ?? Date.now;
  /**
   * The one-use record of tokens lives in memory and dies with the process: a token issued
   * before this runtime started could be one used already, so it is refused (beyond the
   * clock tolerance: a token captured within CLOCK_TOLERANCE_S before a restart is the
   * residue). The control center signs a fresh token for every call, so none of its own
   * calls carries an older one.
   */
  const startedAtMs = options.startedAtMs;
  /** jti -> when its token expires (ms): a second use before then is a replay. */
  const used = new Map<string, number>();
  let nextSweepMs = 0;

  const sweep = (nowMs: number): void => {
    if (nowMs < nextSweepMs) return;
    nextSweepMs = nowMs + 10_000;
    for (const [jti, expiresAtMs] of used) if (expiresAtMs + CLOCK_TOLERANCE_S * 1000 < nowMs) used.delete(jti);
  };

  return {
    async verify(token, view) {
      const { install } = view.state;
      if (view.state.tokenKeys.length === 0)
        throw refused(
          'cannot be checked: this runtime holds no token keys yet',
          'the control center pushes its keys over its link when it connects: wait for the link, then retry',
        );
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(
          token,
          (header) => {
            const key = header.kid === undefined ? undefined : view.tokenKey(header.kid);
            if (key === undefined)
              throw refused(
                `names the key ${JSON.stringify(header.kid ?? '(none)')}, which this runtime does not trust (removed or rotated out)`,
                "the install's token key was rotated or the token is forged: the control center signs new calls with the current key",
              );
            return key;
          },
          {
            algorithms: ['EdDSA'],
            issuer: TOKEN_ISSUER,
            audience: install,
            ...tokenClockOptions(now(), MAX_TOKEN_LIFETIME_S),
            requiredClaims: ['sub', 'jti', 'exp', 'iat', 'nbf'],
          },
        ));
      } catch (error) {
        throw reasonOf(error, install);
      }
      const { sub, jti, exp, iat } = payload as Required<Pick<JWTPayload, 'sub' | 'jti' | 'exp' | 'iat'>>;
      // jose checks that they are there, not what they are: a jti that is no string would never be "seen before".
      if (typeof sub !== 'string' || sub === '') throw refused('names no operator (its "sub" is not a name)');
      if (typeof jti !== 'string' || jti === '') throw refused('has a "jti" that is not a string, so it cannot be kept to one call');
      if (startedAtMs !== undefined && iat * 1000 < startedAtMs - CLOCK_TOLERANCE_S * 1000)
        throw refused(
          `was issued at ${at(iat)}, before this runtime started at ${new Date(startedAtMs).toISOString()}: tokens used before a restart are not remembered, so none that old is accepted`,
          'the control center signs a fresh token for every call: retry the action',
        );
      checkTokenLifetime(payload, MAX_TOKEN_LIFETIME_S, refused);
      const role = payload.role;
      if (typeof role !== 'string' || !isRole(role)) throw refused(`names no known role (known: ${ROLES.join(', ')})`);
      const attributes = payload.attrs ?? {};
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
        throw refused('carries attributes that are not an object');
      const nowMs = now();
      sweep(nowMs);
      if (used.has(jti))
        throw refused(
          `was already used (jti ${jti}): each token is good for one call`,
          'a replayed token is refused; if the control center sent it, report it as a defect',
        );
      used.set(jti, exp * 1000);
      return { subject: sub, role, attributes: attributes as Record<string, unknown>, jti, expiresAtMs: exp * 1000 };
    },
  };
}

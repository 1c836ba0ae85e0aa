/**
 * Access tokens: short-lived JWTs the control center signs (EdDSA, its install's token key)
 * for one call made on an operator's behalf, sent as `authorization: Bearer <token>`. Each
 * names the operator (`sub`), their role and attributes, the install (`aud`) and a unique
 * `jti`; a token is good for one call, so a `jti` seen before is refused until the token
 * would have expired anyway, after a restart too (used-token-record.ts keeps the record).
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { RuntimeError } from '../runtime-error';
import { MAX_TOKEN_LIFETIME_S, TOKEN_ISSUER } from '../wire/access-token-claims';
import { isRole, ROLES, type Role } from '../wire/roles';
import type { AccessView } from './access-state';
import { checkTokenLifetime, claimTime as at, clockRefusal, CLOCK_TOLERANCE_S, tokenClockOptions } from './token-clock';
import { openUsedTokenRecord, type UsedTokensLoad } from './used-token-record';

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
  /** What the start read from the record of used tokens. */
  readonly usedTokensLoaded: UsedTokensLoad;
  /** Closes the record's file. */
  close(): void;
}

export interface AccessTokenVerifierOptions {
  now?: () => number;
  /** When this runtime started: tokens issued before it, less the clock tolerance, are refused. */
  startedAtMs?: number;
  /** Where the tokens used are kept across restarts (used-token-record.ts); default: memory only. */
  usedTokensFile?: string;
  /** Hears what is wrong with that file; the runtime goes on. */
  onUsedTokensProblem?: (detail: string) => void;
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

export function createAccessTokenVerifier(options: AccessTokenVerifierOptions = {}): AccessTokenVerifier {
  const now = options.now ?? Date.now;
  /**
   * The second line behind the record of used tokens, for a use the record lost (a
   * whole-host crash before its line reached the disk, the file deleted): a token issued
   * before this runtime started, beyond the clock tolerance, is refused whether or not it
   * was used. The control center signs a fresh token for every call, so none of its own
   * calls carries an older one.
   */
  const startedAtMs = options.startedAtMs;
  /** jti -> when its token expires: a second use before then is a replay, before a restart or after it. */
  const used = openUsedTokenRecord(options.usedTokensFile ?? null, now(), options.onUsedTokensProblem);

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
          `was issued at ${at(iat)}, before this runtime started at ${new Date(startedAtMs).toISOString()}: none that old is accepted after a restart, used or not`,
          'the control center signs a fresh token for every call: retry the action',
        );
      checkTokenLifetime(payload, MAX_TOKEN_LIFETIME_S, refused);
      const role = payload.role;
      if (typeof role !== 'string' || !isRole(role)) throw refused(`names no known role (known: ${ROLES.join(', ')})`);
      const attributes = payload.attrs ?? {};
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
        throw refused('carries attributes that are not an object');
      const nowMs = now();
      if (used.has(jti, nowMs))
        throw refused(
          `was already used (jti ${JSON.stringify(jti)}): each token is good for one call`,
          'a replayed token is refused; if the control center sent it, report it as a defect',
        );
      // Kept (on disk when there is a file) before the call is served; a use that cannot be kept refuses the call.
      used.add(jti, exp * 1000, nowMs);
      return { subject: sub, role, attributes: attributes as Record<string, unknown>, jti, expiresAtMs: exp * 1000 };
    },
    usedTokensLoaded: used.loaded,
    close: () => used.close(),
  };
}

/**
 * The time checks every JWT a runtime accepts goes through, the control center's own access
 * tokens (access-token.ts) and an identity provider's (oidc-token.ts) alike: one clock
 * tolerance, a bounded life counted from `iat` (so a token "issued in the future" cannot live
 * as long as its signer liked), and the same words for a refusal, so a host whose clock runs
 * off is told the same whichever token it refused.
 */
import { errors, type JWTPayload } from 'jose';
import type { RuntimeError } from '../runtime-error';

/** Allowed difference between the signer's clock (the control center's, the provider's) and this host's. */
export const CLOCK_TOLERANCE_S = 30;

/** jwtVerify's time options: now as this host has it, the tolerance, and the longest life from `iat`. */
export function tokenClockOptions(nowMs: number, maxLifetimeS: number): { clockTolerance: number; currentDate: Date; maxTokenAge: number } {
  return { clockTolerance: CLOCK_TOLERANCE_S, currentDate: new Date(nowMs), maxTokenAge: maxLifetimeS };
}

/** A claim's time (seconds since the epoch) as a refusal names it. */
export function claimTime(seconds: number | undefined): string {
  return seconds === undefined ? 'an unstated time' : new Date(seconds * 1000).toISOString();
}

/**
 * The refusal for a time claim jose found wrong (expired, issued too long ago or in the
 * future, not valid yet), worded by `refused` ("the access token " + message); null when the
 * failure is not about time.
 */
export function clockRefusal(error: unknown, maxLifetimeS: number, refused: (message: string) => RuntimeError): RuntimeError | null {
  if (error instanceof errors.JWTExpired)
    return error.claim === 'iat'
      ? refused(`was issued at ${claimTime(error.payload.iat)}, more than ${maxLifetimeS} s ago`)
      : refused(`expired at ${claimTime(error.payload.exp)}`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return refused(`is not valid before ${claimTime(error.payload.nbf)}`);
    if (error.claim === 'iat') return refused(`claims to be issued at ${claimTime(error.payload.iat)}, in the future`);
  }
  return null;
}

/** Refuses a token whose stated life (exp - iat) is longer than allowed: jose bounds each claim, not the span between them. */
export function checkTokenLifetime(payload: JWTPayload, maxLifetimeS: number, refused: (message: string) => RuntimeError): void {
  const { exp, iat } = payload as Required<Pick<JWTPayload, 'exp' | 'iat'>>;
  if (exp - iat > maxLifetimeS) throw refused(`lives ${exp - iat} s, longer than the ${maxLifetimeS} s accepted`);
}

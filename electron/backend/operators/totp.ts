import { Secret, TOTP } from 'otpauth';

/**
 * TOTP as authenticator apps compute it (RFC 6238 through the `otpauth` library): SHA-1,
 * 6 digits, 30 s steps, the most apps accept. A code of the step before or after the current
 * one is accepted too, for a clock a little off.
 */
const PERIOD_S = 30;
const DIGITS = 6;
const WINDOW_STEPS = 1;
const ISSUER = 'SutazAI';

/** A new shared secret: 20 random bytes (RFC 4226's recommended 160 bits), as base32 text. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app reads from the QR code. */
export function totpUri(secret: string, operatorName: string): string {
  return totpFor(secret, operatorName).toString();
}

/**
 * The time step `code` is valid for at `nowMs`, within the window, or null. The caller refuses
 * a step it has accepted before (a replay of the same code within its window).
 */
export function totpStepOf(secret: string, code: string, nowMs: number): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor(secret, 'operator').validate({ token, timestamp: nowMs, window: WINDOW_STEPS });
  return delta === null ? null : TOTP.counter({ period: PERIOD_S, timestamp: nowMs }) + delta;
}

/** The code for `nowMs` (tests and the CLI's own checks). */
export function totpCode(secret: string, nowMs: number): string {
  return totpFor(secret, 'operator').generate({ timestamp: nowMs });
}

function totpFor(secret: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S, secret: Secret.fromBase32(secret) });
}

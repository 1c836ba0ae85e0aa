import { timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'sutazai_token';

/** Constant-time comparison, so the token cannot be guessed a character at a time. */
export function tokenMatches(expected: string, offered: string | null | undefined): boolean {
  if (!offered) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(offered);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Only names of this machine's loopback may address the server: a page on another
 * site that rebinds its DNS name to 127.0.0.1 arrives with its own Host header.
 */
export function isLoopbackHost(hostHeader: string | undefined, port: number): boolean {
  return hostHeader === `127.0.0.1:${port}` || hostHeader === `localhost:${port}`;
}

/** A browser always sends Origin on a WebSocket upgrade; it must be our own page. */
export function isOwnOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true; // non-browser clients (tests, scripts) send none
  return origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

export interface AuthDecision {
  ok: boolean;
  /** The token arrived in the URL: the response should set the cookie for later requests. */
  setCookie: boolean;
}

export function authorize(token: string, queryToken: string | null, cookieHeader: string | undefined): AuthDecision {
  if (tokenMatches(token, queryToken)) return { ok: true, setCookie: true };
  if (tokenMatches(token, cookieValue(cookieHeader, TOKEN_COOKIE))) return { ok: true, setCookie: false };
  return { ok: false, setCookie: false };
}

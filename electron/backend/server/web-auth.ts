import { timingSafeEqual } from 'node:crypto';
import { API_SUBPROTOCOL, tokenFromProtocolHeader } from '../../contract';

/** Constant-time comparison, so the token cannot be guessed a character at a time. */
export function tokenMatches(expected: string, offered: string | null | undefined): boolean {
  if (!offered) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(offered);
  return a.length === b.length && timingSafeEqual(a, b);
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

/**
 * The API socket opens only for a client that offers the API's subprotocol and the
 * session's token as another (see contract/web-socket-auth.ts); a cookie or a query
 * string is never looked at.
 */
export function socketAuthorized(token: string, protocolHeader: string | undefined): boolean {
  const offered = (protocolHeader ?? '').split(',').map((p) => p.trim());
  return offered.includes(API_SUBPROTOCOL) && tokenMatches(token, tokenFromProtocolHeader(protocolHeader));
}

import { describe, expect, it } from 'vitest';
import { authorize, cookieValue, isLoopbackHost, isOwnOrigin, tokenMatches } from '../../../electron/backend/server/web-auth';

describe('web-mode authorisation', () => {
  it('accepts the exact token only', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', '')).toBe(false);
    expect(tokenMatches('abc', null)).toBe(false);
  });

  it('takes the token from the URL (and asks for the cookie) or from the cookie', () => {
    expect(authorize('t0k', 't0k', undefined)).toEqual({ ok: true, setCookie: true });
    expect(authorize('t0k', null, 'a=1; sutazai_token=t0k')).toEqual({ ok: true, setCookie: false });
    expect(authorize('t0k', 'bad', 'sutazai_token=bad').ok).toBe(false);
    expect(authorize('t0k', null, undefined).ok).toBe(false);
  });

  it('parses cookies by exact name', () => {
    expect(cookieValue('x_sutazai_token=1; sutazai_token=2', 'sutazai_token')).toBe('2');
    expect(cookieValue('other=1', 'sutazai_token')).toBeNull();
  });

  it('answers only to loopback names and its own origin', () => {
    expect(isLoopbackHost('127.0.0.1:8080', 8080)).toBe(true);
    expect(isLoopbackHost('localhost:8080', 8080)).toBe(true);
    expect(isLoopbackHost('evil.example:8080', 8080)).toBe(false);
    expect(isLoopbackHost('127.0.0.1:8081', 8080)).toBe(false);
    expect(isLoopbackHost(undefined, 8080)).toBe(false);
    expect(isOwnOrigin('http://127.0.0.1:8080', 8080)).toBe(true);
    expect(isOwnOrigin('http://evil.example', 8080)).toBe(false);
    expect(isOwnOrigin(undefined, 8080)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { apiSocketProtocols, tokenFromProtocolHeader } from '../../../electron/contract';
import { isLoopbackHost, isOwnOrigin, socketAuthorized, tokenMatches } from '../../../electron/backend/server/web-auth';

describe('web-mode authorisation', () => {
  it('accepts the exact token only', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', '')).toBe(false);
    expect(tokenMatches('abc', null)).toBe(false);
  });

  it('opens the socket only for the API subprotocol offered with the token subprotocol', () => {
    const token = 'Abc_def-0123456789xyz';
    const header = apiSocketProtocols(token).join(', ');
    expect(tokenFromProtocolHeader(header)).toBe(token);
    expect(socketAuthorized(token, header)).toBe(true);
    expect(socketAuthorized(token, apiSocketProtocols('another-token-of-length').join(', '))).toBe(false);
    expect(socketAuthorized(token, `sutazai.token.${token}`)).toBe(false);
    expect(socketAuthorized(token, 'sutazai.api.v1')).toBe(false);
    expect(socketAuthorized(token, undefined)).toBe(false);
  });

  it('answers only to loopback names and its own origin', () => {
    expect(isLoopbackHost('127.0.0.1:8080', 8080)).toBe(true);
    expect(isLoopbackHost('localhost:8080', 8080)).toBe(true);
    expect(isLoopbackHost('evil.example:8080', 8080)).toBe(false);
    expect(isLoopbackHost('127.0.0.1:8081', 8080)).toBe(false);
    expect(isLoopbackHost(undefined, 8080)).toBe(false);
    expect(isOwnOrigin('http://127.0.0.1:8080', 8080)).toBe(true);
    expect(isOwnOrigin('http://evil.example', 8080)).toBe(false);
    expect(isOwnOrigin('http://127.0.0.1:8081', 8080)).toBe(false);
    expect(isOwnOrigin(undefined, 8080)).toBe(true);
  });
});

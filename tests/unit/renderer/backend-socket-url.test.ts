import { describe, expect, it } from 'vitest';
import { backendSocketUrl } from '../../../renderer/src/api/transport-websocket';

describe('backendSocketUrl', () => {
  it('connects to /api on the page host with the page token', () => {
    expect(backendSocketUrl({ protocol: 'http:', host: '127.0.0.1:4173', search: '?token=abc123' })).toBe(
      'ws://127.0.0.1:4173/api?token=abc123',
    );
  });

  it('uses wss for a page served over https', () => {
    expect(backendSocketUrl({ protocol: 'https:', host: 'localhost:9443', search: '?token=t' })).toBe(
      'wss://localhost:9443/api?token=t',
    );
  });

  it('connects without a token when the page has none (the cookie carries it)', () => {
    expect(backendSocketUrl({ protocol: 'http:', host: '127.0.0.1:1', search: '' })).toBe('ws://127.0.0.1:1/api');
    expect(backendSocketUrl({ protocol: 'http:', host: '127.0.0.1:1', search: '?other=1' })).toBe('ws://127.0.0.1:1/api');
  });

  it('encodes the token so it cannot change the query', () => {
    expect(backendSocketUrl({ protocol: 'http:', host: 'h:1', search: '?token=a%26b%3Dc' })).toBe('ws://h:1/api?token=a%26b%3Dc');
  });
});

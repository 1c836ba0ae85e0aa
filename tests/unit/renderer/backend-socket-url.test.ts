import { describe, expect, it } from 'vitest';
import { backendSocketUrl } from '../../../renderer/src/api/transport-websocket';

describe('backendSocketUrl', () => {
  it('connects to /api on the page host, with no token in the address', () => {
    expect(backendSocketUrl({ protocol: 'http:', host: '127.0.0.1:4173' })).toBe('ws://127.0.0.1:4173/api');
  });

  it('uses wss for a page served over https', () => {
    expect(backendSocketUrl({ protocol: 'https:', host: 'localhost:9443' })).toBe('wss://localhost:9443/api');
  });
});

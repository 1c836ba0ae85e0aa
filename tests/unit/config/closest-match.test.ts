import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../../electron/backend/config/closest-match';

describe('closestMatch', () => {
  it('suggests the key one slip away', () => {
    expect(closestMatch('grpc_prot', ['listen_address', 'grpc_port', 'metrics_port'])).toBe('grpc_port');
    expect(closestMatch('Hybird', ['local', 'on-premise', 'cloud', 'hybrid'])).toBe('hybrid');
  });

  it('suggests the one word an abbreviation stands for', () => {
    expect(closestMatch('prod', ['development', 'staging', 'production'])).toBe('production');
    expect(closestMatch('st', ['staging', 'stable'])).toBeUndefined();
  });

  it('suggests nothing rather than an unrelated name', () => {
    expect(closestMatch('database', ['install', 'runtime', 'core', 'agents'])).toBeUndefined();
    expect(closestMatch('x', ['core'])).toBeUndefined();
  });

  it('measures edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { probeFailureLabel } from '../../../renderer/src/hosts/probe-status';

describe('probe status words', () => {
  it('names a failed probe by its cause and says nothing after a success', () => {
    const failed = (code: string) => ({ at: 1, ok: false, error: { code, message: 'm', remedy: 'r' } }) as never;
    expect(probeFailureLabel(failed('HOST_UNREACHABLE'))).toBe('Unreachable');
    expect(probeFailureLabel(failed('HOST_KEY_MISMATCH'))).toBe('Host key changed');
    expect(probeFailureLabel(failed('INTERNAL'))).toBe('Probe failed');
    expect(probeFailureLabel({ at: 1, ok: true, error: null })).toBeNull();
    expect(probeFailureLabel(null)).toBeNull();
  });
});

import { describe, expect, it, vi } from 'vitest';
import { checkHostKey, hostKeyAlgorithmsFor } from '../../../../electron/backend/hosts/ssh/check-host-key';
import { startConnectDeadline } from '../../../../electron/backend/hosts/ssh/connect-deadline';
import { sha256Fingerprint } from '../../../../electron/backend/hosts/ssh/host-key-fingerprint';

function blob(type: string, body: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.from(body)]);
}

describe('the host key check', () => {
  const key = blob('ssh-ed25519', 'key-one');
  const other = blob('ssh-ed25519', 'key-two');
  const pinned = { keyType: 'ssh-ed25519', fingerprint: sha256Fingerprint(key), trustedAt: 0 };

  it('trusts only the pinned key', () => {
    expect(checkHostKey(null, key).kind).toBe('unknown');
    expect(checkHostKey(pinned, key).kind).toBe('trusted');
    expect(checkHostKey(pinned, other)).toMatchObject({ kind: 'mismatch', presented: { fingerprint: sha256Fingerprint(other) }, pinned });
  });

  it('compares the pinned blob byte for byte when it was kept', () => {
    expect(checkHostKey({ ...pinned, publicKey: key }, key).kind).toBe('trusted');
    expect(checkHostKey({ ...pinned, publicKey: other }, key).kind).toBe('mismatch');
  });

  it('offers only the pinned key type, so a host with several keys shows the pinned one', () => {
    expect(hostKeyAlgorithmsFor('ssh-ed25519')).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithmsFor('ssh-rsa')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor('ssh-dss')).toBeNull();
  });
});

describe('the connect deadline', () => {
  it('aborts when the time is up, and says it was not the caller', () => {
    vi.useFakeTimers();
    try {
      const deadline = startConnectDeadline(1_000);
      vi.advanceTimersByTime(999);
      expect(deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(deadline.signal.aborted).toBe(true);
      expect(deadline.cancelled).toBe(false);
      deadline.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it("follows the caller's signal, and lets go of it when disposed", () => {
    const caller = new AbortController();
    const deadline = startConnectDeadline(60_000, caller.signal);
    caller.abort();
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.cancelled).toBe(true);
    deadline.dispose();

    const later = new AbortController();
    const disposed = startConnectDeadline(60_000, later.signal);
    disposed.dispose();
    later.abort();
    expect(disposed.signal.aborted).toBe(false);
  });
});

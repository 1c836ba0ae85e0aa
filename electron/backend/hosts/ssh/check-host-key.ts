import { hostKeyIdentity, sameFingerprint, type HostKeyIdentity } from './host-key-fingerprint';
import type { PinnedKey } from '../../../contract';

/** The key the operator trusted; `publicKey`, when kept, is compared byte for byte too. */
export type PinnedHostKey = PinnedKey & { publicKey?: Buffer };

export type HostKeyVerdict =
  | { kind: 'trusted'; presented: HostKeyIdentity }
  | { kind: 'unknown'; presented: HostKeyIdentity }
  | { kind: 'mismatch'; presented: HostKeyIdentity; pinned: PinnedHostKey };

/** Trust is the pinned fingerprint (and the pinned blob, when kept), nothing else. */
export function checkHostKey(pinned: PinnedHostKey | null, blob: Buffer): HostKeyVerdict {
  const presented = hostKeyIdentity(blob);
  if (pinned === null) return { kind: 'unknown', presented };
  const same =
    sameFingerprint(pinned.fingerprint, presented.fingerprint) && (pinned.publicKey === undefined || pinned.publicKey.equals(blob));
  return same ? { kind: 'trusted', presented } : { kind: 'mismatch', presented, pinned };
}

/**
 * The host key algorithms to offer when a key of `keyType` is pinned. A server with an
 * ed25519 and an RSA key would otherwise be free to show the one we did not pin, which
 * reads as a changed key. Null for a type we do not know: offer the defaults.
 */
export function hostKeyAlgorithmsFor(keyType: string): string[] | null {
  switch (keyType) {
    case 'ssh-ed25519':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return [keyType];
    case 'ssh-rsa':
      return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    default:
      return null;
  }
}

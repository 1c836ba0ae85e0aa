import { createHash } from 'node:crypto';

/** A host key as the operator confirms it: its type and OpenSSH's SHA256 fingerprint. */
export interface HostKeyIdentity {
  keyType: string;
  fingerprint: string;
}

/**
 * The fingerprint `ssh-keygen -lf` prints for a public key blob (the SSH wire form,
 * `string type, ...`): `SHA256:` and unpadded base64 of its SHA-256.
 */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The key type a blob names in its first field (`ssh-ed25519`, `ecdsa-sha2-nistp256`,
 * `ssh-rsa`, ...). A blob too short to hold one is not a key at all.
 */
export function readKeyType(blob: Buffer): string {
  if (blob.length < 4) throw new Error('a host key blob is at least 4 bytes long');
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) {
    throw new Error('the host key blob does not start with a key type');
  }
  const keyType = blob.toString('latin1', 4, 4 + length);
  if (!/^[\x21-\x7e]+$/.test(keyType)) throw new Error('the host key type is not printable');
  return keyType;
}

export function hostKeyIdentity(blob: Buffer): HostKeyIdentity {
  return { keyType: readKeyType(blob), fingerprint: sha256Fingerprint(blob) };
}

/** Fingerprints compare as OpenSSH prints them; tolerate the `=` padding other tools keep. */
export function sameFingerprint(a: string, b: string): boolean {
  const normalize = (value: string) => value.trim().replace(/=+$/, '');
  return normalize(a) === normalize(b);
}

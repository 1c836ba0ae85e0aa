import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hostKeyIdentity,
  readKeyType,
  sameFingerprint,
  sha256Fingerprint,
} from '../../../../electron/backend/hosts/ssh/host-key-fingerprint';
import { makeTempDir } from '../../../support/temp-dir';

const dir = makeTempDir('sutazai-fingerprint-');
afterAll(() => dir.remove());

/** A fresh key pair from OpenSSH itself: the blob of its .pub and what `ssh-keygen -lf` prints. */
function generate(type: string, bits?: number): { blob: Buffer; keyType: string; expected: string } {
  const file = path.join(dir.path, `${type}-${bits ?? 'default'}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test', '-f', file]);
  const [keyType, base64] = fs.readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  // "256 SHA256:abc... test (ED25519)"
  const listed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' });
  return { blob: Buffer.from(base64!, 'base64'), keyType: keyType!, expected: listed.split(/\s+/)[1]! };
}

describe('host key fingerprints', () => {
  it.each([
    ['ed25519', undefined, 'ssh-ed25519'],
    ['ecdsa', 256, 'ecdsa-sha2-nistp256'],
    ['ecdsa', 384, 'ecdsa-sha2-nistp384'],
    ['ecdsa', 521, 'ecdsa-sha2-nistp521'],
    ['rsa', 2048, 'ssh-rsa'],
  ] as const)('matches ssh-keygen -lf for a %s key (%s bits)', (type, bits, wantType) => {
    const key = generate(type, bits);
    expect(key.keyType).toBe(wantType);
    expect(sha256Fingerprint(key.blob)).toBe(key.expected);
    expect(hostKeyIdentity(key.blob)).toEqual({ keyType: wantType, fingerprint: key.expected });
    expect(key.expected).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('refuses a blob that does not start with a key type', () => {
    expect(() => readKeyType(Buffer.alloc(2))).toThrow(/at least 4 bytes/);
    expect(() => readKeyType(Buffer.from([0, 0, 0, 200, 0x73]))).toThrow(/key type/);
    expect(() => readKeyType(Buffer.from([0, 0, 0, 2, 0x0a, 0x00]))).toThrow(/printable/);
  });

  it('compares fingerprints with or without base64 padding', () => {
    expect(sameFingerprint('SHA256:abc', 'SHA256:abc=')).toBe(true);
    expect(sameFingerprint('SHA256:abc', 'SHA256:abd')).toBe(false);
  });
});

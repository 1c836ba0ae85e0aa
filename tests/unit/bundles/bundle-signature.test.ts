import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkBundleSignature,
  keyFingerprint,
  rawPublicKey,
  signBundle,
  signedMessage,
} from '../../../electron/backend/bundles/bundle-signature';

const { privateKey } = generateKeyPairSync('ed25519');
const manifest = Buffer.from('{"name":"sutazai","version":"0.1.0"}\n');
const checksums = Buffer.from(`${'c'.repeat(64)}  bundle.json\n`);

describe('bundle signature', () => {
  it('verifies over the exact bytes of bundle.json and checksums.sha256, naming the key', () => {
    const text = signBundle(privateKey, 'release key 2025', manifest, checksums);
    const check = checkBundleSignature(text, manifest, checksums);
    expect(check).toMatchObject({ ok: true, keyLabel: 'release key 2025' });
    expect(check.ok && check.fingerprint).toBe(keyFingerprint(rawPublicKey(privateKey)));
  });

  it('fails when any single byte of either file changes', () => {
    const text = signBundle(privateKey, 'k', manifest, checksums);
    for (const [which, bytes] of [
      ['manifest', manifest],
      ['checksums', checksums],
    ] as const) {
      for (let i = 0; i < bytes.length; i += 1) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 0x01;
        const check = which === 'manifest' ? checkBundleSignature(text, flipped, checksums) : checkBundleSignature(text, manifest, flipped);
        expect(check.ok, `${which} byte ${i}`).toBe(false);
      }
    }
  });

  it('binds the boundary between the two files: a byte moved across it is caught', () => {
    const text = signBundle(privateKey, 'k', manifest, checksums);
    const moved = checkBundleSignature(text, manifest.subarray(0, -1), Buffer.concat([manifest.subarray(-1), checksums]));
    expect(moved).toEqual({ ok: false, reason: expect.stringMatching(/does not match bundle.json and checksums.sha256/) });
    // Plain concatenation would have signed the same bytes.
    expect(signedMessage(manifest.subarray(0, -1), Buffer.concat([manifest.subarray(-1), checksums]))).not.toEqual(
      signedMessage(manifest, checksums),
    );
  });

  it('refuses a signature file whose key does not match the fingerprint it claims', () => {
    const text = JSON.parse(signBundle(privateKey, 'k', manifest, checksums)) as Record<string, string>;
    const other = rawPublicKey(generateKeyPairSync('ed25519').privateKey);
    const swapped = JSON.stringify({ ...text, fingerprint: keyFingerprint(other) });
    expect(checkBundleSignature(swapped, manifest, checksums)).toEqual({
      ok: false,
      reason: expect.stringMatching(/not the SHA256:.* it claims/),
    });
    // Not a signature file at all, or a signature of the wrong length.
    expect(checkBundleSignature('not json', manifest, checksums)).toEqual({ ok: false, reason: 'signature.ed25519 is not JSON' });
    expect(checkBundleSignature(JSON.stringify({ ...text, signature: 'AAAA' }), manifest, checksums)).toEqual({
      ok: false,
      reason: expect.stringMatching(/malformed \(signature: 64 bytes/),
    });
  });

  it('writes fingerprints as SSH does: SHA256 and unpadded base64 of the raw 32-byte key', () => {
    const raw = rawPublicKey(privateKey);
    expect(raw).toHaveLength(32);
    const expected = `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
    expect(keyFingerprint(raw)).toBe(expected);
    expect(expected).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

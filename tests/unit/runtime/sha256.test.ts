/**
 * The daemon's own SHA-256 (agents-runtime/src/hash/sha256.ts) gives node:crypto's digest:
 * the runtime id and the manifest version must not change when the daemon stopped loading
 * node:crypto at start (an upgraded daemon finds its predecessor's lock and processes by them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runtimeIdFor } from '../../../agents-runtime/src/daemon/daemon-lock';
import { sha256Hex } from '../../../agents-runtime/src/hash/sha256';
import { manifestVersionOf } from '../../../agents-runtime/src/manifest/manifest-version';

const reference = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('sha256Hex', () => {
  it("gives FIPS 180-4's example digests", () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it("equals node:crypto's at every length around the block and padding edges, and for large inputs", () => {
    for (let length = 0; length <= 200; length += 1) {
      const bytes = randomBytes(length);
      expect(sha256Hex(bytes), `${length} bytes`).toBe(reference(bytes));
    }
    const large = randomBytes(1_000_003);
    expect(sha256Hex(large)).toBe(reference(large));
  });

  it('hashes a string as its UTF-8 bytes', () => {
    const text = 'processes:\n  - name: agent-é-∑-😀\n';
    expect(sha256Hex(text)).toBe(reference(Buffer.from(text, 'utf8')));
  });

  it('keeps the runtime id and the manifest version as they were', () => {
    expect(runtimeIdFor('/var/lib/sutazai-runtime')).toBe(`rt-${reference('/var/lib/sutazai-runtime').slice(0, 16)}`);
    const manifest = 'version: 1\nprocesses:\n  - name: core\n    command: /opt/sutazai/core\n';
    expect(manifestVersionOf(manifest)).toBe(`sha256:${reference(manifest).slice(0, 16)}`);
  });
});

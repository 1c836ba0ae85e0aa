import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * signature.ed25519: an Ed25519 signature over bundle.json and checksums.sha256, and the
 * public key that made it. The signed message is, byte for byte:
 *
 *   "sutazai-bundle-signature-v1\n"
 *   uint32 big-endian length of bundle.json, then bundle.json's bytes
 *   uint32 big-endian length of checksums.sha256, then its bytes
 *
 * The lengths keep a byte from moving across the boundary between the two files unseen.
 * The key is identified like an SSH key: "SHA256:" and the unpadded base64 of the SHA-256
 * of the raw 32-byte public key.
 */

const DOMAIN = Buffer.from('sutazai-bundle-signature-v1\n', 'latin1');
/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

const Base64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64')
    .refine((text) => Buffer.from(text, 'base64').length === bytes, `${bytes} bytes of base64`);

export const SignatureFileSchema = z
  .object({
    format: z.literal(1),
    algorithm: z.literal('ed25519'),
    publicKey: Base64(32),
    fingerprint: z.string().regex(FINGERPRINT_PATTERN),
    /** Who signed, as the signer chose to say it: a hint for people, proof of nothing. */
    keyLabel: z.string().max(200),
    signature: Base64(64),
  })
  .strict();

export type SignatureFile = z.infer<typeof SignatureFileSchema>;

export function signedMessage(manifest: Buffer, checksums: Buffer): Buffer {
  const length = (bytes: Buffer) => {
    const field = Buffer.alloc(4);
    field.writeUInt32BE(bytes.length);
    return field;
  };
  return Buffer.concat([DOMAIN, length(manifest), manifest, length(checksums), checksums]);
}

export function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (der.length !== ED25519_SPKI_PREFIX.length + 32 || !der.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX)) {
    throw new Error('not an Ed25519 key');
  }
  return der.subarray(ED25519_SPKI_PREFIX.length);
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function keyFingerprint(raw: Buffer): string {
  return `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

/** The text of signature.ed25519 for a bundle's two describing files. */
export function signBundle(privateKey: KeyObject, keyLabel: string, manifest: Buffer, checksums: Buffer): string {
  const publicKey = rawPublicKey(privateKey);
  const file: SignatureFile = {
    format: 1,
    algorithm: 'ed25519',
    publicKey: publicKey.toString('base64'),
    fingerprint: keyFingerprint(publicKey),
    keyLabel,
    // Ed25519 hashes the message itself; node:crypto takes no digest name for it.
    signature: sign(null, signedMessage(manifest, checksums), privateKey).toString('base64'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

export type SignatureCheck = { ok: true; fingerprint: string; publicKey: Buffer; keyLabel: string } | { ok: false; reason: string };

/**
 * Checks signature.ed25519 against the two files: its key must match its fingerprint and
 * the signature must verify over their exact bytes. Whether the key is trusted is a
 * separate question, for the trust store.
 */
export function checkBundleSignature(signatureText: string, manifest: Buffer, checksums: Buffer): SignatureCheck {
  let json: unknown;
  try {
    json = JSON.parse(signatureText);
  } catch {
    return { ok: false, reason: 'signature.ed25519 is not JSON' };
  }
  const parsed = SignatureFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `signature.ed25519 is malformed (${issue.path.join('.') || 'top level'}: ${issue.message})` };
  }
  const publicKey = Buffer.from(parsed.data.publicKey, 'base64');
  const fingerprint = keyFingerprint(publicKey);
  if (fingerprint !== parsed.data.fingerprint) {
    return { ok: false, reason: `its key's fingerprint is ${fingerprint}, not the ${parsed.data.fingerprint} it claims` };
  }
  let valid: boolean;
  try {
    valid = verify(null, signedMessage(manifest, checksums), publicKeyFromRaw(publicKey), Buffer.from(parsed.data.signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: `the signature by ${fingerprint} does not match bundle.json and checksums.sha256` };
  return { ok: true, fingerprint, publicKey, keyLabel: parsed.data.keyLabel };
}

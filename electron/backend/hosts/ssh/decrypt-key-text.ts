/**
 * Decrypts an encrypted private key with ssh2's own parser and writes what it decrypted as a
 * private key text without encryption, which ssh2 reads again at the cost of a plain parse.
 *
 * This runs on the key worker thread (key-decrypt-worker.ts): ssh2's parse objects cannot cross
 * a thread boundary (their key material sits behind module-private symbols), so the decrypted
 * key travels as text, in memory only. The forms are the ones ssh2 reads without a passphrase:
 * for RSA, DSA and ECDSA keys the PEM ssh2 itself signs with (BEGIN RSA, DSA or EC PRIVATE
 * KEY); for Ed25519, whose PEM ssh2 keeps as PKCS#8 (which its parser does not read), an
 * OpenSSH key with cipher and kdf "none".
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';

export type DecryptOutcome =
  /** `clearKey`: the key without encryption, for ssh2.utils.parseKey on the main thread. */
  | { kind: 'key'; clearKey: string }
  /** ssh2's parser refused it; its message says why ("... -- bad passphrase?", "Malformed ..."). */
  | { kind: 'parse-error'; message: string }
  /** It decrypted to a public key only. */
  | { kind: 'public-only' };

const LEGACY_PEM = /^-----BEGIN (RSA|DSA|EC) PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END \1 PRIVATE KEY-----$/;

export function decryptKeyText(text: string, passphrase: string): DecryptOutcome {
  const parsed = ssh2.utils.parseKey(text, passphrase);
  if (parsed instanceof Error) return { kind: 'parse-error', message: parsed.message };
  // The OpenSSH format may hold several keys; OpenSSH itself writes one, and a login uses the first.
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) return { kind: 'public-only' };
  return { kind: 'key', clearKey: clearKeyText(key) };
}

function clearKeyText(key: ParsedKey): string {
  const pem = key.getPrivatePEM().trim();
  if (LEGACY_PEM.test(pem)) return `${pem}\n`;
  if (key.type === 'ssh-ed25519') return clearEd25519(key, pem);
  // ssh2 makes one of the forms above for every key type it reads; anything else is a change in ssh2.
  throw new Error(`ssh2 decrypted a ${key.type} key into a form this app cannot hand over`);
}

/** An unencrypted openssh-key-v1 text holding the Ed25519 key ssh2 decrypted (PROTOCOL.key in OpenSSH's sources). */
function clearEd25519(key: ParsedKey, pkcs8Pem: string): string {
  const jwk = createPrivateKey(pkcs8Pem).export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  const publicBlob = key.getPublicSSH();
  // The public half ssh2 read must be the one the private half derives.
  if (seed.length !== 32 || publicKey.length !== 32 || !publicBlob.equals(Buffer.concat([sshString('ssh-ed25519'), sshString(publicKey)])))
    throw new Error('the decrypted Ed25519 key does not match its public key');
  const check = randomBytes(4);
  const unpadded = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(publicKey),
    sshString(Buffer.concat([seed, publicKey])),
    sshString(key.comment),
  ]);
  // Padded to the "none" cipher's block of 8 with the bytes 1, 2, 3, ...
  const padding = Buffer.from(Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([unpadded, padding])),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}

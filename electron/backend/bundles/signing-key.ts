import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { keyFingerprint, rawPublicKey } from './bundle-signature';
import { signingKeyInvalidError } from './bundle-errors';

/** A release signing key: an Ed25519 private key in a PKCS#8 PEM file the builder names. */
export interface SigningKey {
  file: string;
  privateKey: KeyObject;
  publicKey: Buffer;
  fingerprint: string;
  /** Group or others may read the file: worth a warning, as with an SSH key. */
  readableByOthers: boolean;
}

/**
 * Writes a new key with mode 0600 and refuses to replace an existing file: losing a
 * release key means every operator has to trust a new one.
 */
export function generateSigningKey(file: string): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, pem, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw signingKeyInvalidError(
        file,
        'already exists; a key is never overwritten',
        'Choose another file name, or use the existing key with --key.',
        error,
      );
    }
    throw signingKeyInvalidError(
      file,
      `cannot be written (${code ?? String(error)})`,
      'Choose a file in a directory you can write to.',
      error,
    );
  }
  const publicKey = rawPublicKey(privateKey);
  return { file, privateKey, publicKey, fingerprint: keyFingerprint(publicKey), readableByOthers: false };
}

export function loadSigningKey(file: string): SigningKey {
  let pem: string;
  let mode: number;
  try {
    pem = fs.readFileSync(file, 'utf8');
    mode = fs.statSync(file).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw signingKeyInvalidError(
      file,
      `cannot be read (${code ?? String(error)})`,
      code === 'ENOENT'
        ? `Create one with \`sutazai bundle keygen ${file}\`, or name an existing key with --key.`
        : 'Make the key file readable by the user who builds the bundle.',
      error,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw signingKeyInvalidError(
      file,
      'is not a PEM private key',
      `Give the PKCS#8 PEM file that \`sutazai bundle keygen\` wrote (it starts with "-----BEGIN PRIVATE KEY-----").`,
      error,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw signingKeyInvalidError(
      file,
      `is a ${privateKey.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`,
      'Bundles are signed with Ed25519 only; create a key with `sutazai bundle keygen FILE`.',
    );
  }
  const publicKey = rawPublicKey(privateKey);
  return { file, privateKey, publicKey, fingerprint: keyFingerprint(publicKey), readableByOthers: (mode & 0o077) !== 0 };
}

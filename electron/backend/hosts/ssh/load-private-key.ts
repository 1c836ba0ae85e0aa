import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { MAX_PRIVATE_KEY_TEXT } from '../../../contract';
import { keyFileUnreadableError, keyPassphraseError, keyTextInvalidError, keyTextPassphraseError } from './ssh-errors';
import type { SshEndpoint } from './ssh-endpoint';

// A private key is a few KiB; anything this big was picked by mistake.
const MAX_KEY_FILE_BYTES = 1024 * 1024;

export function expandHome(keyPath: string): string {
  return keyPath === '~' || keyPath.startsWith('~/') ? path.join(os.homedir(), keyPath.slice(1)) : keyPath;
}

/**
 * Reads and decrypts a private key before any connection is made, so a missing file or a
 * wrong passphrase is reported without touching the network. ssh2's parser says which
 * it was in its message: "... but no passphrase given" or "... -- bad passphrase?".
 */
export async function loadPrivateKey(endpoint: SshEndpoint, keyPath: string, passphrase: string | undefined): Promise<ParsedKey> {
  const file = expandHome(keyPath);
  let data: Buffer;
  try {
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (stat.size > MAX_KEY_FILE_BYTES) throw new Error(`${stat.size} bytes is far too big for a private key`);
    data = await fs.readFile(file);
  } catch (error) {
    throw keyFileUnreadableError(endpoint, keyPath, error);
  }

  return parsePrivateKey(data, passphrase, {
    passphrase: (given) => keyPassphraseError(endpoint, keyPath, given),
    unreadable: (reason) => keyFileUnreadableError(endpoint, keyPath, new Error(reason)),
  });
}

/**
 * A private key sent as its text (web mode's key login, a key sealed in the vault): parsed
 * and decrypted here, before any connection. Its errors never quote the text.
 */
export function parsePrivateKeyText(endpoint: SshEndpoint, text: string, passphrase: string | undefined): ParsedKey {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PRIVATE_KEY_TEXT)
    throw keyTextInvalidError(endpoint, `is ${bytes} bytes, far too big for a private key (at most ${MAX_PRIVATE_KEY_TEXT})`);
  return parsePrivateKey(Buffer.from(text, 'utf8'), passphrase, {
    passphrase: (given) => keyTextPassphraseError(endpoint, given),
    unreadable: (reason) => keyTextInvalidError(endpoint, `is not a private key this app can read (${reason})`),
  });
}

interface KeyErrors {
  passphrase: (passphraseGiven: boolean) => Error;
  /** `reason`: the parser's own words, or that it holds a public key. */
  unreadable: (reason: string) => Error;
}

/** ssh2's parser says what went wrong in its message: "... but no passphrase given" or "... -- bad passphrase?". */
function parsePrivateKey(data: Buffer, passphrase: string | undefined, errors: KeyErrors): ParsedKey {
  const parsed = ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) throw errors.passphrase(false);
    if (/bad passphrase|bad decrypt/i.test(parsed.message)) throw errors.passphrase(true);
    throw errors.unreadable(parsed.message);
  }
  // The OpenSSH format may hold several keys; OpenSSH itself writes one.
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key === undefined || !key.isPrivateKey()) throw errors.unreadable('it holds a public key, not a private one');
  return key;
}

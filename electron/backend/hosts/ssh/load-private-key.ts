import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { keyFileUnreadableError, keyPassphraseError } from './ssh-errors';
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

  const parsed = ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) throw keyPassphraseError(endpoint, keyPath, false);
    if (/bad passphrase|bad decrypt/i.test(parsed.message)) throw keyPassphraseError(endpoint, keyPath, true);
    throw keyFileUnreadableError(endpoint, keyPath, new Error(parsed.message));
  }
  // The OpenSSH format may hold several keys; OpenSSH itself writes one.
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key === undefined || !key.isPrivateKey()) {
    throw keyFileUnreadableError(endpoint, keyPath, new Error('it holds a public key, not a private one'));
  }
  return key;
}

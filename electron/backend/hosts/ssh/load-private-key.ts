import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type ParsedKey } from 'ssh2';
import { MAX_PRIVATE_KEY_TEXT } from '../../../contract';
import { sharedKeyDecryptPool, type KeyDecryptPool, type PoolOutcome } from './key-decrypt-pool';
import { MAX_KEY_KDF_ROUNDS, privateKeyHeaderRefusal, type KeyHeaderRefusal } from './private-key-header';
import {
  KEY_FILE_REMEDY,
  KEY_TEXT_REMEDY,
  keyDecryptUnavailableError,
  keyFileUnreadableError,
  keyPassphraseError,
  keyPassphraseUnneededError,
  keyTextInvalidError,
  keyTextPassphraseError,
} from './ssh-errors';
import type { SshEndpoint } from './ssh-endpoint';

// A private key is a few KiB (RSA 16384 in PEM: about 13 KiB); anything bigger was picked by
// mistake. Kept small because ssh2's PEM pattern takes quadratic time on a hostile header block
// (60 KB of "a: b" lines: 1.3 s on a loaded two-core VM; 1 MiB would be minutes).
const MAX_KEY_FILE_BYTES = 64 * 1024;

export function expandHome(keyPath: string): string {
  return keyPath === '~' || keyPath.startsWith('~/') ? path.join(os.homedir(), keyPath.slice(1)) : keyPath;
}

/**
 * How a passphrase given with a key that has none is treated: refused when a host is added
 * or changed (the operator is there to correct it), ignored at a login (a host stored by an
 * older version may carry one).
 */
export interface KeyParseOptions {
  refuseUnneededPassphrase?: boolean;
  /** Where an encrypted key is decrypted: the backend's one key worker unless another pool is given. */
  decryptPool?: KeyDecryptPool;
}

/**
 * Reads and decrypts a private key before any connection is made, so a missing file or a
 * wrong passphrase is reported without touching the network. ssh2's parser says which
 * it was in its message: "... but no passphrase given" or "... -- bad passphrase?".
 */
export async function loadPrivateKey(
  endpoint: SshEndpoint,
  keyPath: string,
  passphrase: string | undefined,
  options: KeyParseOptions = {},
): Promise<ParsedKey> {
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

  return parsePrivateKey(data, passphrase, options, {
    passphrase: (given) => keyPassphraseError(endpoint, keyPath, given),
    passphraseUnneeded: () => keyPassphraseUnneededError(endpoint, keyPath),
    notDecrypted: (failure) => keyDecryptUnavailableError(endpoint, keyPath, failure),
    unreadable: (reason, remedy) =>
      keyFileUnreadableError(
        endpoint,
        keyPath,
        new Error(reason),
        remedy === undefined ? KEY_FILE_REMEDY : `${remedy} Then point the host at the copy.`,
      ),
  });
}

/**
 * A private key sent as text (web mode's key login, a key sealed in the vault): parsed
 * and decrypted here, before any connection. Its errors never quote the text.
 */
export async function parsePrivateKeyText(
  endpoint: SshEndpoint,
  text: string,
  passphrase: string | undefined,
  options: KeyParseOptions = {},
): Promise<ParsedKey> {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PRIVATE_KEY_TEXT)
    throw keyTextInvalidError(endpoint, `is ${bytes} bytes, far too big for a private key (at most ${MAX_PRIVATE_KEY_TEXT})`);
  return parsePrivateKey(Buffer.from(text, 'utf8'), passphrase, options, {
    passphrase: (given) => keyTextPassphraseError(endpoint, given),
    passphraseUnneeded: () => keyPassphraseUnneededError(endpoint, null),
    notDecrypted: (failure) => keyDecryptUnavailableError(endpoint, null, failure),
    unreadable: (reason, remedy) =>
      keyTextInvalidError(
        endpoint,
        `is not a private key this app can read (${reason})`,
        remedy === undefined ? KEY_TEXT_REMEDY : `${remedy} Then paste the copy.`,
      ),
  });
}

/**
 * Why a key text arriving without its passphrase (a configuration bundle's `host/<name>/key`)
 * must be refused, or null: its size, its header (a decryption cost over the cap), and that
 * ssh2 reads it as a private key. Nothing is decrypted: an encrypted key passes as far as it can
 * be read without its passphrase, and is decrypted, under the same cap, at its first login.
 */
export function keyTextRefusal(text: string): { why: string; remedy: string } | null {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PRIVATE_KEY_TEXT)
    return { why: `is ${bytes} bytes, far too big for a private key (at most ${MAX_PRIVATE_KEY_TEXT})`, remedy: KEY_TEXT_REMEDY };
  const data = Buffer.from(text, 'utf8');
  const header = privateKeyHeaderRefusal(data);
  if (header !== null) {
    const { reason, remedy } = describeHeaderRefusal(header);
    return { why: `is not a private key this app can read (${reason})`, remedy: remedy ?? KEY_TEXT_REMEDY };
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) return null;
    return { why: `is not a private key this app can read (${parsed.message})`, remedy: KEY_TEXT_REMEDY };
  }
  const key = firstKey(parsed);
  if (key === undefined || !key.isPrivateKey())
    return { why: 'is not a private key this app can read (it holds a public key, not a private one)', remedy: KEY_TEXT_REMEDY };
  return null;
}

interface KeyErrors {
  passphrase: (passphraseGiven: boolean) => Error;
  passphraseUnneeded: () => Error;
  /** The key worker did not decrypt it (out of time, gone, too many keys waiting). */
  notDecrypted: (failure: Extract<PoolOutcome, { kind: 'unavailable' }>) => Error;
  /** `reason`: the parser's own words, or that it holds a public key; `remedy`: a specific one, when the refusal knows it. */
  unreadable: (reason: string, remedy?: string) => Error;
}

/** The words and remedy for a key refused on its header, before ssh2 saw it. */
function describeHeaderRefusal(refusal: KeyHeaderRefusal): { reason: string; remedy?: string } {
  switch (refusal.kind) {
    case 'kdf-rounds':
      return {
        reason: `its passphrase is stretched with ${refusal.rounds} bcrypt rounds; this app decrypts it at every login and allows at most ${MAX_KEY_KDF_ROUNDS}`,
        remedy: `Lower the rounds on a copy of the key: \`ssh-keygen -p -a 64 -f COPY\` (it asks for the old and a new passphrase; OpenSSH's default is 16), or remove the passphrase from the copy with \`ssh-keygen -p -N "" -f COPY\` (the vault seals the key either way).`,
      };
    case 'kdf-unknown':
      return { reason: `its passphrase is stretched with "${refusal.kdf}", which this app does not know` };
    case 'malformed':
      return { reason: `malformed OpenSSH private key: ${refusal.detail}` };
    case 'pkcs8':
      return {
        reason: `it is in ${refusal.encrypted ? 'encrypted ' : ''}PKCS#8 format (BEGIN ${refusal.encrypted ? 'ENCRYPTED ' : ''}PRIVATE KEY, as \`openssl genpkey\` writes it), which this app does not read`,
        remedy:
          'Rewrite a copy of an RSA or ECDSA key in OpenSSH format with `ssh-keygen -p -f COPY` (it asks for the old and a new passphrase); for an Ed25519 key in this format, make a new key with `ssh-keygen -t ed25519` and add its .pub to ~/.ssh/authorized_keys on the host.',
      };
  }
}

/**
 * ssh2's parser says what went wrong in its message: "... but no passphrase given" or "... --
 * bad passphrase?". A key without encryption is parsed here (cheap); an encrypted one is
 * decrypted on the key worker thread (key-decrypt-pool.ts), never on this one, and only once
 * its header showed it within the rounds cap.
 */
async function parsePrivateKey(
  data: Buffer,
  passphrase: string | undefined,
  options: KeyParseOptions,
  errors: KeyErrors,
): Promise<ParsedKey> {
  // Before ssh2 sees it: a key may ask for a decryption that would hold a thread for hours.
  const header = privateKeyHeaderRefusal(data);
  if (header !== null) {
    const { reason, remedy } = describeHeaderRefusal(header);
    throw errors.unreadable(reason, remedy);
  }
  // Without a passphrase ssh2 decrypts nothing: an encrypted key fails at once, before any key derivation.
  const plain = ssh2.utils.parseKey(data);
  if (!(plain instanceof Error)) {
    const key = firstKey(plain);
    if (key === undefined || !key.isPrivateKey()) throw errors.unreadable('it holds a public key, not a private one');
    if (options.refuseUnneededPassphrase && passphrase) throw errors.passphraseUnneeded();
    return key;
  }
  if (!/no passphrase given/i.test(plain.message)) throw errors.unreadable(plain.message);
  // An empty passphrase is tried, as ssh2 would; only a missing one is said to be missing.
  if (passphrase === undefined) throw errors.passphrase(false);
  const pool = options.decryptPool ?? sharedKeyDecryptPool();
  return keyOf(await pool.decrypt(data.toString('utf8'), passphrase), errors);
}

/** What the key worker answered, as the key ssh2 logs in with, or the refusal the same parser message always gave. */
function keyOf(outcome: PoolOutcome, errors: KeyErrors): ParsedKey {
  switch (outcome.kind) {
    case 'unavailable':
      throw errors.notDecrypted(outcome);
    case 'public-only':
      throw errors.unreadable('it holds a public key, not a private one');
    case 'parse-error':
      if (/no passphrase given/i.test(outcome.message)) throw errors.passphrase(false);
      if (/bad passphrase|bad decrypt/i.test(outcome.message)) throw errors.passphrase(true);
      throw errors.unreadable(outcome.message);
    case 'key': {
      // The decrypted key, without encryption and held in memory only: ssh2 reads it at the
      // cost of a plain parse. It must read as a private key needing no passphrase.
      const key = firstKey(ssh2.utils.parseKey(outcome.clearKey));
      if (key === undefined || !key.isPrivateKey()) throw errors.notDecrypted({ kind: 'unavailable', reason: 'bad-answer' });
      return key;
    }
  }
}

/** The OpenSSH format may hold several keys; OpenSSH itself writes one. Undefined for a parse error. */
function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | undefined {
  if (parsed instanceof Error) return undefined;
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey, kdfText, parseKdf, type ScryptParams } from '../secrets/passphrase-kdf';

/**
 * Operator passwords as stored: scrypt (memory-hard: N=2^15, r=8, p=1 is 32 MiB per guess)
 * with a salt of its own per operator. The parameters are stored beside the hash, so raising
 * them later leaves every stored hash verifiable. Cheaper than the vault's (N=2^17): every
 * sign-in of every pipe pays it, where the vault pays once per start.
 */
export const OPERATOR_PASSWORD_KDF: ScryptParams = { alg: 'scrypt', N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;

export interface PasswordHash {
  hash: Buffer;
  salt: Buffer;
  kdf: string;
}

/** Hashes a new password on libuv's thread pool, so a serving backend keeps answering meanwhile. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await deriveKey(password, salt, OPERATOR_PASSWORD_KDF);
  return { hash, salt, kdf: kdfText(OPERATOR_PASSWORD_KDF) };
}

/** Whether `password` is the one stored; a row whose parameters this version cannot read matches nothing. */
export async function passwordMatches(password: string, stored: PasswordHash): Promise<boolean> {
  const params = parseKdf(stored.kdf);
  if (params === null) return false;
  const candidate = await deriveKey(password, stored.salt, params);
  return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
}

/**
 * Whether a stored password is one some password can match: a row with no hash, or with
 * parameters this version cannot read (a configuration bundle's import stores
 * `unset:config-import`), signs no one in until an admin sets a password.
 */
export function passwordUsable(stored: PasswordHash): boolean {
  return stored.hash.length > 0 && parseKdf(stored.kdf) !== null;
}

/**
 * A hash no password matches, to spend the same work on an unknown name as on a known one:
 * a sign-in's time does not tell an attacker which names exist.
 */
export function decoyHash(): PasswordHash {
  return { hash: Buffer.alloc(32), salt: randomBytes(SALT_BYTES), kdf: kdfText(OPERATOR_PASSWORD_KDF) };
}

import { scrypt, scryptSync } from 'node:crypto';

/**
 * How a vault's key is stretched from the operator's passphrase. The parameters are
 * stored with the vault, so a vault keeps opening after they are raised, and is brought
 * up to the current ones on its next successful unlock.
 */
export interface ScryptParams {
  alg: 'scrypt';
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/**
 * OWASP's scrypt floor (N=2^17, r=8, p=1): 128 MiB of memory per guess, so a stolen
 * database costs an attacker that much per passphrase tried; about 0.3 s on a laptop,
 * paid once per unlock.
 */
export const CURRENT_KDF: ScryptParams = { alg: 'scrypt', N: 2 ** 17, r: 8, p: 1 };

/** What every vault made before parameters were stored used (migration 9 writes it down). */
export const LEGACY_KDF: ScryptParams = { alg: 'scrypt', N: 2 ** 14, r: 8, p: 1 };

const KEY_BYTES = 32;
/** Bounds on what a stored row may ask for: a damaged or planted row must not make us allocate gigabytes. */
const MAX_LOG2_N = 22;
const MAX_R = 32;
const MAX_P = 16;

/** Parses a stored parameter set; null when the text is not one this version can use. */
export function parseKdf(text: string | null): ScryptParams | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const { alg, N, r, p } = (value ?? {}) as Record<string, unknown>;
  if (alg !== 'scrypt' || !isInt(N) || !isInt(r) || !isInt(p)) return null;
  if (N < 2 || N > 2 ** MAX_LOG2_N || (N & (N - 1)) !== 0 || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return null;
  return { alg, N, r, p };
}

export function kdfText(params: ScryptParams): string {
  return JSON.stringify({ alg: params.alg, N: params.N, r: params.r, p: params.p });
}

/** True when a vault's parameters cost an attacker less than the current ones (it is re-sealed then). */
export function weakerThanCurrent(params: ScryptParams): boolean {
  return params.N * params.r * params.p < CURRENT_KDF.N * CURRENT_KDF.r * CURRENT_KDF.p;
}

export function deriveKeySync(passphrase: string, salt: Buffer, params: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, KEY_BYTES, options(params));
}

/** The same key, computed on libuv's thread pool so a serving backend keeps answering meanwhile. */
export function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, KEY_BYTES, options(params), (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function options(params: ScryptParams) {
  // scrypt needs 128·N·r bytes for its table plus 128·r·p for its blocks; Node refuses
  // anything over maxmem (32 MiB by default), so allow what these parameters need.
  return { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.r * (params.N + params.p) + 1024 * 1024 };
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

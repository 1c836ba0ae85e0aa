import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The install's keys: ECDSA P-256, signing with SHA-256. Every TLS stack the runtime and
 * the control center meet (Node's OpenSSL, grpc-js, the openssl CLI) speaks it, and its
 * keys are small enough to seal and ship over SSH without thought.
 *
 * @peculiar/x509 builds and signs certificates through WebCrypto; Node's own is used, so
 * nothing but Node is needed on the operator's machine (no openssl CLI on Windows).
 */
export const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

// Node's webcrypto is the standard Crypto, but its typings and the DOM's (which the tests
// compile with) differ in overloads nobody here uses; `never` fits either.
x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), what Node's tls, grpc-js and openssl all read. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * A PEM private key (PKCS#8 or OpenSSL's "EC PRIVATE KEY") as a key that signs.
 * Node parses the PEM first, so either form is accepted; throws when it is not P-256.
 */
export async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY_ALGORITHM, false, ['sign']);
}

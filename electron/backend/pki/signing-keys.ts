import { createPrivateKey, webcrypto } from 'node:crypto';

/**
 * The install's keys: ECDSA P-256, signing with SHA-256. Every TLS stack the runtime and
 * the control center meet (Node's OpenSSL, grpc-js, the openssl CLI) speaks it, and its
 * keys are small enough to seal and ship over SSH without thought.
 * Certificates are built with @peculiar/x509 on Node's WebCrypto (load-x509.ts).
 */
export const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), what Node's tls, grpc-js and openssl all read; no newline after its last line. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  return pem.endsWith('\n') ? pem.slice(0, -1) : pem;
}

/**
 * A PEM private key (PKCS#8 or OpenSSL's "EC PRIVATE KEY") as a key that signs.
 * Node parses the PEM first, so either form is accepted; throws when it is not P-256.
 */
export async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY_ALGORITHM, false, ['sign']);
}

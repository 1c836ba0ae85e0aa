/**
 * Checks the runtime's own TLS material before the server binds, so an expired
 * certificate or a key from another certificate is an error with a code and a remedy
 * at start, not an opaque handshake failure on every client later.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { RuntimeError } from '../runtime-error';

export interface ServerTlsMaterial {
  /** The install's CA: client certificates must be issued by it. */
  caCertPem: string;
  /** The runtime's server certificate (optionally followed by its chain). */
  certPem: string;
  keyPem: string;
}

const RENEW_REMEDY =
  "issue a new server certificate for this machine from the install's CA, point the runtime config at it and restart sutazai-runtime";

function parseCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new RuntimeError(
      'CERTIFICATE_INVALID',
      `the ${what} is not a PEM X.509 certificate`,
      `check the ${what} path in the runtime config; ${RENEW_REMEDY}`,
      { cause: error },
    );
  }
}

function checkValidity(cert: X509Certificate, what: string, now: Date): void {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (Number.isFinite(notAfter) && notAfter < now.getTime()) {
    throw new RuntimeError(
      'CERTIFICATE_INVALID',
      `the ${what} (${cert.subject.replace(/\n/g, ', ')}) expired on ${cert.validTo}`,
      RENEW_REMEDY,
    );
  }
  if (Number.isFinite(notBefore) && notBefore > now.getTime()) {
    throw new RuntimeError(
      'CERTIFICATE_INVALID',
      `the ${what} is not valid before ${cert.validFrom}`,
      "check this machine's clock (timedatectl); if it is right, wait or issue a certificate valid from now",
    );
  }
}

/** Throws RuntimeError CERTIFICATE_INVALID when the material cannot serve TLS right now. */
export function checkServerTlsMaterial(tls: ServerTlsMaterial, now: Date = new Date()): { notAfter: Date } {
  const ca = parseCertificate(tls.caCertPem, 'CA certificate');
  checkValidity(ca, 'CA certificate', now);
  const cert = parseCertificate(tls.certPem, 'server certificate');
  checkValidity(cert, 'server certificate', now);
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.keyPem);
  } catch (error) {
    throw new RuntimeError(
      'CERTIFICATE_INVALID',
      'the server key is not an unencrypted PEM private key',
      `check the key path in the runtime config; ${RENEW_REMEDY}`,
      { cause: error },
    );
  }
  if (!cert.checkPrivateKey(key)) {
    throw new RuntimeError(
      'CERTIFICATE_INVALID',
      `the server key does not match the server certificate (${cert.subject.replace(/\n/g, ', ')})`,
      `point the runtime config at the key the certificate was issued for, or ${RENEW_REMEDY}`,
    );
  }
  return { notAfter: new Date(Date.parse(cert.validTo)) };
}

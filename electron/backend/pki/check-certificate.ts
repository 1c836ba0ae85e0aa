import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import {
  certificateUnreadableError,
  expiredError,
  keyMismatchError,
  notIssuedByCaError,
  notYetValidError,
  privateKeyUnreadableError,
} from './pki-errors';

/**
 * Checks on the install's certificates, done with Node's own X.509 parser (the one TLS
 * uses), so what passes here is what the TLS handshake will accept. `what` names the
 * certificate in messages: "server certificate of db-1", "CA certificate".
 */

// Renew when less than this is left; the renewal feature lists what falls inside it.
export const DEFAULT_RENEW_WITHIN_DAYS = 30;
const DAY_MS = 24 * 3600_000;

export function parseCertificate(certPem: string, what = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch (error) {
    throw certificateUnreadableError(what, error);
  }
}

/** `CN=db-1, O=SutazAI` from Node's one-attribute-per-line form. */
export function subjectOf(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/** Throws PKI_KEY_MISMATCH when `keyPem` is not the private key of `certPem`. */
export function checkKeyMatchesCertificate(certPem: string, keyPem: string, what = 'certificate'): void {
  const cert = parseCertificate(certPem, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw privateKeyUnreadableError(what, error);
  }
  if (!cert.checkPrivateKey(key)) throw keyMismatchError(what, subjectOf(cert));
}

export type ValidityState = 'not-yet-valid' | 'valid' | 'renew-soon' | 'expired';

export interface CertificateValidity {
  state: ValidityState;
  notBefore: Date;
  notAfter: Date;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
}

export interface ValidityOptions {
  now?: Date;
  renewWithinDays?: number;
}

/** Where a certificate stands in its lifetime, as data: nothing is thrown for a dated one. */
export function certificateValidity(certPem: string, options: ValidityOptions = {}, what = 'certificate'): CertificateValidity {
  const cert = parseCertificate(certPem, what);
  const now = (options.now ?? new Date()).getTime();
  const notBefore = new Date(Date.parse(cert.validFrom));
  const notAfter = new Date(Date.parse(cert.validTo));
  const daysLeft = Math.floor((notAfter.getTime() - now) / DAY_MS);
  const renewWithinMs = (options.renewWithinDays ?? DEFAULT_RENEW_WITHIN_DAYS) * DAY_MS;
  const state: ValidityState =
    now < notBefore.getTime()
      ? 'not-yet-valid'
      : now > notAfter.getTime()
        ? 'expired'
        : notAfter.getTime() - now < renewWithinMs
          ? 'renew-soon'
          : 'valid';
  return { state, notBefore, notAfter, daysLeft };
}

/**
 * Throws PKI_CERT_EXPIRED or PKI_CERT_NOT_YET_VALID when the certificate cannot be used
 * now; a certificate due for renewal still passes, with `state: 'renew-soon'`.
 */
export function checkCertificateValidity(certPem: string, what = 'certificate', options: ValidityOptions = {}): CertificateValidity {
  const validity = certificateValidity(certPem, options, what);
  if (validity.state === 'expired' || validity.state === 'not-yet-valid') {
    const subject = subjectOf(parseCertificate(certPem, what));
    throw validity.state === 'expired'
      ? expiredError(what, subject, validity.notAfter)
      : notYetValidError(what, subject, validity.notBefore);
  }
  return validity;
}

/**
 * Throws PKI_CERT_INVALID unless `certPem` names `caCertPem` as its issuer and carries a
 * signature made by the CA's key: the name alone is not proof, another CA may share it.
 */
export function checkIssuedByCa(certPem: string, caCertPem: string, what = 'certificate'): void {
  const cert = parseCertificate(certPem, what);
  const ca = parseCertificate(caCertPem, 'CA certificate');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw notIssuedByCaError(what, subjectOf(cert), subjectOf(ca));
}

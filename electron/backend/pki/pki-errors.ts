import { ApiError } from '../../contract';

/**
 * The ways the install's certificates can be wrong, each with what to do about it.
 * Messages name the certificate by its subject and dates, never by key material.
 */

const REISSUE = "issue a new one from the install's CA (renewing the install's certificates does this for every host)";

export function nameInvalidError(what: string, value: string, why: string): ApiError {
  return new ApiError(
    'PKI_NAME_INVALID',
    `The ${what} "${value}" cannot go into a certificate: ${why}.`,
    'Use a DNS name (letters, digits and hyphens, dot-separated) or an IPv4/IPv6 address, as the machine is reached.',
  );
}

export function certificateUnreadableError(what: string, cause: unknown): ApiError {
  return new ApiError(
    'PKI_CERT_INVALID',
    `The ${what} is not a PEM X.509 certificate.`,
    `Check that the right file was chosen; if it is lost, ${REISSUE}.`,
    { cause },
  );
}

export function privateKeyUnreadableError(what: string, cause: unknown): ApiError {
  return new ApiError(
    'PKI_KEY_MISMATCH',
    `The private key of the ${what} is not an unencrypted PEM private key.`,
    `Check that the right key file was chosen; if it is lost, ${REISSUE}.`,
    { cause },
  );
}

export function keyMismatchError(what: string, subject: string): ApiError {
  return new ApiError(
    'PKI_KEY_MISMATCH',
    `The private key does not belong to the ${what} (${subject}).`,
    `Use the key that was made with this certificate; if it is lost, ${REISSUE}.`,
  );
}

/** The install's row names no sealed CA key (or the vault lost it): the install can sign nothing. */
export function caKeyMissingError(installName: string): ApiError {
  return new ApiError(
    'PKI_CA_KEY_MISSING',
    `The CA key of the install ${installName} is no longer in the vault.`,
    'Without it the install can neither issue certificates nor ask its runtimes how they are: restore the data directory from a backup, or install under a new name.',
  );
}

export function expiredError(what: string, subject: string, notAfter: Date): ApiError {
  return new ApiError('PKI_CERT_EXPIRED', `The ${what} (${subject}) expired on ${notAfter.toISOString()}.`, `Renew it: ${REISSUE}.`);
}

export function notYetValidError(what: string, subject: string, notBefore: Date): ApiError {
  return new ApiError(
    'PKI_CERT_NOT_YET_VALID',
    `The ${what} (${subject}) is not valid before ${notBefore.toISOString()}.`,
    "Check this machine's clock (and the clock of the machine that issued it); if both are right, wait until then or issue one valid from now.",
  );
}

export function notIssuedByCaError(what: string, subject: string, caSubject: string): ApiError {
  return new ApiError(
    'PKI_CERT_INVALID',
    `The ${what} (${subject}) was not issued by this install's CA (${caSubject}).`,
    `It comes from another install or another CA: ${REISSUE}.`,
  );
}

export function notACaError(subject: string): ApiError {
  return new ApiError(
    'PKI_CERT_INVALID',
    `The certificate ${subject} is not a certificate authority (no CA basic constraint or no keyCertSign usage).`,
    "Use the install's CA certificate, the one created with the install.",
  );
}

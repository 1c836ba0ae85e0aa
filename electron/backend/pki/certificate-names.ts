import { isIP } from 'node:net';
import { nameInvalidError } from './pki-errors';

/**
 * The names that go into the install's certificates, checked before anything is signed:
 * a certificate with a misspelt name fails every handshake later, far from the cause.
 */

// X.520's upper bound for a commonName.
const MAX_COMMON_NAME = 64;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function isDnsName(value: string): boolean {
  const name = value.toLowerCase();
  return name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label)) && isIP(name) === 0;
}

/** A subject commonName: one printable line, at most 64 characters. */
export function checkCommonName(what: string, value: string): string {
  const name = value.trim();
  if (name === '') throw nameInvalidError(what, value, 'it is empty');
  if (name.length > MAX_COMMON_NAME) throw nameInvalidError(what, value, `it is longer than ${MAX_COMMON_NAME} characters`);
  if (/\p{Cc}/u.test(name)) throw nameInvalidError(what, value, 'it holds a control character');
  return name;
}

/** A DNS name for a subjectAltName, lower-cased (names compare without case). */
export function checkDnsName(value: string): string {
  const name = value.trim().toLowerCase();
  if (!isDnsName(name)) throw nameInvalidError('DNS name', value, 'it is not a DNS name');
  return name;
}

/** An IPv4 or IPv6 address for a subjectAltName. */
export function checkIpAddress(value: string): string {
  const address = value.trim();
  if (isIP(address) === 0) throw nameInvalidError('IP address', value, 'it is not an IPv4 or IPv6 address');
  return address;
}

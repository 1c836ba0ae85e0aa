/**
 * The caller's role, read from its verified client certificate (the URI that names it:
 * wire/roles.ts). A certificate with no role URI, an unknown role or two different roles
 * gets no role at all: ambiguity never grants access.
 *
 * Only the certificate TLS verified against the install's CA reaches this function
 * (the server requires and checks client certificates), so the URI can be trusted.
 */
import type { PeerCertificate } from 'node:tls';
import { isRole, ROLE_URI_PREFIX, ROLES, type Role } from '../wire/roles';

export type ClientRole =
  { ok: true; role: Role } | { ok: false; reason: 'no-certificate' | 'no-role' | 'unknown-role' | 'conflicting-roles'; detail: string };

/**
 * Splits Node's `subjectaltname` ("DNS:a, URI:urn:x, IP Address:127.0.0.1") into entries.
 * Since Node 17.3.1 a value holding a comma, quote or other special character is written
 * as a JSON string (`URI:"urn:a,b"`), so a comma inside quotes does not split.
 */
export function parseSubjectAltName(san: string): { type: string; value: string }[] {
  const entries: { type: string; value: string }[] = [];
  let i = 0;
  while (i < san.length) {
    while (san[i] === ' ' || san[i] === ',') i++;
    if (i >= san.length) break;
    const colon = san.indexOf(':', i);
    if (colon === -1) break;
    const type = san.slice(i, colon).trim();
    i = colon + 1;
    let value: string;
    if (san[i] === '"') {
      let end = i + 1;
      while (end < san.length && san[end] !== '"') end += san[end] === '\\' ? 2 : 1;
      const quoted = san.slice(i, end + 1);
      try {
        value = JSON.parse(quoted) as string;
      } catch {
        value = quoted;
      }
      i = end + 1;
    } else {
      const comma = san.indexOf(',', i);
      const end = comma === -1 ? san.length : comma;
      value = san.slice(i, end).trim();
      i = end;
    }
    entries.push({ type, value });
  }
  return entries;
}

/** The role named by the SAN URIs of a certificate. */
export function roleFromSubjectAltName(san: string | undefined): ClientRole {
  const uris = parseSubjectAltName(san ?? '')
    .filter((entry) => entry.type === 'URI' && entry.value.toLowerCase().startsWith(ROLE_URI_PREFIX))
    .map((entry) => entry.value.slice(ROLE_URI_PREFIX.length));
  if (uris.length === 0) {
    return { ok: false, reason: 'no-role', detail: `the client certificate has no ${ROLE_URI_PREFIX}<role> URI in its subjectAltName` };
  }
  const unknown = uris.filter((value) => !isRole(value));
  if (unknown.length > 0) {
    return {
      ok: false,
      reason: 'unknown-role',
      detail: `the client certificate names an unknown role "${unknown[0]}" (known: ${ROLES.join(', ')})`,
    };
  }
  const roles = [...new Set(uris)] as Role[];
  if (roles.length > 1) {
    return { ok: false, reason: 'conflicting-roles', detail: `the client certificate names more than one role (${roles.join(', ')})` };
  }
  return { ok: true, role: roles[0] as Role };
}

/**
 * The role of a peer as grpc-js reports it (`call.getAuthContext().sslPeerCertificate`).
 * Node gives an empty object, not undefined, when the peer sent no certificate.
 */
export function roleFromPeerCertificate(cert: PeerCertificate | undefined | null): ClientRole {
  if (!cert || Object.keys(cert).length === 0 || !cert.raw) {
    return { ok: false, reason: 'no-certificate', detail: 'the connection carries no client certificate' };
  }
  return roleFromSubjectAltName(cert.subjectaltname);
}

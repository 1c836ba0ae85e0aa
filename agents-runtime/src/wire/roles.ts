/**
 * The operator roles, and how a client certificate names one: a subjectAltName URI
 * `urn:sutazai:role:<role>`. A SAN URI is an extension the issuing CA signs like any other,
 * it is typed (unlike a free-text OU that tools and people also use for department names),
 * and Node hands it over already parsed in `subjectaltname`. The control center's CA
 * writes it (roleUri); the runtime reads it back (server/client-role.ts).
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_URI_PREFIX = 'urn:sutazai:role:';

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The SAN URI that carries `role`, for the CA that issues client certificates. */
export function roleUri(role: Role): string {
  return `${ROLE_URI_PREFIX}${role}`;
}

/**
 * Beside the role, a client certificate names whom it was issued to: an operator
 * (`urn:sutazai:operator:<name>`, so a runtime can refuse a removed operator's certificate
 * and audit calls in their name) or the control center itself (`urn:sutazai:control-center`,
 * whose calls made for an operator carry that operator's access token).
 */
export const OPERATOR_URI_PREFIX = 'urn:sutazai:operator:';
export const CONTROL_CENTER_URI = 'urn:sutazai:control-center';

/** Percent-encoded: an operator name may hold characters (a space) a URI may not. */
export function operatorUri(name: string): string {
  return `${OPERATOR_URI_PREFIX}${encodeURIComponent(name)}`;
}

/** The operator an operator URI names, or null when it is not one (or not decodable). */
export function operatorFromUri(uri: string): string | null {
  if (!uri.toLowerCase().startsWith(OPERATOR_URI_PREFIX)) return null;
  try {
    const name = decodeURIComponent(uri.slice(OPERATOR_URI_PREFIX.length));
    return name === '' ? null : name;
  } catch {
    return null;
  }
}

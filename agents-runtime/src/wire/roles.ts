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

/**
 * Who is calling, from everything the call carries: the client certificate TLS verified
 * (its role, serial and the operator or control center it names), the access token in the
 * `authorization` metadata when there is one, and the access state the control center
 * pushed (revocations, the operators' current roles). The role that counts is the lowest
 * of those that speak: a token never raises what the certificate allows, and an operator
 * demoted in the control center is demoted here with the next push.
 */
import type { PeerCertificate } from 'node:tls';
import { RuntimeError } from '../runtime-error';
import { CONTROL_CENTER_URI, OPERATOR_URI_PREFIX, operatorFromUri, type Role } from '../wire/roles';
import type { AccessView } from './access-state';
import type { AccessTokenVerifier } from './access-token';
import { parseSubjectAltName, roleFromPeerCertificate, type ClientRole } from './client-role';
import { isProviderToken, verifyProviderToken } from './oidc-token';
import { roleAtLeast } from './role-policy';

export interface CallerIdentity {
  /** The operator the call is made for, or the certificate's subject when it names none. */
  subject: string;
  /** Lowest of the certificate's, the token's and the operator's current role; null when the certificate has none. */
  role: ClientRole;
  attributes: Record<string, unknown>;
  /** How the subject is known. */
  via: 'token' | 'certificate';
  /**
   * The call is the control center's own: its certificate (urn:sutazai:control-center, no
   * operator named) and no operator's token. Only such a call may push the access state.
   */
  controlCenter: boolean;
}

const BEARER = /^Bearer\s+(\S+)$/i;

function lowest(a: Role, b: Role): Role {
  return roleAtLeast(a, b) ? b : a;
}

function revoked(what: string): RuntimeError {
  return new RuntimeError(
    'CREDENTIAL_REVOKED',
    `${what} has been revoked by the control center`,
    'an operator removed, disabled or whose certificate was revoked cannot reach the runtimes: ask an admin',
  );
}

/**
 * Once the control center has pushed its operators, a name it did not list is no operator
 * of the install (removed): refused like a revoked one.
 */
function checkOperator(name: string, view: AccessView): void {
  if (view.isSubjectRevoked(name)) throw revoked(`the operator ${name}`);
  if (view.state.version > 0 && view.operator(name) === undefined)
    throw new RuntimeError(
      'CREDENTIAL_REVOKED',
      `${name} is not an operator of this install (removed from the control center)`,
      'an operator removed, disabled or whose certificate was revoked cannot reach the runtimes: ask an admin',
    );
}

interface CertificateNames {
  serialHex: string;
  operator: string | null;
  controlCenter: boolean;
  commonName: string;
}

function namesOf(cert: PeerCertificate): CertificateNames {
  const uris = parseSubjectAltName(cert.subjectaltname ?? '')
    .filter((entry) => entry.type === 'URI')
    .map((entry) => entry.value);
  const operatorUris = uris.filter((uri) => uri.toLowerCase().startsWith(OPERATOR_URI_PREFIX));
  const operators = [...new Set(operatorUris.map(operatorFromUri))];
  return {
    serialHex: cert.serialNumber ?? '',
    // Two operator names in one certificate name nobody: it is judged by its role alone, never as either.
    operator: operators.length === 1 ? (operators[0] ?? null) : null,
    controlCenter: uris.includes(CONTROL_CENTER_URI),
    commonName: typeof cert.subject?.CN === 'string' ? cert.subject.CN : '',
  };
}

/**
 * The caller, or a RuntimeError (CREDENTIAL_REVOKED, ACCESS_TOKEN_INVALID) saying why the
 * call is refused before its role is even looked at.
 */
export async function identifyCaller(
  cert: PeerCertificate | undefined | null,
  authorization: string | undefined,
  view: AccessView,
  tokens: AccessTokenVerifier,
): Promise<CallerIdentity> {
  const certRole = roleFromPeerCertificate(cert);
  const names = (!certRole.ok && certRole.reason === 'no-certificate') || !cert ? null : namesOf(cert);
  if (names !== null && names.serialHex !== '' && view.isSerialRevoked(names.serialHex))
    throw revoked(`the client certificate (serial ${names.serialHex.toLowerCase()})`);
  if (names?.operator) checkOperator(names.operator, view);

  const narrow = (role: ClientRole, subject: string): ClientRole => {
    const current = view.operator(subject);
    return role.ok && current ? { ok: true, role: lowest(role.role, current.role) } : role;
  };

  if (authorization !== undefined) {
    const bearer = BEARER.exec(authorization.trim());
    if (bearer === null)
      throw new RuntimeError(
        'ACCESS_TOKEN_INVALID',
        'the authorization metadata is not "Bearer <token>"',
        'send the access token the control center signed as authorization: Bearer <token>',
      );
    const token = bearer[1] as string;
    // oauth2: a token of the site's provider (its `iss`) is checked against the provider's pushed keys, any other as the control center's own.
    const oidc = view.state.authenticationMethod === 'oauth2' ? (view.state.oidc ?? null) : null;
    const provider = isProviderToken(token, oidc);
    const claims = provider
      ? await verifyProviderToken(token, oidc as NonNullable<typeof oidc>, Date.now())
      : await tokens.verify(token, view);
    checkOperator(claims.subject, view);
    // An operator's own certificate carries their own tokens only: another's would lend its attributes and audit name.
    if (names?.operator && names.operator.toLowerCase() !== claims.subject.toLowerCase())
      throw new RuntimeError(
        'ACCESS_TOKEN_INVALID',
        `the access token is for ${claims.subject}, and the client certificate is ${names.operator}'s`,
        'send a token with your own certificate, or make the call through the control center',
      );
    const role: ClientRole = certRole.ok ? { ok: true, role: lowest(certRole.role, claims.role) } : certRole;
    const current = view.operator(claims.subject);
    return {
      subject: claims.subject,
      role: narrow(role, claims.subject),
      // A provider's claims fill only the attributes the control center's record leaves unset: the record bounds them.
      attributes: provider ? { ...claims.attributes, ...current?.attributes } : (current?.attributes ?? claims.attributes),
      via: 'token',
      controlCenter: false,
    };
  }

  if (view.state.authenticationMethod !== 'mtls' && names !== null && !names.controlCenter)
    throw new RuntimeError(
      'ACCESS_TOKEN_INVALID',
      `this install uses access tokens (authentication_method: ${view.state.authenticationMethod}), and the call carries none`,
      'make the call through the control center, which adds a short-lived token for its operator',
    );
  const subject = names?.operator ?? names?.commonName ?? '';
  return {
    subject,
    role: names?.operator ? narrow(certRole, names.operator) : certRole,
    attributes: (names?.operator && view.operator(names.operator)?.attributes) || {},
    via: 'certificate',
    controlCenter: names !== null && names.controlCenter && names.operator === null,
  };
}

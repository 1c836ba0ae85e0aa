/**
 * `authentication_method: oauth2`: access tokens of the site's own OpenID Connect provider
 * (Keycloak, ADFS, ...), checked against the provider's keys as the control center pushed
 * them with the access state (SetAccessState `oidc`). A runtime never reaches the provider:
 * offline sites keep working, and rotating a key at the provider reaches the runtimes with
 * the control center's next refresh and push.
 *
 * A provider's access token is a bearer token used for many calls during its life, so it
 * is not kept to one call as the control center's own tokens are; it is bound to the
 * provider (`iss`), this audience, a bounded life and an allow-list of algorithms, and it
 * travels only with a client certificate of the install (mutual TLS) that names no other
 * operator. The operator it names must be one the control center lists and has not disabled.
 */
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { OidcVerification__Output } from '../generated/sutazai/runtime/v1/OidcVerification';
import { RuntimeError } from '../runtime-error';
import { isRole, ROLES, type Role } from '../wire/roles';
import { roleAtLeast } from './role-policy';
import { checkTokenLifetime, clockRefusal, tokenClockOptions } from './token-clock';

/** Algorithms a provider's tokens may use: asymmetric only (an HMAC key would be a secret shared with every runtime). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
/** The attributes a provider's claims may supply (those the access policy reads). */
export const OIDC_ATTRIBUTES = ['team', 'installs', 'hostLabels', 'processes', 'hours'] as const;
/** The longest life (exp - iat) a configuration may allow. */
export const OIDC_MAX_LIFETIME_S = 24 * 3600;
/** A key set pushed is public keys only; this bounds what a runtime parses and holds. */
const MAX_JWKS_CHARS = 256 * 1024;

export interface OidcSettings {
  issuer: string;
  audience: string;
  /** The provider's JWKS as JSON text ({"keys": [...]}). */
  jwksJson: string;
  algorithms: string[];
  operatorClaim: string;
  roleClaim: string;
  roleMap: Array<{ value: string; role: Role }>;
  attributeClaims: Array<{ attribute: string; claim: string }>;
  maxTokenLifetimeS: number;
}

export interface ProviderTokenClaims {
  subject: string;
  role: Role;
  /** Only the configured attributes the token states. */
  attributes: Record<string, unknown>;
  expiresAtMs: number;
}

function invalid(message: string): RuntimeError {
  return new RuntimeError(
    'CONFIG_INVALID',
    `the access state's OpenID Connect settings are invalid: ${message}`,
    'this is a defect of the control center that pushed it: report it with this message',
  );
}

/** Checks settings pushed or read back from the state file; throws CONFIG_INVALID. */
export function checkOidcSettings(settings: OidcSettings): OidcSettings {
  if (settings.issuer === '') throw invalid('no issuer');
  if (settings.audience === '') throw invalid('no audience');
  if (settings.operatorClaim === '' || settings.roleClaim === '') throw invalid('no operator or role claim');
  if (settings.algorithms.length === 0) throw invalid('no algorithm allowed');
  for (const alg of settings.algorithms)
    if (!(OIDC_ALGORITHMS as readonly string[]).includes(alg))
      throw invalid(`algorithm ${JSON.stringify(alg)} is not one of ${OIDC_ALGORITHMS.join(', ')}`);
  for (const { value, role } of settings.roleMap)
    if (value === '' || !isRole(role)) throw invalid(`role mapping ${JSON.stringify(value)} -> ${JSON.stringify(role)}`);
  for (const { attribute, claim } of settings.attributeClaims)
    if (!(OIDC_ATTRIBUTES as readonly string[]).includes(attribute) || claim === '')
      throw invalid(`attribute claim ${JSON.stringify(attribute)}`);
  if (!Number.isInteger(settings.maxTokenLifetimeS) || settings.maxTokenLifetimeS < 1 || settings.maxTokenLifetimeS > OIDC_MAX_LIFETIME_S)
    throw invalid(`max token lifetime ${settings.maxTokenLifetimeS} s is not from 1 to ${OIDC_MAX_LIFETIME_S}`);
  keySetOf(settings);
  return settings;
}

export function oidcFromWire(wire: OidcVerification__Output | null | undefined): OidcSettings | null {
  if (wire === null || wire === undefined) return null;
  return checkOidcSettings({
    issuer: wire.issuer,
    audience: wire.audience,
    jwksJson: wire.jwksJson,
    algorithms: wire.algorithms,
    operatorClaim: wire.operatorClaim,
    roleClaim: wire.roleClaim,
    roleMap: wire.roleMap.map((entry) => ({ value: entry.value, role: entry.role as Role })),
    attributeClaims: wire.attributeClaims.map((entry) => ({ attribute: entry.attribute, claim: entry.claim })),
    maxTokenLifetimeS: wire.maxTokenLifetimeS,
  });
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
/** One resolver per settings object (a state is replaced whole, never changed). */
const keySets = new WeakMap<OidcSettings, KeyResolver>();

function keySetOf(settings: OidcSettings): KeyResolver {
  const held = keySets.get(settings);
  if (held !== undefined) return held;
  if (settings.jwksJson.length > MAX_JWKS_CHARS) throw invalid(`the key set is larger than ${MAX_JWKS_CHARS} characters`);
  let jwks: unknown;
  try {
    jwks = JSON.parse(settings.jwksJson);
  } catch {
    throw invalid('the key set is not JSON');
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid('the key set holds no keys');
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) throw invalid('a key of the set is not an object');
    const jwk = key as Record<string, unknown>;
    // A private part or a symmetric key pushed to every host would be a secret spread wide.
    if (jwk.kty === 'oct' || 'd' in jwk || 'p' in jwk || 'k' in jwk) throw invalid('the key set holds a private or symmetric key');
  }
  const resolver = createLocalJWKSet(jwks as JSONWebKeySet);
  keySets.set(settings, resolver);
  return resolver;
}

/** Whether `token` says it comes from the provider (not verified: only to choose how it is checked). */
export function isProviderToken(token: string, settings: OidcSettings | null): settings is OidcSettings {
  if (settings === null) return false;
  try {
    return decodeJwt(token).iss === settings.issuer;
  } catch {
    return false;
  }
}

const REMEDY = "sign in again at the site's identity provider for a fresh token, and check that this host keeps time (NTP)";

function refused(message: string, remedy = REMEDY): RuntimeError {
  return new RuntimeError('ACCESS_TOKEN_INVALID', `the identity provider's token ${message}`, remedy);
}

function reasonOf(error: unknown, settings: OidcSettings): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const clock = clockRefusal(error, settings.maxTokenLifetimeS, refused);
  if (clock !== null) return clock;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return refused(
        `is meant for ${JSON.stringify(error.payload.aud ?? '(no audience)')}, not for ${settings.audience}`,
        'use a token issued for SutazAI',
      );
    return refused(`has an invalid "${error.claim}" claim (${error.reason})`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return refused(`is not signed with an allowed algorithm (${settings.algorithms.join(', ')})`);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return refused(
      'is signed with a key the control center has not pushed (rotated out at the provider, or forged)',
      "sign in again: a key rotated at the provider reaches the runtimes with the control center's next refresh",
    );
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refused('has a signature that does not verify with the key it names', 'the token was altered or forged: sign in again');
  return refused(`cannot be read (${error instanceof Error ? error.message : String(error)})`);
}

function highestMappedRole(value: unknown, settings: OidcSettings): Role | null {
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  let best: Role | null = null;
  for (const v of values)
    for (const { value: mapped, role } of settings.roleMap) if (mapped === v && (best === null || roleAtLeast(role, best))) best = role;
  return best;
}

export async function verifyProviderToken(token: string, settings: OidcSettings, nowMs: number): Promise<ProviderTokenClaims> {
  let payload: JWTPayload;
  let typ: unknown;
  try {
    ({
      payload,
      protectedHeader: { typ },
    } = await jwtVerify(token, keySetOf(settings), {
      algorithms: settings.algorithms,
      issuer: settings.issuer,
      audience: settings.audience,
      ...tokenClockOptions(nowMs, settings.maxTokenLifetimeS),
      requiredClaims: ['exp', 'iat'],
    }));
  } catch (error) {
    throw reasonOf(error, settings);
  }
  refuseIdToken(payload, typ);
  checkTokenLifetime(payload, settings.maxTokenLifetimeS, refused);
  const { exp } = payload as Required<Pick<JWTPayload, 'exp'>>;
  const subject = payload[settings.operatorClaim];
  if (typeof subject !== 'string' || subject === '' || subject.length > 200)
    throw refused(
      `names no operator in its "${settings.operatorClaim}" claim`,
      'ask the administrator of the identity provider to release that claim to SutazAI',
    );
  const role = highestMappedRole(payload[settings.roleClaim], settings);
  if (role === null || !isRole(role))
    throw refused(
      `maps to no role: its "${settings.roleClaim}" claim holds none of ${settings.roleMap.map((m) => m.value).join(', ')} (roles: ${ROLES.join(', ')})`,
      "ask an admin to give you a group the control center's role map names",
    );
  const attributes: Record<string, unknown> = {};
  for (const { attribute, claim } of settings.attributeClaims)
    if (payload[claim] !== undefined) attributes[attribute] = attributeOf(attribute, claim, payload[claim]);
  return { subject, role, attributes, expiresAtMs: exp * 1000 };
}

/** Claims only an ID token carries (OpenID Connect Core 2, 3.1.3.6, 3.3.2.11). */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash'] as const;
/**
 * Header types an access token may carry: `at+jwt` (RFC 9068) and the generic `JWT` that
 * Keycloak, ADFS and others put on their access tokens; no `typ` is accepted too (many
 * providers send none). Anything else (an ID token's `id_token+jwt`, a logout token's
 * `logout+jwt`, ...) is another kind of token.
 */
const ACCESS_TOKEN_TYPES: ReadonlySet<string> = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt']);

/**
 * An ID token is signed by the same provider and, by default, names the client id as its
 * audience: taken as an access token it would let any page that obtained a user's ID token
 * act as that user at the runtimes. Refused by its markers and by a header type that says so.
 */
function refuseIdToken(payload: JWTPayload, typ: unknown): void {
  const marker = ID_TOKEN_CLAIMS.find((claim) => payload[claim] !== undefined);
  if (marker !== undefined)
    throw refused(
      `is an ID token (it carries "${marker}"), not an access token`,
      "send the provider's access token, issued for SutazAI's audience, not the ID token",
    );
  if (typ !== undefined && (typeof typ !== 'string' || !ACCESS_TOKEN_TYPES.has(typ.toLowerCase())))
    throw refused(`has the header type ${JSON.stringify(typ)}, not an access token's (at+jwt or JWT)`, "send the provider's access token");
}

/** The attributes the access policy reads as lists of names (the others are one text each). */
const LIST_ATTRIBUTES: ReadonlySet<string> = new Set(['installs', 'hostLabels', 'processes']);
const MAX_ATTRIBUTE_ITEMS = 1000;

/**
 * A claim's value as the policy reads the attribute, or the token refused: the policy calls
 * `includes` on a list, which on a text would match any part of it ("lab-prod" would include
 * install "lab"), widening an operator's limits and the rules that select them.
 */
function attributeOf(attribute: string, claim: string, value: unknown): unknown {
  if (!LIST_ATTRIBUTES.has(attribute)) {
    if (typeof value === 'string') return value;
  } else {
    // A provider releases a single-valued attribute as a text: one name.
    const list = typeof value === 'string' ? [value] : value;
    if (Array.isArray(list) && list.length <= MAX_ATTRIBUTE_ITEMS && list.every((item) => typeof item === 'string')) return list;
  }
  throw refused(
    `has a "${claim}" claim (the attribute ${attribute}) that is not ${LIST_ATTRIBUTES.has(attribute) ? 'a text or a list of texts' : 'a text'}`,
    `ask the administrator of the identity provider to release "${claim}" as ${LIST_ATTRIBUTES.has(attribute) ? 'a list of names' : 'one text'}, or the control center's admin to set ${attribute} on the operator`,
  );
}

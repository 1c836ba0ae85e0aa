/**
 * `system_integration.security.oauth2` as an install's hosts were last applied with, and
 * what of it a runtime is told (SetAccessState `oidc`) once the provider's keys are known.
 */
import type { Role, SetAccessStateRequest } from '../../../agents-runtime/src/wire';

/** SetAccessState's `oidc`: the provider as a runtime checks its tokens. */
export type OidcVerification = NonNullable<SetAccessStateRequest['oidc']>;

/** The configuration section, as install-config-schema.ts checks it. */
export interface OAuth2Config {
  issuer: string;
  client_id: string;
  /** The `aud` access tokens must name (required: the client id is what ID tokens name). */
  audience: string;
  /** Offline key pinning: the provider's JWKS read from this file on the control center's machine, never fetched. */
  jwks_file?: string;
  /** PEM of the CA the provider's HTTPS certificate is from, when it is not one Node trusts. */
  ca_file?: string;
  algorithms: string[];
  operator_claim: string;
  role_claim: string;
  role_map: Record<string, Role>;
  attribute_claims?: Record<string, string>;
  max_token_lifetime_seconds: number;
  /** How often the provider's keys are fetched (or the file read) again: a rotated key reaches the runtimes within this and one push. */
  refresh_seconds: number;
}

/** The host's oauth2 section when its authentication method is oauth2, else null. */
export function oauth2ConfigOf(hostConfigJson: string): OAuth2Config | null {
  const config = JSON.parse(hostConfigJson) as {
    system_integration?: { security?: { authentication_method?: unknown; oauth2?: OAuth2Config } };
  };
  const security = config.system_integration?.security;
  return security?.authentication_method === 'oauth2' && security.oauth2 ? security.oauth2 : null;
}

/** What the key source reads a provider's keys by: the runtimes' oauth2 sections and the control center's own sign-in provider alike. */
export type KeySourceConfig = Pick<OAuth2Config, 'issuer' | 'jwks_file' | 'ca_file'>;

/** Where the provider's keys come from: one source per issuer and file, shared by the installs naming it. */
export function keySourceId(config: KeySourceConfig): string {
  return JSON.stringify([config.issuer, config.jwks_file ?? null, config.ca_file ?? null]);
}

export function oidcVerificationOf(config: OAuth2Config, jwksJson: string): OidcVerification {
  return {
    issuer: config.issuer,
    audience: config.audience,
    jwksJson,
    algorithms: config.algorithms,
    operatorClaim: config.operator_claim,
    roleClaim: config.role_claim,
    // Sorted: the same configuration gives the same state, hence the same version.
    roleMap: Object.entries(config.role_map)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([value, role]) => ({ value, role })),
    attributeClaims: Object.entries(config.attribute_claims ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([attribute, claim]) => ({ attribute, claim })),
    maxTokenLifetimeS: config.max_token_lifetime_seconds,
  };
}

import { ConfigError } from './config-error';
import { describeOrigin, LAYER_KINDS, type Origin } from './config-layer';
import type { MergedLayers } from './merge-layers';

/**
 * The `system_integration` values that have an effect in this release (issue 14, item 7).
 * The schema knows every value of the System Integration Guide; a value it accepts but
 * nothing acts on would promise what the install does not do (tokens, attribute policies,
 * a REST fallback, traces), so it is refused with CONFIG_UNSUPPORTED until it has one.
 * `monitoring.metrics_collection` is not here: both its values act (runtime /metrics or none).
 */
export const SUPPORTED_SYSTEM_INTEGRATION: ReadonlyArray<{ key: string; values: readonly string[]; why: string }> = [
  { key: 'system_integration.version', values: ['1.0.0'], why: 'the version of the integration settings this release reads' },
  {
    key: 'system_integration.deployment_mode',
    values: ['local', 'on-premise'],
    why: 'the control center installs on machines it reaches over SSH; it provisions no cloud machines',
  },
  {
    key: 'system_integration.performance_profile',
    values: ['balanced'],
    why: 'no profile changes a setting yet; set agents.replicas_per_host and the runtime and core settings directly',
  },
  {
    key: 'system_integration.security.authentication_method',
    values: ['mtls', 'jwt', 'oauth2'],
    why: "the runtime checks client certificates from the install's CA, with jwt the short-lived tokens the control center signs, and with oauth2 also the access tokens of the site's OpenID Connect provider (security.oauth2)",
  },
  {
    key: 'system_integration.security.access_control',
    values: ['rbac', 'abac'],
    why: 'roles (viewer, operator, admin) are checked, and with abac the access policy of config/policies too, by the control center and the runtimes',
  },
  { key: 'system_integration.communication.primary_protocol', values: ['grpc'], why: 'the runtime serves its API over gRPC only' },
  { key: 'system_integration.communication.fallback_protocol', values: ['none'], why: 'the runtime serves no second protocol' },
  { key: 'system_integration.monitoring.tracing', values: ['none'], why: 'no traces are exported yet' },
];

/**
 * Refuses the first value without effect, preferring the highest layer's (the likelier
 * recent edit), with where it was written, what is supported and why.
 */
export function checkSupported(config: object, merged: MergedLayers): void {
  let worst: { key: string; value: unknown; values: readonly string[]; why: string; origin: Origin } | null = null;
  for (const { key, values, why } of SUPPORTED_SYSTEM_INTEGRATION) {
    const value = key.split('.').reduce<unknown>((at, step) => (at as Record<string, unknown> | undefined)?.[step], config);
    if (typeof value === 'string' && values.includes(value)) continue;
    const origin = merged.settings.get(key)?.at(-1)?.origin;
    if (origin === undefined) continue;
    if (worst === null || LAYER_KINDS.indexOf(origin.kind) > LAYER_KINDS.indexOf(worst.origin.kind))
      worst = { key, value, values, why, origin };
  }
  if (worst === null) return;
  const { key, value, values, why, origin } = worst;
  const where = origin.kind === 'env' ? `unset ${origin.file}` : `remove it from ${origin.file}`;
  throw new ConfigError(
    'CONFIG_UNSUPPORTED',
    `${describeOrigin(origin)}: ${key}: ${JSON.stringify(value)} is not supported yet (${why}); supported: ${values.join(', ')}.`,
    `Set ${key} to ${values.join(' or ')}, or ${where} to take the default.`,
    { origin, key },
  );
}

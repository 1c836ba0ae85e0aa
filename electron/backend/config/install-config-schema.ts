import { isIP } from 'node:net';
import { z } from 'zod';
import { LOG_TIMESTAMPS } from '../../../agents-runtime/src/wire';
import { MAX_HOST_AUDIT_LOG_BYTES } from '../../contract/audit';
import { closestMatch } from './closest-match';

/**
 * The install configuration: what the offline installer and the runtime on each host
 * need, plus the `system_integration` block of the System Integration Guide. Every
 * object is strict (an unknown key is refused, with a suggestion), every number has a
 * range, and config/defaults.yaml sets every key, so the merged result has no gaps.
 * Names and defaults follow agents-runtime (runtime-config.ts, manifests/default.yaml).
 */

export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export const DEPLOYMENT_MODES = ['local', 'on-premise', 'cloud', 'hybrid'] as const;
export const PERFORMANCE_PROFILES = ['minimal', 'balanced', 'performance'] as const;
export const AUTHENTICATION_METHODS = ['mtls', 'jwt', 'oauth2'] as const;
export const ACCESS_CONTROLS = ['rbac', 'abac'] as const;
export const PROTOCOLS = ['grpc', 'websocket', 'rest'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const shown = (input: unknown): string => (input === undefined ? 'nothing' : JSON.stringify(input));

/** One of a few words; a near miss gets a "did you mean". */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => {
      const hint = typeof issue.input === 'string' ? closestMatch(issue.input, values) : undefined;
      return `must be one of ${values.join(', ')}, not ${shown(issue.input)}${hint ? ` (did you mean ${hint}?)` : ''}`;
    },
  });
}

function wholeNumber(min: number, max: number) {
  const error = (issue: { input?: unknown }) => `must be a whole number from ${min} to ${max}, not ${shown(issue.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const port = wholeNumber(1, 65535);
const milliseconds = wholeNumber(0, 3_600_000);
const bytes = wholeNumber(1, Number.MAX_SAFE_INTEGER);

/**
 * Why a path value is not a plain path, or null when it is one: no control character (a
 * newline, a tab), no `$`, backquote, quote or backslash, no `.` or `..` step, no empty
 * step. Such paths go into scripts on hosts and into the records uninstall works from; the
 * scripts quote every value anyway, and this keeps a value that only a mistake or an
 * attack would write from getting that far.
 */
export function pathProblem(value: string): string | null {
  if (hasControlCharacter(value)) return 'holds a control character (a newline, a tab)';
  if (/[$`'"\\]/.test(value)) return 'holds a $, a backquote, a quote or a backslash';
  const steps = value.replace(/^~?\//, '').replace(/\/$/, '').split('/');
  if (steps.some((step) => step === '' || step === '.' || step === '..')) return 'is not a plain path (an empty, . or .. step)';
  return null;
}

/** A C0 control character or DEL: a newline, a tab, an escape, a NUL. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function plainPath(start: RegExp, what: string) {
  return z
    .string({ error: (issue) => `must be ${what}, not ${shown(issue.input)}` })
    .regex(start, { error: (issue) => `must be ${what}, not ${shown(issue.input)}` })
    .superRefine((value, ctx) => {
      const problem = pathProblem(value);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: `must be a plain path: ${shown(value)} ${problem}` });
    });
}

const absolutePath = plainPath(/^\/./, 'an absolute path (starting with /, not / itself)');
const userPath = plainPath(/^(\/.|~\/)/, 'an absolute path or one that starts with ~/');

// YAML reads `version: 1.0` as the number 1; the message says to quote it.
const version = z
  .string({ error: (issue) => `must be a version like 1.0.0, not ${shown(issue.input)} (quote it: "1.0.0")` })
  .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/, { error: (issue) => `must be a version like 1.0.0, not ${shown(issue.input)}` });

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const listenAddress = z
  .string({ error: (issue) => `must be an IP address or host name, not ${shown(issue.input)}` })
  .refine((value) => isIP(value) !== 0 || HOSTNAME.test(value), {
    error: (issue) => `must be an IP address or host name, not ${shown(issue.input)}`,
  });

const coreListenAddress = z
  .string({ error: (issue) => `must be auto or an IP address of the core host, not ${shown(issue.input)}` })
  .refine((value) => value === 'auto' || isIP(value) !== 0, {
    error: (issue) => `must be auto or an IP address of the core host (0.0.0.0 for every interface), not ${shown(issue.input)}`,
  });

const capability = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
  error: (issue) => `must be a task kind (lower-case letters, digits, - and _), not ${shown(issue.input)}`,
});

const ROLE_NAMES = ['viewer', 'operator', 'admin'] as const;
/** Asymmetric JWS algorithms only (agents-runtime server/oidc-token.ts OIDC_ALGORITHMS): never none, never a shared HMAC secret. */
export const OAUTH2_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const claimName = z
  .string({ error: (issue) => `must be a claim name, not ${shown(issue.input)}` })
  .regex(/^[A-Za-z0-9_:./-]{1,100}$/, { error: (issue) => `must be a claim name (letters, digits, _ : . / -), not ${shown(issue.input)}` });
const providerUrl = z.string({ error: (issue) => `must be the issuer URL, not ${shown(issue.input)}` }).refine(
  (value) => {
    try {
      const url = new URL(value);
      // Literal loopback addresses only: a name such as localhost is resolved by DNS or hosts.
      const loopback = ['127.0.0.1', '[::1]'].includes(url.hostname);
      return (
        (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) &&
        url.username === '' &&
        url.password === '' &&
        url.search === '' &&
        url.hash === ''
      );
    } catch {
      return false;
    }
  },
  {
    error: (issue) =>
      `must be an https URL without credentials, query or fragment (plain http only to 127.0.0.1 or [::1]), not ${shown(issue.input)}`,
  },
);

/**
 * authentication_method: oauth2: the site's OpenID Connect provider (oidc/ in the backend).
 * Set whole in one layer; `null` (the default) when another method is used. The client
 * secret is never here: web sign-in keeps it in the vault.
 */
const OAuth2Shape = z.strictObject({
  issuer: providerUrl,
  client_id: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, { error: (issue) => `must be the client id the provider gave SutazAI, not ${shown(issue.input)}` }),
  // Required, never the client id by default: the provider's ID tokens name the client id as
  // their audience, and an access token for SutazAI must be told apart from them.
  audience: z
    .string({ error: (issue) => `must be the audience access tokens name, not ${shown(issue.input)}` })
    .regex(/^[\x21-\x7e]{1,200}$/, { error: (issue) => `must be the audience access tokens name, not ${shown(issue.input)}` }),
  jwks_file: absolutePath.optional(),
  ca_file: absolutePath.optional(),
  algorithms: z.array(oneOf(OAUTH2_ALGORITHMS)).min(1, { error: 'must allow at least one algorithm' }).default(['RS256', 'ES256']),
  operator_claim: claimName.default('preferred_username'),
  role_claim: claimName.default('groups'),
  role_map: z
    .record(z.string().min(1).max(200), oneOf(ROLE_NAMES), { error: 'must map claim values to roles, e.g. {sutazai-admins: admin}' })
    .refine((map) => Object.keys(map).length > 0, { error: 'must map at least one claim value to a role' }),
  attribute_claims: z
    .strictObject({ team: claimName, installs: claimName, hostLabels: claimName, processes: claimName, hours: claimName })
    .partial()
    .optional(),
  max_token_lifetime_seconds: wholeNumber(60, 86_400).default(3600),
  refresh_seconds: wholeNumber(10, 3600).default(60),
});
export type OAuth2Settings = z.output<typeof OAuth2Shape>;

/** The shape without the checks across fields: what one layer is checked against, key by key. */
export const InstallConfigShape = z.strictObject({
  environment: oneOf(ENVIRONMENTS),
  system_integration: z.strictObject({
    version,
    deployment_mode: oneOf(DEPLOYMENT_MODES),
    performance_profile: oneOf(PERFORMANCE_PROFILES),
    security: z.strictObject({
      authentication_method: oneOf(AUTHENTICATION_METHODS),
      access_control: oneOf(ACCESS_CONTROLS),
      oauth2: OAuth2Shape.nullable(),
    }),
    communication: z.strictObject({
      primary_protocol: oneOf(PROTOCOLS),
      fallback_protocol: oneOf([...PROTOCOLS, 'none']),
    }),
    monitoring: z.strictObject({
      metrics_collection: oneOf(['prometheus', 'none']),
      tracing: oneOf(['opentelemetry', 'none']),
    }),
  }),
  install: z.strictObject({
    root_dir: absolutePath,
    user_dir: userPath,
    config_dir: absolutePath,
    state_dir: absolutePath,
    log_dir: absolutePath,
    releases_kept: wholeNumber(1, 20),
    health_timeout_seconds: wholeNumber(1, 3600),
    upload_concurrency: wholeNumber(1, 64),
  }),
  runtime: z.strictObject({
    listen_address: listenAddress,
    grpc_port: port,
    // Its own key, not listen_address: serving /metrics beyond loopback (no TLS, no
    // authentication) is a choice made for it alone.
    metrics_listen_address: listenAddress,
    metrics_port: port,
    logs: z.strictObject({
      max_file_bytes: bytes,
      keep_files: wholeNumber(0, 100),
      max_total_bytes: bytes,
      timestamps: oneOf(LOG_TIMESTAMPS),
    }),
    // The runtime's own audit log (agents-runtime/src/audit/audit-file.ts): its segment size and the sealed segments kept.
    audit: z.strictObject({
      // 64 MiB at most: the runtime reads its newest segment's end at start, and past ~512 MiB a
      // segment cannot be read as one string at all.
      max_file_bytes: wholeNumber(4096, 64 * 1024 * 1024),
      keep_files: wholeNumber(0, 1000),
    }),
  }),
  core: z.strictObject({
    port,
    // `auto` (a word, not a host name): loopback unless an install has agent-only hosts.
    listen_address: coreListenAddress,
    lease_ms: wholeNumber(1000, 3_600_000),
    max_wait_ms: wholeNumber(100, 3_600_000),
    max_attempts: wholeNumber(1, 1000),
    stop_grace_ms: milliseconds,
    log_level: oneOf(LOG_LEVELS),
  }),
  agents: z.strictObject({
    replicas_per_host: wholeNumber(0, 64),
    gpu_replicas_per_host: wholeNumber(0, 64),
    base_port: port,
    capabilities: z
      .array(capability, { error: (issue) => `must be a list of task kinds, e.g. [hash, sleep], not ${shown(issue.input)}` })
      .min(1, { error: 'must name at least one task kind' }),
    take_wait_ms: wholeNumber(100, 3_600_000),
    stop_grace_ms: milliseconds,
    log_level: oneOf(LOG_LEVELS),
  }),
});

export type InstallConfig = z.output<typeof InstallConfigShape>;

/**
 * Checks that need more than one field: the agents' ports (base_port and one per replica)
 * must end by 65535; the runtime's gRPC port, its metrics port (when metrics are
 * collected), the core's port and the agents' range must not overlap on a host; and a
 * fallback protocol that equals the primary one is no fallback.
 */
function checkAcrossFields(config: InstallConfig, ctx: z.RefinementCtx): void {
  const agentCount = config.agents.replicas_per_host + config.agents.gpu_replicas_per_host;
  const lastAgentPort = config.agents.base_port + Math.max(agentCount, 1) - 1;
  if (lastAgentPort > 65535) {
    ctx.addIssue({
      code: 'custom',
      path: ['agents', 'base_port'],
      message: `leaves no room for ${agentCount} agent ports (the last would be ${lastAgentPort}, past 65535)`,
    });
  }
  const taken: Array<{ path: string[]; from: number; to: number }> = [];
  const claim = (path: string[], from: number, to = from) => {
    const span = (range: { from: number; to: number }) => (range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`);
    const clash = taken.find((other) => from <= other.to && other.from <= to);
    if (clash) {
      // Said at both keys: the loader reports the one the highest layer set, the likelier slip.
      const message = (other: string[], ports: string) =>
        `port ${ports} overlaps ${other.join('.')}; each service of a host needs its own port`;
      ctx.addIssue({
        code: 'custom',
        path,
        message: message(clash.path, span({ from, to })),
        params: { samePortAs: clash.path.join('.') },
      });
      ctx.addIssue({ code: 'custom', path: clash.path, message: message(path, span(clash)), params: { samePortAs: path.join('.') } });
    }
    taken.push({ path, from, to });
  };
  claim(['runtime', 'grpc_port'], config.runtime.grpc_port);
  if (config.system_integration.monitoring.metrics_collection !== 'none') claim(['runtime', 'metrics_port'], config.runtime.metrics_port);
  claim(['core', 'port'], config.core.port);
  if (agentCount > 0) claim(['agents', 'base_port'], config.agents.base_port, lastAgentPort);

  // A log the control center cannot read whole cannot be verified from it (`audit verify --host`): refused, not found out later.
  const { max_file_bytes: segmentBytes, keep_files: sealedKept } = config.runtime.audit;
  if ((sealedKept + 1) * segmentBytes > MAX_HOST_AUDIT_LOG_BYTES)
    ctx.addIssue({
      code: 'custom',
      path: ['runtime', 'audit', 'max_file_bytes'],
      message: `with keep_files ${sealedKept} keeps up to ${(sealedKept + 1) * segmentBytes} bytes of audit log, more than the ${MAX_HOST_AUDIT_LOG_BYTES / 1024 / 1024} MiB the control center reads to verify it; lower max_file_bytes or keep_files so that (keep_files + 1) * max_file_bytes is at most ${MAX_HOST_AUDIT_LOG_BYTES}`,
    });

  const { authentication_method: method, oauth2 } = config.system_integration.security;
  if (method === 'oauth2' && oauth2 === null)
    ctx.addIssue({
      code: 'custom',
      path: ['system_integration', 'security', 'oauth2'],
      message: 'must name the OpenID Connect provider (issuer, client_id, role_map) when authentication_method is oauth2',
    });
  if (method !== 'oauth2' && oauth2 !== null)
    ctx.addIssue({
      code: 'custom',
      path: ['system_integration', 'security', 'oauth2'],
      message: `is set, and authentication_method is ${method}: it would have no effect (set authentication_method: oauth2, or remove it)`,
    });

  const { primary_protocol: primary, fallback_protocol: fallback } = config.system_integration.communication;
  if (fallback === primary) {
    ctx.addIssue({
      code: 'custom',
      path: ['system_integration', 'communication', 'fallback_protocol'],
      message: `is ${fallback}, the primary protocol too; choose another one or none`,
    });
  }
}

/** The merged configuration: every key present, then the checks across fields. */
export const InstallConfigSchema = InstallConfigShape.superRefine(checkAcrossFields);

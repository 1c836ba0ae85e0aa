import { constants as osConstants } from 'node:os';
import * as s from '../schema/schema';

/**
 * The manifest as operators write it (snake_case YAML, like compose files) and as the
 * runtime uses it (camelCase, every default filled in). `parse-manifest.ts` turns one
 * into the other and names the file, line and column of anything wrong.
 */

export type RestartPolicy = 'always' | 'on-failure' | 'never';

export interface BackoffSpec {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** 0..1: each delay is spread by up to this fraction either way. */
  jitter: number;
  /** Running this long counts as stable: the next failure starts the backoff over. */
  resetAfterMs: number;
}

interface HealthTiming {
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Failures during this period after a start do not count (Docker's start_period). */
  startPeriodMs: number;
  /**
   * How often a starting instance is checked during its start period (Docker's
   * start_interval): a program that is up after 300 ms is seen running then, not at the
   * first `intervalMs`, and an agent that waits for its core (depends_on) starts that much
   * sooner. Default: 1000, or `intervalMs` when that is shorter.
   */
  startIntervalMs: number;
}

export type HealthSpec = HealthTiming &
  (
    | { type: 'tcp'; host: string; port: number }
    | { type: 'http'; host: string; port: number; path: string }
    | { type: 'grpc'; host: string; port: number; service: string }
    | { type: 'exec'; command: string; args: string[] }
  );

export type HealthType = HealthSpec['type'];

export interface StopSpec {
  signal: string;
  graceMs: number;
}

export interface ResourceHints {
  cpu?: number;
  memoryMb?: number;
}

export interface CrashLoopSpec {
  /** Restarts allowed within `withinMs`; one more failure enters crash-loop. */
  afterRestarts: number;
  withinMs: number;
  retryEveryMs: number;
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  replicas: number;
  dependsOn: string[];
  restart: RestartPolicy;
  backoff: BackoffSpec;
  health?: HealthSpec;
  stop: StopSpec;
  resources: ResourceHints;
  crashLoop: CrashLoopSpec;
}

export interface Manifest {
  version: 1;
  processes: ProcessSpec[];
}

export const DEFAULTS = {
  restart: 'always' as RestartPolicy,
  replicas: 1,
  backoff: { initialMs: 1_000, factor: 2, maxMs: 60_000, jitter: 0.2, resetAfterMs: 60_000 } satisfies BackoffSpec,
  health: {
    host: '127.0.0.1',
    path: '/healthz',
    service: '',
    intervalMs: 5_000,
    timeoutMs: 2_000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    startPeriodMs: 10_000,
    startIntervalMs: 1_000,
  },
  stop: { signal: 'SIGTERM', graceMs: 10_000 } satisfies StopSpec,
  crashLoop: { afterRestarts: 5, withinMs: 60_000, retryEveryMs: 300_000 } satisfies CrashLoopSpec,
};

export const MAX_REPLICAS = 64;

/**
 * How big one manifest may be. Every instance is an OS process the daemon spawns, watches
 * and health-checks; a manifest far beyond what one machine runs is a mistake or an attack,
 * and refusing it keeps the daemon answering. The runtime config's `manifest_limits:` may
 * raise or lower both.
 */
export interface ManifestLimits {
  /** Entries under `processes:`. */
  maxProcesses: number;
  /** Instances of all processes together (the sum of their replicas). */
  maxInstances: number;
}

export const DEFAULT_MANIFEST_LIMITS: ManifestLimits = { maxProcesses: 256, maxInstances: 1024 };

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const SIGNALS = Object.keys(osConstants.signals);

// Node timers cannot wait longer than 2^31-1 ms (about 24.8 days); a longer value would fire at once.
const MAX_TIMER_MS = 2_147_483_647;
const ms = s.number().int().nonnegative().max(MAX_TIMER_MS);
const positiveMs = s.number().int().positive().max(MAX_TIMER_MS);
const port = s.number().int().min(1).max(65_535);
const threshold = s.number().int().min(1).max(100);

const backoffSchema = s.object({
  // 0 restarts at once (PM2's restart_delay 0); a crash loop still slows a flapping program down.
  initial_ms: ms.optional(),
  factor: s.number().min(1).max(10).optional(),
  max_ms: positiveMs.optional(),
  jitter: s.number().min(0).max(1).optional(),
  reset_after_ms: ms.optional(),
});

const healthTiming = {
  interval_ms: positiveMs.optional(),
  timeout_ms: positiveMs.optional(),
  healthy_threshold: threshold.optional(),
  unhealthy_threshold: threshold.optional(),
  start_period_ms: ms.optional(),
  start_interval_ms: positiveMs.optional(),
};

const healthSchema = s.taggedUnion('type', [
  s.object({ type: s.literal('tcp'), host: s.string().min(1).optional(), port, ...healthTiming }),
  s.object({
    type: s.literal('http'),
    host: s.string().min(1).optional(),
    port,
    path: s.string().startsWith('/', 'must start with "/"').optional(),
    ...healthTiming,
  }),
  s.object({ type: s.literal('grpc'), host: s.string().min(1).optional(), port, service: s.string().optional(), ...healthTiming }),
  s.object({ type: s.literal('exec'), command: s.string().min(1), args: s.array(s.string()).optional(), ...healthTiming }),
]);

const processSchema = s.object({
  name: s.string().regex(NAME, 'must be lowercase letters, digits, "-" or "_", starting with a letter (at most 63)'),
  command: s.string().min(1, 'must not be empty'),
  args: s.array(s.string()).optional(),
  // `PORT: 8080` is a number in YAML; the environment only has strings.
  env: s
    .record(
      s.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name'),
      s.union([s.string(), s.number(), s.boolean()]).transform(String),
    )
    .optional(),
  cwd: s.string().min(1).optional(),
  replicas: s.number().int().min(1).max(MAX_REPLICAS).optional(),
  depends_on: s.array(s.string()).optional(),
  restart: s.oneOf(['always', 'on-failure', 'never']).optional(),
  backoff: backoffSchema.optional(),
  health: healthSchema.optional(),
  stop: s
    .object({
      signal: s
        .string()
        .refine((name) => SIGNALS.includes(name), 'is not a signal name such as SIGTERM or SIGINT')
        .optional(),
      grace_ms: ms.optional(),
    })
    .optional(),
  resources: s.object({ cpu: s.number().positive().optional(), memory_mb: s.number().int().positive().optional() }).optional(),
  crash_loop: s
    .object({
      after_restarts: s.number().int().min(1).optional(),
      within_ms: positiveMs.optional(),
      retry_every_ms: positiveMs.optional(),
    })
    .optional(),
});

/** The manifest as written; every object is strict, so a misspelt key is an error naming it. */
export const manifestSchema = s.object({
  version: s.literal(1, 'must be 1'),
  processes: s.array(processSchema).min(1, 'must list at least one process'),
});

export type RawManifest = s.Infer<typeof manifestSchema>;
type RawProcess = s.Infer<typeof processSchema>;
type RawHealth = s.Infer<typeof healthSchema>;

function toHealth(raw: RawHealth): HealthSpec {
  const d = DEFAULTS.health;
  const intervalMs = raw.interval_ms ?? d.intervalMs;
  const timing: HealthTiming = {
    intervalMs,
    timeoutMs: raw.timeout_ms ?? d.timeoutMs,
    healthyThreshold: raw.healthy_threshold ?? d.healthyThreshold,
    unhealthyThreshold: raw.unhealthy_threshold ?? d.unhealthyThreshold,
    startPeriodMs: raw.start_period_ms ?? d.startPeriodMs,
    startIntervalMs: raw.start_interval_ms ?? Math.min(d.startIntervalMs, intervalMs),
  };
  switch (raw.type) {
    case 'tcp':
      return { type: 'tcp', host: raw.host ?? d.host, port: raw.port, ...timing };
    case 'http':
      return { type: 'http', host: raw.host ?? d.host, port: raw.port, path: raw.path ?? d.path, ...timing };
    case 'grpc':
      return { type: 'grpc', host: raw.host ?? d.host, port: raw.port, service: raw.service ?? d.service, ...timing };
    case 'exec':
      return { type: 'exec', command: raw.command, args: raw.args ?? [], ...timing };
  }
}

/** Fills every default and maps snake_case to camelCase. */
export function toProcessSpec(raw: RawProcess): ProcessSpec {
  const spec: ProcessSpec = {
    name: raw.name,
    command: raw.command,
    args: raw.args ?? [],
    env: raw.env ?? {},
    replicas: raw.replicas ?? DEFAULTS.replicas,
    dependsOn: raw.depends_on ?? [],
    restart: raw.restart ?? DEFAULTS.restart,
    backoff: {
      initialMs: raw.backoff?.initial_ms ?? DEFAULTS.backoff.initialMs,
      factor: raw.backoff?.factor ?? DEFAULTS.backoff.factor,
      maxMs: raw.backoff?.max_ms ?? DEFAULTS.backoff.maxMs,
      jitter: raw.backoff?.jitter ?? DEFAULTS.backoff.jitter,
      resetAfterMs: raw.backoff?.reset_after_ms ?? DEFAULTS.backoff.resetAfterMs,
    },
    stop: { signal: raw.stop?.signal ?? DEFAULTS.stop.signal, graceMs: raw.stop?.grace_ms ?? DEFAULTS.stop.graceMs },
    resources: {},
    crashLoop: {
      afterRestarts: raw.crash_loop?.after_restarts ?? DEFAULTS.crashLoop.afterRestarts,
      withinMs: raw.crash_loop?.within_ms ?? DEFAULTS.crashLoop.withinMs,
      retryEveryMs: raw.crash_loop?.retry_every_ms ?? DEFAULTS.crashLoop.retryEveryMs,
    },
  };
  if (raw.cwd !== undefined) spec.cwd = raw.cwd;
  if (raw.health !== undefined) spec.health = toHealth(raw.health);
  if (raw.resources?.cpu !== undefined) spec.resources.cpu = raw.resources.cpu;
  if (raw.resources?.memory_mb !== undefined) spec.resources.memoryMb = raw.resources.memory_mb;
  return spec;
}

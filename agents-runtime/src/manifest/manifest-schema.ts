import { constants as osConstants } from 'node:os';
import { z } from 'zod';

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
const ms = z.number().int().nonnegative().max(MAX_TIMER_MS);
const positiveMs = z.number().int().positive().max(MAX_TIMER_MS);
const port = z.number().int().min(1).max(65_535);
const threshold = z.number().int().min(1).max(100);

const backoffSchema = z.strictObject({
  // 0 restarts at once (PM2's restart_delay 0); a crash loop still slows a flapping program down.
  initial_ms: ms.optional(),
  factor: z.number().min(1).max(10).optional(),
  max_ms: positiveMs.optional(),
  jitter: z.number().min(0).max(1).optional(),
  reset_after_ms: ms.optional(),
});

const healthTiming = {
  interval_ms: positiveMs.optional(),
  timeout_ms: positiveMs.optional(),
  healthy_threshold: threshold.optional(),
  unhealthy_threshold: threshold.optional(),
  start_period_ms: ms.optional(),
};

const healthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tcp'), host: z.string().min(1).optional(), port, ...healthTiming }),
  z.strictObject({
    type: z.literal('http'),
    host: z.string().min(1).optional(),
    port,
    path: z.string().startsWith('/', 'must start with "/"').optional(),
    ...healthTiming,
  }),
  z.strictObject({ type: z.literal('grpc'), host: z.string().min(1).optional(), port, service: z.string().optional(), ...healthTiming }),
  z.strictObject({ type: z.literal('exec'), command: z.string().min(1), args: z.array(z.string()).optional(), ...healthTiming }),
]);

const processSchema = z.strictObject({
  name: z.string().regex(NAME, 'must be lowercase letters, digits, "-" or "_", starting with a letter (at most 63)'),
  command: z.string().min(1, 'must not be empty'),
  args: z.array(z.string()).optional(),
  // `PORT: 8080` is a number in YAML; the environment only has strings.
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name'),
      z.union([z.string(), z.number(), z.boolean()]).transform(String),
    )
    .optional(),
  cwd: z.string().min(1).optional(),
  replicas: z.number().int().min(1).max(MAX_REPLICAS).optional(),
  depends_on: z.array(z.string()).optional(),
  restart: z.enum(['always', 'on-failure', 'never']).optional(),
  backoff: backoffSchema.optional(),
  health: healthSchema.optional(),
  stop: z
    .strictObject({
      signal: z
        .string()
        .refine((s) => SIGNALS.includes(s), 'is not a signal name such as SIGTERM or SIGINT')
        .optional(),
      grace_ms: ms.optional(),
    })
    .optional(),
  resources: z.strictObject({ cpu: z.number().positive().optional(), memory_mb: z.number().int().positive().optional() }).optional(),
  crash_loop: z
    .strictObject({
      after_restarts: z.number().int().min(1).optional(),
      within_ms: positiveMs.optional(),
      retry_every_ms: positiveMs.optional(),
    })
    .optional(),
});

export const manifestSchema = z.strictObject({
  version: z.literal(1, 'must be 1'),
  processes: z.array(processSchema).min(1, 'must list at least one process'),
});

export type RawManifest = z.infer<typeof manifestSchema>;
type RawProcess = z.infer<typeof processSchema>;
type RawHealth = z.infer<typeof healthSchema>;

function toHealth(raw: RawHealth): HealthSpec {
  const d = DEFAULTS.health;
  const timing: HealthTiming = {
    intervalMs: raw.interval_ms ?? d.intervalMs,
    timeoutMs: raw.timeout_ms ?? d.timeoutMs,
    healthyThreshold: raw.healthy_threshold ?? d.healthyThreshold,
    unhealthyThreshold: raw.unhealthy_threshold ?? d.unhealthyThreshold,
    startPeriodMs: raw.start_period_ms ?? d.startPeriodMs,
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

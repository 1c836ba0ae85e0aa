import { z } from 'zod';
import { ConfigEnvironmentSchema, ConfigTextSchema } from './config';
import { ApiErrorBodySchema } from './errors';
import { HostIdSchema } from './hosts';
import { HostNameSchema, HostRoleSchema } from './inventory';
import { HostPreflightSchema, OutcomeSchema, PreflightCheckSchema } from './preflight';

/**
 * Installs as the app drives them: the install definition (the shape of the CLI's install
 * file, built by the wizard instead of read from YAML), its plan, the apply job that runs
 * it with live progress, and what the store recorded afterwards.
 */

/** Every host goes through these, in this order (the engine's STEPS; a unit test keeps them equal). */
export const INSTALL_STEPS = [
  'connect',
  'check-space',
  'upload',
  'unpack',
  'configure',
  'service',
  'start',
  'health',
  'switch',
  'record',
] as const;
export const InstallStepNameSchema = z.enum(INSTALL_STEPS);
export type InstallStepName = z.infer<typeof InstallStepNameSchema>;

/** The install's name: its CA is "SutazAI CA <name>", and it names the install in the CLI. */
export const InstallNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, 'use 1 to 50 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** A configuration layer: a named YAML text (what the app edits), values, or a file on the backend's machine. */
export const InstallLayerSchema = z.union([
  ConfigTextSchema,
  z.object({ values: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ file: z.string().min(1).max(4096) }).strict(),
]);
export type InstallLayer = z.infer<typeof InstallLayerSchema>;

export const InstallHostEntrySchema = z
  .object({
    /** A host of the inventory, by name (as the install file names it). */
    name: HostNameSchema,
    role: HostRoleSchema,
    /** Runs GPU agents; absent: decided from the host's facts (an NVIDIA GPU). */
    gpu: z.boolean().optional(),
    /** The per-host override layer. */
    config: InstallLayerSchema.optional(),
  })
  .strict();
export type InstallHostEntry = z.infer<typeof InstallHostEntrySchema>;

/** What an install file says, as an object: the bundle, the hosts with their roles, the configuration layers. */
export const InstallDefinitionSchema = z
  .object({
    name: InstallNameSchema,
    /** An imported bundle as name@version, or the path of a .sutazai-bundle on the backend's machine (imported first). */
    bundle: z.string().min(1).max(4096),
    environment: ConfigEnvironmentSchema.optional(),
    /** The install's own layers, lowest first. */
    config: z.array(InstallLayerSchema).max(8).default([]),
    hosts: z.array(InstallHostEntrySchema).min(1, 'list at least one host').max(500),
  })
  .strict()
  .superRefine((definition, ctx) => {
    const seen = new Map<string, number>();
    definition.hosts.forEach((host, index) => {
      const first = seen.get(host.name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['hosts', index, 'name'], message: `names ${host.name} again (already hosts[${first}])` });
      else seen.set(host.name, index);
    });
    if (!definition.hosts.some((host) => host.role !== 'agent')) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'has no core: give one host role core or both' });
    }
    // Two texts of one name would make every file:line:column of a configuration error ambiguous.
    const names = new Set<string>();
    const texts = [...definition.config, ...definition.hosts.map((host) => host.config)];
    for (const layer of texts) {
      if (!layer || !('text' in layer)) continue;
      if (names.has(layer.name))
        ctx.addIssue({ code: 'custom', path: ['config'], message: `two layers are named ${layer.name}; give each its own name` });
      names.add(layer.name);
    }
  });
export type InstallDefinition = z.input<typeof InstallDefinitionSchema>;
export type ParsedInstallDefinition = z.output<typeof InstallDefinitionSchema>;

/**
 * A step in a plan: `done` when the host already shows its result, `todo` when apply will
 * do it, `check` for a check apply runs every time, `blocked` when apply would stop there.
 */
export const PlannedStepSchema = z.object({
  step: InstallStepNameSchema,
  state: z.enum(['done', 'todo', 'check', 'blocked']),
  detail: z.string(),
});
export type PlannedStep = z.infer<typeof PlannedStepSchema>;

export const InstallModeSchema = z.enum(['system', 'user']);
export const ServiceKindSchema = z.enum(['systemd', 'detached']);

export const HostPlanSchema = z.object({
  host: z.string(),
  role: HostRoleSchema,
  gpu: z.boolean(),
  /** Null when the host could not be reached or checked. */
  mode: InstallModeSchema.nullable(),
  root: z.string().nullable(),
  service: ServiceKindSchema.nullable(),
  /** How the login reaches root: root, sudo-nopasswd, sudo-password or none. */
  privilege: z.string().nullable(),
  /** The release `current` points at on the host now; null on a fresh host (or one not reached). */
  currentRelease: z.string().nullable(),
  steps: z.array(PlannedStepSchema),
  /** Why the host cannot be installed as it is (unreachable, no space, ...). */
  error: ApiErrorBodySchema.nullable(),
});
export type HostPlan = z.infer<typeof HostPlanSchema>;

export const InstallPlanSchema = z.object({
  install: z.string(),
  bundle: z.object({ name: z.string(), version: z.string(), sha256: z.string(), sizeBytes: z.number().int().nonnegative() }),
  /** Every step of every host is already done: applying would change nothing. */
  upToDate: z.boolean(),
  /** A rolling upgrade: some host runs another release, so hosts switch one at a time, each health-gated. */
  rolling: z.boolean(),
  /** Releases newer than the bundle that hosts run, oldest first: applying it is a downgrade, refused unless allowed by name. Empty when it is not one. */
  downgradeFrom: z.array(z.string()),
  hosts: z.array(HostPlanSchema),
});
export type InstallPlan = z.infer<typeof InstallPlanSchema>;

/** A first placement from the stored facts, for the operator to accept or change. */
export const PlacementSchema = z.object({
  hostId: HostIdSchema,
  name: z.string(),
  role: HostRoleSchema,
  gpu: z.boolean(),
  /** NVIDIA GPUs in the host's newest facts. */
  gpuCount: z.number().int().nonnegative(),
  /** Why, in a line an operator reads next to the choice. */
  reason: z.string(),
});
export type Placement = z.infer<typeof PlacementSchema>;

export const HostRoleChoiceSchema = z.object({ hostId: HostIdSchema, role: HostRoleSchema, gpu: z.boolean() }).strict();
export type HostRoleChoice = z.infer<typeof HostRoleChoiceSchema>;

/** Each host checked against the requirement profiles of its role (core, agent or agent-gpu; both for `both`). */
export const RolePreflightSchema = z.object({
  ranAt: z.number().int(),
  outcome: OutcomeSchema,
  hosts: z.array(
    z.object({
      hostId: HostIdSchema,
      hostName: z.string(),
      role: HostRoleSchema,
      gpu: z.boolean(),
      outcome: OutcomeSchema,
      /** One result per profile of the role. */
      results: z.array(HostPreflightSchema),
    }),
  ),
  /** Checks across all the hosts: unique names, machine-ids, addresses; clock skew. */
  crossHost: z.array(PreflightCheckSchema.extend({ hostIds: z.array(z.number().int()) })),
});
export type RolePreflight = z.infer<typeof RolePreflightSchema>;

/**
 * What a job does to an install: `apply` (the wizard, installs.start), `upgrade` (a newer
 * imported bundle, rolling and health-gated), `rollback` (to a kept release) or
 * `uninstall`. Every kind reports the same progress events and is kept in the store.
 */
export const INSTALL_JOB_KINDS = ['apply', 'upgrade', 'rollback', 'uninstall'] as const;
export const InstallJobKindSchema = z.enum(INSTALL_JOB_KINDS);
export type InstallJobKind = z.infer<typeof InstallJobKindSchema>;

/** The steps a rollback takes on each host (the engine's ACTIVATE_STEPS), and an uninstall's (UNINSTALL_STEPS). */
export const ROLLBACK_STEPS = ['read', 'service', 'start', 'health', 'switch', 'record'] as const;
export const UNINSTALL_STEPS = ['connect', 'stop', 'remove', 'forget'] as const;

/** Each kind's steps per host, in order. */
export const JOB_STEPS = {
  apply: INSTALL_STEPS,
  upgrade: INSTALL_STEPS,
  rollback: ROLLBACK_STEPS,
  uninstall: UNINSTALL_STEPS,
} as const satisfies Record<InstallJobKind, readonly string[]>;

/** Every step name of every kind, once (a unit test keeps it the union of the lists above). */
export const JOB_STEP_NAMES = [...INSTALL_STEPS, 'read', 'stop', 'remove', 'forget'] as const;
export const JobStepNameSchema = z.enum(JOB_STEP_NAMES);
export type JobStepName = z.infer<typeof JobStepNameSchema>;

/** How a step stands in a job. `already-done`: the host showed its result, nothing was changed. */
export const JobStepStatusSchema = z.enum(['pending', 'running', 'done', 'already-done', 'failed', 'skipped']);
export type JobStepStatus = z.infer<typeof JobStepStatusSchema>;

export const UploadProgressSchema = z.object({
  bytesOnHost: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
  /** Where the upload resumed (0 when it started anew). */
  resumedFrom: z.number().int().nonnegative(),
  bytesSent: z.number().int().nonnegative(),
});
export type UploadProgress = z.infer<typeof UploadProgressSchema>;

export const InstallJobStepSchema = z.object({
  step: JobStepNameSchema,
  status: JobStepStatusSchema,
  detail: z.string(),
  /** The end of what the step printed (or why it failed), once it finished. */
  output: z.string().nullable(),
  startedAt: z.number().int().nullable(),
  finishedAt: z.number().int().nullable(),
});
export type InstallJobStep = z.infer<typeof InstallJobStepSchema>;

/**
 * How a host ended in a job: installed or unchanged (apply, upgrade), rolled-back (a
 * rollback), removed (an uninstall), stopped (not tried: an earlier host stopped the
 * rollback), cancelled (by the operator), interrupted (the backend stopped), or failed.
 */
export const HOST_OUTCOMES = ['installed', 'unchanged', 'rolled-back', 'removed', 'stopped', 'cancelled', 'failed'] as const;
export const JobHostOutcomeSchema = z.enum(HOST_OUTCOMES);
export const JobHostStateSchema = z.enum(['queued', 'running', ...HOST_OUTCOMES, 'interrupted']);
export type JobHostState = z.infer<typeof JobHostStateSchema>;

/** At most this many notes are kept per host (the newest), each at most NOTE_LIMIT characters. */
export const JOB_NOTES_KEPT = 20;
export const JOB_NOTE_LIMIT = 500;

export const InstallJobHostSchema = z.object({
  host: z.string(),
  state: JobHostStateSchema,
  error: ApiErrorBodySchema.nullable(),
  upload: UploadProgressSchema.nullable(),
  steps: z.array(InstallJobStepSchema),
  /** What happened beside the steps, newest last: an automatic return to the previous release, step by step. */
  notes: z.array(z.string()),
});
export type InstallJobHost = z.infer<typeof InstallJobHostSchema>;

/** `cancelled`: the operator stopped it; `interrupted`: the backend stopped while it ran. Either way the next run resumes. */
export const JobStateSchema = z.enum(['running', 'succeeded', 'failed', 'cancelled', 'interrupted']);
export type JobState = z.infer<typeof JobStateSchema>;

/** A job as it stands: what installs.status answers, and what installs.progress events update. */
export const InstallJobStatusSchema = z.object({
  jobId: z.string(),
  kind: InstallJobKindSchema,
  /** The number of the last progress event folded in; a client applies only newer ones. */
  seq: z.number().int().nonnegative(),
  install: z.string(),
  /** The bundle applied (name@version or a path); for a rollback, the release asked for; empty for an uninstall. */
  bundle: z.string(),
  state: JobStateSchema,
  /** Why the job as a whole stopped (hosts carry their own errors); a cancelled or interrupted job's remedy says how to resume. */
  error: ApiErrorBodySchema.nullable(),
  startedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  hosts: z.array(InstallJobHostSchema),
});
export type InstallJobStatus = z.infer<typeof InstallJobStatusSchema>;

/** A job in a list: what it did, to which install, and how it ended, without its steps. */
export const InstallJobSummarySchema = InstallJobStatusSchema.omit({ hosts: true, seq: true }).extend({
  hosts: z.array(z.object({ host: z.string(), state: JobHostStateSchema })),
});
export type InstallJobSummary = z.infer<typeof InstallJobSummarySchema>;

const progressBase = { jobId: z.string(), seq: z.number().int().positive(), at: z.number().int() };

/** One change of a job: a step of a host, upload bytes, a note, a host's outcome, or the job's end. */
export const InstallProgressSchema = z.discriminatedUnion('kind', [
  z.object({
    ...progressBase,
    kind: z.literal('step'),
    host: z.string(),
    step: JobStepNameSchema,
    status: JobStepStatusSchema,
    detail: z.string(),
    output: z.string().nullable(),
  }),
  z.object({ ...progressBase, kind: z.literal('upload'), host: z.string(), upload: UploadProgressSchema }),
  z.object({ ...progressBase, kind: z.literal('note'), host: z.string(), text: z.string() }),
  z.object({
    ...progressBase,
    kind: z.literal('host'),
    host: z.string(),
    outcome: JobHostOutcomeSchema,
    error: ApiErrorBodySchema.nullable(),
  }),
  z.object({
    ...progressBase,
    kind: z.literal('finished'),
    state: z.enum(['succeeded', 'failed', 'cancelled', 'interrupted']),
    error: ApiErrorBodySchema.nullable(),
  }),
]);
export type InstallProgress = z.infer<typeof InstallProgressSchema>;

/** An imported bundle as an upgrade of a recorded install. */
export const UpgradeCandidateSchema = z.object({
  bundleId: z.number().int().positive(),
  /** name@version, what installs.upgrade takes. */
  bundle: z.string(),
  version: z.string(),
  importedAt: z.number().int(),
  /** False when some host cannot run it (no Node binary for its architecture); `problem` says which. */
  compatible: z.boolean(),
  problem: z.string().nullable(),
  /** Releases newer than this bundle that hosts run, oldest first: non-empty makes it a downgrade, done only when confirmed by name. */
  downgradeFrom: z.array(z.string()),
});
export type UpgradeCandidate = z.infer<typeof UpgradeCandidateSchema>;

export const UpgradeOfferSchema = z.object({
  install: z.string(),
  /** The oldest release current on any host of the install: what an upgrade starts from; null when no host has one. */
  from: z.string().nullable(),
  /** Imported bundles of the install's product newer than `from`, newest first. */
  candidates: z.array(UpgradeCandidateSchema),
  /** The newest compatible candidate, the one the app offers; null when none. */
  offer: UpgradeCandidateSchema.nullable(),
  /** Imported bundles of the product older than a release a host runs, newest first: each a downgrade, never offered, done only when confirmed by name. */
  downgrades: z.array(UpgradeCandidateSchema),
});
export type UpgradeOffer = z.infer<typeof UpgradeOfferSchema>;

/** An imported bundle named as name@version (as installs.upgrade and the install file take it). */
export const BundleReferenceSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}@\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/,
    'name an imported bundle as name@version, e.g. sutazai@0.2.0',
  );

export const ReleaseStateSchema = z.enum(['current', 'previous', 'failed']);

export const HostReleaseSchema = z.object({
  version: z.string(),
  state: ReleaseStateSchema,
  /** The release directory on the host. */
  path: z.string(),
  bundleSha256: z.string(),
  installedAt: z.number().int(),
});
export type HostRelease = z.infer<typeof HostReleaseSchema>;

/** An install as the store recorded it: its bundle, and each host's role, place and releases. */
export const InstallRecordSchema = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  bundle: z.object({ id: z.number().int().positive(), name: z.string(), version: z.string() }).nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  hosts: z.array(
    z.object({
      hostId: HostIdSchema,
      hostName: z.string(),
      role: HostRoleSchema,
      gpu: z.boolean(),
      state: z.enum(['planned', 'installing', 'installed', 'failed']),
      mode: InstallModeSchema.nullable(),
      rootDir: z.string().nullable(),
      service: ServiceKindSchema.nullable(),
      /** Newest first. */
      releases: z.array(HostReleaseSchema),
    }),
  ),
});
export type InstallRecord = z.infer<typeof InstallRecordSchema>;

/** One process of a host's runtime as the runtime reports it. */
export const RuntimeProcessSchema = z.object({
  name: z.string(),
  replicas: z.number().int().nonnegative(),
  instances: z.array(
    z.object({
      instance: z.string(),
      /** running, starting, backoff, crash_loop, stopped, ... (the runtime's state, lower-cased). */
      state: z.string(),
      pid: z.number().int().nonnegative(),
      restarts: z.number().int().nonnegative(),
      lastError: z.string().nullable(),
    }),
  ),
});
export type RuntimeProcess = z.infer<typeof RuntimeProcessSchema>;

/** Each host's runtime asked now, through its SSH tunnel with the install's CA. */
export const InstallHealthSchema = z.object({
  install: z.string(),
  checkedAt: z.number().int(),
  /** Every host reachable and every process with all its replicas running. */
  healthy: z.boolean(),
  hosts: z.array(
    z.object({
      hostId: HostIdSchema,
      host: z.string(),
      reachable: z.boolean(),
      healthy: z.boolean(),
      /** Why the runtime could not be asked. */
      error: ApiErrorBodySchema.nullable(),
      /** How it was asked: through the host's fleet link (up), or a connection of the check's own and why (null: not asked). */
      via: z.object({ kind: z.enum(['fleet-link', 'own-connection']), note: z.string() }).nullable(),
      runtime: z.object({ version: z.string(), bundleVersion: z.string(), uptimeMs: z.number().nonnegative() }).nullable(),
      processes: z.array(RuntimeProcessSchema),
    }),
  ),
});
export type InstallHealth = z.infer<typeof InstallHealthSchema>;

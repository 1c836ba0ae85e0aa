import { z } from 'zod';
import { ErrorCodeSchema } from './errors';

/**
 * The layered install configuration as the app edits it: the install's own values (and a
 * per-host override) travel as YAML texts with names, over the defaults and environment
 * profiles the backend ships. The names are what every error and origin points at.
 */

/** The environment profiles in config/environments/ (the backend checks they agree). */
export const CONFIG_ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export const ConfigEnvironmentSchema = z.enum(CONFIG_ENVIRONMENTS);
export type ConfigEnvironment = z.infer<typeof ConfigEnvironmentSchema>;

export const CONFIG_LAYER_KINDS = ['defaults', 'environment', 'install', 'host', 'env'] as const;
export const ConfigLayerKindSchema = z.enum(CONFIG_LAYER_KINDS);

/** One YAML layer held in memory: what an editor shows, or a file the operator loaded. */
export const ConfigTextSchema = z
  .object({
    /** Shown in errors as the file, e.g. install.yaml:4:24. */
    name: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\r\n\0]+$/, 'a name is one line'),
    text: z.string().max(256 * 1024),
  })
  .strict();
export type ConfigText = z.infer<typeof ConfigTextSchema>;

const layerFields = {
  /** Absent: the install text's own `environment:`, else production. */
  environment: ConfigEnvironmentSchema.optional(),
  /** The per-host override, above the install's values. */
  host: ConfigTextSchema.optional(),
};
/** The install's own values, lowest first. */
const installTexts = z.array(ConfigTextSchema).min(1).max(8);

/** Two texts of one name would make every file:line:column ambiguous. */
function distinctNames(texts: Array<ConfigText | undefined>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const text of texts) {
    if (!text) continue;
    if (seen.has(text.name)) ctx.addIssue({ code: 'custom', message: `two layers are named ${text.name}; give each its own name` });
    seen.add(text.name);
  }
}

/** The layers to load: the install's texts (lowest first), an optional host override. */
export const ConfigLayersInputSchema = z
  .object({
    ...layerFields,
    install: installTexts,
  })
  .strict()
  .superRefine((input, ctx) => distinctNames([...input.install, input.host], ctx));

/** A key (`runtime.grpc_port`) or a whole section (`runtime`). */
export const ConfigKeyPathSchema = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a key looks like runtime.grpc_port or runtime');

export const ConfigExplainInputSchema = z
  .object({
    ...layerFields,
    install: installTexts,
    key: ConfigKeyPathSchema,
  })
  .strict()
  .superRefine((input, ctx) => distinctNames([...input.install, input.host], ctx));

/** Two versions of the install's values, loaded over the same defaults, environment and host text. */
export const ConfigDiffInputSchema = z
  .object({
    ...layerFields,
    before: ConfigTextSchema,
    after: ConfigTextSchema,
  })
  .strict()
  .superRefine((input, ctx) => distinctNames([input.before, input.after, input.host], ctx));

/** Where a value (or a problem) was written; line and column are null for an environment variable. */
export const ConfigOriginSchema = z.object({
  /** The layer as the operator sees it: defaults, environment production, install, host. */
  layer: z.string(),
  kind: ConfigLayerKindSchema,
  /** The text's name, the shipped file's path, or the variable's name. */
  file: z.string(),
  /** 1-based. */
  line: z.number().int().positive().nullable(),
  column: z.number().int().positive().nullable(),
});
export type ConfigOrigin = z.infer<typeof ConfigOriginSchema>;

/** Why a configuration is refused: the error an operator would get on install, with where it is. */
export const ConfigProblemSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  remedy: z.string(),
  /** The key's dotted path, when the problem is about one key. */
  key: z.string().nullable(),
  origin: ConfigOriginSchema.nullable(),
});
export type ConfigProblem = z.infer<typeof ConfigProblemSchema>;

export const ConfigLayerSummarySchema = z.object({ layer: z.string(), kind: ConfigLayerKindSchema, file: z.string() });

export const ConfigCheckResultSchema = z.discriminatedUnion('valid', [
  z.object({
    valid: z.literal(true),
    environment: ConfigEnvironmentSchema,
    /** The layers merged, lowest first. */
    layers: z.array(ConfigLayerSummarySchema),
    /** The merged configuration, every key set. */
    config: z.record(z.string(), z.unknown()),
  }),
  z.object({
    valid: z.literal(false),
    /** The first problem met; its message counts any others in the same layer. */
    problem: ConfigProblemSchema,
  }),
]);
export type ConfigCheckResult = z.infer<typeof ConfigCheckResultSchema>;

export const ConfigSettingSchema = z.object({
  key: z.string(),
  value: z.unknown(),
  /** The layer whose value won. */
  setBy: ConfigOriginSchema,
  /** The values it overrode, from the layer just below down to the lowest. */
  overridden: z.array(z.object({ value: z.unknown(), setBy: ConfigOriginSchema })),
});
export type ConfigSetting = z.infer<typeof ConfigSettingSchema>;

export const ConfigExplanationSchema = z.object({
  key: z.string(),
  environment: ConfigEnvironmentSchema,
  /** The merged value: a single value, or the whole section. */
  value: z.unknown(),
  /** One entry for a single key; one per key inside for a section. */
  settings: z.array(ConfigSettingSchema),
});
export type ConfigExplanation = z.infer<typeof ConfigExplanationSchema>;

export const ConfigChangeSchema = z.object({
  path: z.string(),
  kind: z.enum(['added', 'removed', 'changed']),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type ConfigChange = z.infer<typeof ConfigChangeSchema>;

export const ConfigDiffResultSchema = z.object({
  before: z.object({ name: z.string(), environment: ConfigEnvironmentSchema }),
  after: z.object({ name: z.string(), environment: ConfigEnvironmentSchema }),
  /** Key by key, sorted by key; empty when the two merge to the same configuration. */
  changes: z.array(ConfigChangeSchema),
});
export type ConfigDiffResult = z.infer<typeof ConfigDiffResultSchema>;

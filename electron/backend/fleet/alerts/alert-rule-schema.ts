import { z } from 'zod';
import { AlertSeveritySchema, type AlertRuleKind } from '../../../contract';

/**
 * One alert rule as written in config/alerts/*.yaml. Every kind shares name, for, severity,
 * labels and enabled; each adds its own settings. Objects are strict so that a misspelt key
 * is an error pointing at it, not a setting silently ignored.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `5m`, `2h`, `30d` (Prometheus's units, one number and one unit). */
export const DurationSchema = z
  .string()
  .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'expected a duration such as 30s, 5m, 2h or 30d')
  .transform((text) => {
    const [, digits, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(text)!;
    return Number(digits) * UNIT_MS[unit as keyof typeof UNIT_MS];
  });

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const commonFields = {
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/, 'expected a name of letters, digits, - and _ starting with a letter (at most 128)'),
  /** How long the condition must hold before the alert fires; pending until then. */
  for: DurationSchema.default(0),
  severity: AlertSeveritySchema.default('warning'),
  labels: z.record(z.string().regex(LABEL_NAME, 'expected label names of letters, digits and _'), z.string().max(256)).default({}),
  /** false switches a rule off (e.g. a shipped one, from an operator's file with the same name). */
  enabled: z.boolean().default(true),
};

const percent = z.number().min(0).max(100);

export const RULE_SCHEMAS = {
  'process-crash-loop': z.object({ ...commonFields, kind: z.literal('process-crash-loop') }).strict(),
  'process-restarts': z
    .object({
      ...commonFields,
      kind: z.literal('process-restarts'),
      /** Fires when an instance restarted more than this many times ... */
      restarts: z.number().int().min(0).max(100_000),
      /** ... within this window. */
      within: DurationSchema,
    })
    .strict(),
  'host-offline': z.object({ ...commonFields, kind: z.literal('host-offline') }).strict(),
  'filesystem-usage': z.object({ ...commonFields, kind: z.literal('filesystem-usage'), above: percent }).strict(),
  'memory-usage': z.object({ ...commonFields, kind: z.literal('memory-usage'), above: percent }).strict(),
  'gpu-temperature': z.object({ ...commonFields, kind: z.literal('gpu-temperature'), above: z.number().min(0).max(200) }).strict(),
  'certificate-expiry': z.object({ ...commonFields, kind: z.literal('certificate-expiry'), within: DurationSchema }).strict(),
} as const satisfies Record<AlertRuleKind, z.ZodType>;

export type AlertRuleSpec = { [K in AlertRuleKind]: z.output<(typeof RULE_SCHEMAS)[K]> }[AlertRuleKind];

/** A rule as loaded: its spec and where it was written. */
export interface AlertRule {
  readonly spec: AlertRuleSpec;
  /** file:line:column of the rule's first key. */
  readonly source: string;
}

export const RULE_KEYS: Record<AlertRuleKind, readonly string[]> = Object.fromEntries(
  Object.entries(RULE_SCHEMAS).map(([kind, schema]) => [kind, Object.keys(schema.shape)]),
) as unknown as Record<AlertRuleKind, readonly string[]>;

/** The kind's own settings (what is not common to every rule), for `alerts.rules`. */
export function ruleSettings(spec: AlertRuleSpec): Record<string, number | string> {
  const settings: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key in commonFields || key === 'kind') continue;
    if (typeof value === 'number' || typeof value === 'string') settings[key] = value;
  }
  return settings;
}

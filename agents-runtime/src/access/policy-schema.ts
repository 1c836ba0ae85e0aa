/**
 * One attribute-based access rule (issue 14, item 3) as written in config/policies/*.yaml:
 * allow or deny some actions, on resources selected by install, host labels, process name
 * and environment, for operators selected by role, name and attributes, optionally within
 * hours of a stated time zone. Every selector left out selects everything. Objects are
 * strict, so a misspelt key is an error pointing at it rather than a selector silently
 * ignored (which would widen an allow or narrow a deny).
 */
import { z } from 'zod';
import { ROLES } from '../wire/roles';
import { ACTIONS } from './actions';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const WORD = /^[A-Za-z0-9][A-Za-z0-9._@/=-]{0,63}$/;
const word = (what: string) => z.string().regex(WORD, `expected ${what} (letters, digits, ".", "_", "@", "/", "=" or "-")`);
const list = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, 'expected at least one item; leave the key out to select everything').max(256);

/** `HH:MM-HH:MM`; a window past midnight (22:00-06:00) wraps. */
export const HOURS_PATTERN = /^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$/;

/** An IANA time zone the platform knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const OperatorSelectorSchema = z
  .object({
    roles: list(z.enum(ROLES)).optional(),
    names: list(word('an operator name')).optional(),
    /**
     * The operator's attributes: `team` equal to the value; `installs`, `host_labels` and
     * `processes` holding it among their values.
     */
    attributes: z
      .object({
        team: z.string().min(1).max(64).optional(),
        installs: word('an install name').optional(),
        host_labels: word('a host label such as rack=b4').optional(),
        processes: word('a process name').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ResourceSelectorSchema = z
  .object({
    installs: list(word('an install name')).optional(),
    /** The host must carry every one of these labels (`rack=b4`, `gpu`). */
    host_labels: list(word('a host label such as rack=b4')).optional(),
    processes: list(word('a process name of the manifest')).optional(),
    /** The install's `environment` (development, staging, production). */
    environments: list(word('an environment')).optional(),
  })
  .strict();

export const PolicyRuleSchema = z
  .object({
    name: z.string().regex(NAME, 'expected a name of letters, digits, - and _ starting with a letter (at most 128)'),
    effect: z.enum(['allow', 'deny']),
    description: z.string().max(500).optional(),
    /** Left out: every action. */
    actions: list(z.enum(ACTIONS)).optional(),
    operators: OperatorSelectorSchema.optional(),
    resources: ResourceSelectorSchema.optional(),
    /** The rule counts only within these hours of `time_zone`. */
    hours: z.string().regex(HOURS_PATTERN, 'expected a time window as HH:MM-HH:MM, e.g. 08:00-18:00').optional(),
    time_zone: z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin or UTC').optional(),
    /** false switches a rule off (a shipped one, from the operator's folder with the same name). */
    enabled: z.boolean().default(true),
    /** Where the rule was written, when the control center passes a policy on to a runtime. */
    source: z.string().max(4096).optional(),
  })
  .strict()
  .superRefine((rule, context) => {
    // Hours without a zone would mean the control center's zone in one place and the host's in another.
    if (rule.hours !== undefined && rule.time_zone === undefined)
      context.addIssue({
        code: 'custom',
        path: ['time_zone'],
        message: 'is required with hours (an IANA time zone such as Europe/Berlin)',
      });
    if (rule.time_zone !== undefined && rule.hours === undefined)
      context.addIssue({ code: 'custom', path: ['hours'], message: 'is required with time_zone (a time window as HH:MM-HH:MM)' });
  });

export type PolicyRuleSpec = z.output<typeof PolicyRuleSchema>;

export const RULE_KEYS = Object.keys(PolicyRuleSchema.shape);

/**
 * What a policy the control center pushes to one runtime says about that runtime's host,
 * since the runtime knows none of it itself: its install, labels and environment, and the
 * zone in which operators' own `hours` are meant (the control center's).
 */
export const PolicyTargetSchema = z
  .object({
    install: z.string().max(64).optional(),
    host_name: z.string().max(253).optional(),
    host_labels: z.array(z.string().max(64)).max(256).default([]),
    environment: z.string().max(64).optional(),
    operator_time_zone: z.string().refine(isTimeZone, 'expected an IANA time zone').optional(),
  })
  .strict();
export type PolicyTarget = z.output<typeof PolicyTargetSchema>;

/** A rule as loaded: its spec and where it was written (file:line:column of its first key). */
export interface PolicyRule {
  readonly spec: PolicyRuleSpec;
  readonly source: string;
}

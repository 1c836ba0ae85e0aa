/**
 * One attribute-based access rule (issue 14, item 3) as written in config/policies/*.yaml:
 * allow or deny some actions, on resources selected by install, host labels, process name
 * and environment, for operators selected by role, name and attributes, optionally within
 * hours of a stated time zone. Every selector left out selects everything. Objects are
 * strict, so a misspelt key is an error pointing at it rather than a selector silently
 * ignored (which would widen an allow or narrow a deny).
 */
import * as s from '../schema/schema';
import { ROLES } from '../wire/roles';
import { ACTIONS } from './actions';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const WORD = /^[A-Za-z0-9][A-Za-z0-9._@/=-]{0,63}$/;
const word = (what: string) => s.string().regex(WORD, `expected ${what} (letters, digits, ".", "_", "@", "/", "=" or "-")`);
const list = <T>(item: s.Schema<T>) => s.array(item).min(1, 'expected at least one item; leave the key out to select everything').max(256);

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

export const OperatorSelectorSchema = s.object({
  roles: list(s.oneOf(ROLES)).optional(),
  names: list(word('an operator name')).optional(),
  /**
   * The operator's attributes: `team` equal to the value; `installs`, `host_labels` and
   * `processes` holding it among their values.
   */
  attributes: s
    .object({
      team: s.string().min(1).max(64).optional(),
      installs: word('an install name').optional(),
      host_labels: word('a host label such as rack=b4').optional(),
      processes: word('a process name').optional(),
    })
    .optional(),
});

export const ResourceSelectorSchema = s.object({
  installs: list(word('an install name')).optional(),
  /** The host must carry every one of these labels (`rack=b4`, `gpu`). */
  host_labels: list(word('a host label such as rack=b4')).optional(),
  processes: list(word('a process name of the manifest')).optional(),
  /** The install's `environment` (development, staging, production). */
  environments: list(word('an environment')).optional(),
});

export const PolicyRuleSchema = s
  .object({
    name: s.string().regex(NAME, 'expected a name of letters, digits, - and _ starting with a letter (at most 128)'),
    effect: s.oneOf(['allow', 'deny']),
    description: s.string().max(500).optional(),
    /** Left out: every action. */
    actions: list(s.oneOf(ACTIONS)).optional(),
    operators: OperatorSelectorSchema.optional(),
    resources: ResourceSelectorSchema.optional(),
    /** The rule counts only within these hours of `time_zone`. */
    hours: s.string().regex(HOURS_PATTERN, 'expected a time window as HH:MM-HH:MM, e.g. 08:00-18:00').optional(),
    time_zone: s.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin or UTC').optional(),
    /** false switches a rule off (a shipped one, from the operator's folder with the same name). */
    enabled: s.boolean().default(true),
    /** Where the rule was written, when the control center passes a policy on to a runtime. */
    source: s.string().max(4096).optional(),
  })
  .refine((rule, report) => {
    // Hours without a zone would mean the control center's zone in one place and the host's in another.
    if (rule.hours !== undefined && rule.time_zone === undefined)
      report(['time_zone'], 'is required with hours (an IANA time zone such as Europe/Berlin)');
    if (rule.time_zone !== undefined && rule.hours === undefined)
      report(['hours'], 'is required with time_zone (a time window as HH:MM-HH:MM)');
  });

export type PolicyRuleSpec = s.Infer<typeof PolicyRuleSchema>;

export const RULE_KEYS = Object.keys(PolicyRuleSchema.shape);

/**
 * What a policy the control center pushes to one runtime says about that runtime's host,
 * since the runtime knows none of it itself: its install, labels and environment, and the
 * zone in which operators' own `hours` are meant (the control center's).
 */
export const PolicyTargetSchema = s.object({
  install: s.string().max(64).optional(),
  host_name: s.string().max(253).optional(),
  host_labels: s.array(s.string().max(64)).max(256).default([]),
  environment: s.string().max(64).optional(),
  operator_time_zone: s.string().refine(isTimeZone, 'expected an IANA time zone').optional(),
});
export type PolicyTarget = s.Infer<typeof PolicyTargetSchema>;

/** A rule as loaded: its spec and where it was written (file:line:column of its first key). */
export interface PolicyRule {
  readonly spec: PolicyRuleSpec;
  readonly source: string;
}

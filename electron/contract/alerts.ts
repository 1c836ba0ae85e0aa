import { z } from 'zod';
import { ApiErrorBodySchema } from './errors';

/**
 * Alerts (issue 12, item 4): rules from config/alerts/*.yaml evaluated with Prometheus's
 * semantics. A condition that holds is `pending` until it has held for the rule's `for:`,
 * then `firing`; once it stops holding a firing alert is `resolved` (a pending one is
 * dropped, as Prometheus drops it). An operator acknowledges an alert; who and when are kept.
 */
export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export const AlertStateSchema = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertStateSchema>;

export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export const AlertSeveritySchema = z.enum(ALERT_SEVERITIES);
export type AlertSeverity = z.infer<typeof AlertSeveritySchema>;

/** What a rule watches; each kind has its own settings (config/alerts/default.yaml shows all of them). */
export const ALERT_RULE_KINDS = [
  'process-crash-loop',
  'process-restarts',
  'host-offline',
  'filesystem-usage',
  'memory-usage',
  'gpu-temperature',
  'certificate-expiry',
] as const;
export const AlertRuleKindSchema = z.enum(ALERT_RULE_KINDS);
export type AlertRuleKind = z.infer<typeof AlertRuleKindSchema>;

export const AlertIdSchema = z.number().int().positive();

export const AlertSchema = z.object({
  id: AlertIdSchema,
  rule: z.string(),
  kind: AlertRuleKindSchema,
  severity: AlertSeveritySchema,
  state: AlertStateSchema,
  /** The rule's labels and the subject's (install, host, process, instance, mount, gpu). */
  labels: z.record(z.string(), z.string()),
  /** One line: what holds, with the value that made it hold. */
  summary: z.string(),
  /** The value last seen while the condition held (percent, °C, restarts, days left); null where there is none. */
  value: z.number().nullable(),
  hostId: z.number().int().positive().nullable(),
  /** When the condition was first seen to hold (pending since). */
  activeSinceMs: z.number().int(),
  firingSinceMs: z.number().int().nullable(),
  resolvedAtMs: z.number().int().nullable(),
  acknowledged: z.object({ by: z.string(), atMs: z.number().int() }).nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;

/** One step of an alert's life. */
export const AlertChangeSchema = z.enum(['pending', 'firing', 'resolved', 'dropped', 'acknowledged']);
export type AlertChange = z.infer<typeof AlertChangeSchema>;

export const AlertRuleSummarySchema = z.object({
  name: z.string(),
  kind: AlertRuleKindSchema,
  severity: AlertSeveritySchema,
  forMs: z.number().int().nonnegative(),
  /** The kind's own settings, as loaded (thresholds in their units, windows in ms). */
  settings: z.record(z.string(), z.union([z.number(), z.string()])),
  labels: z.record(z.string(), z.string()),
  /** file:line:column of the rule. */
  source: z.string(),
});
export type AlertRuleSummary = z.infer<typeof AlertRuleSummarySchema>;

/** A rule that did not load (the others still do), or a file that did not. */
export const AlertRuleErrorSchema = ApiErrorBodySchema.extend({
  file: z.string(),
  line: z.number().int().positive(),
  column: z.number().int().positive(),
});
export type AlertRuleError = z.infer<typeof AlertRuleErrorSchema>;

export const AlertsListParamsSchema = z
  .object({
    states: z.array(AlertStateSchema).min(1).max(ALERT_STATES.length).optional(),
    hostId: z.number().int().positive().optional(),
    rule: z.string().min(1).max(128).optional(),
    /** Resolved alerts are listed when they resolved this recently (default a day). */
    resolvedWithinMs: z
      .number()
      .int()
      .min(0)
      .max(400 * 24 * 3600_000)
      .default(24 * 3600_000),
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict();

export const alertMethods = {
  /** Firing, then pending, then recently resolved alerts, newest first within each. */
  'alerts.list': {
    params: AlertsListParamsSchema,
    result: z.object({ alerts: z.array(AlertSchema) }),
  },
  /** Records that the caller saw the alert, with the caller's pipe as who; a second acknowledgement keeps the first. ALERT_NOT_FOUND for an unknown id. */
  'alerts.ack': {
    params: z.object({ id: AlertIdSchema }).strict(),
    result: AlertSchema,
  },
  /** The loaded rules and what kept others from loading, each with its file:line:column. */
  'alerts.rules': {
    params: z.object({}).strict(),
    result: z.object({ rules: z.array(AlertRuleSummarySchema), errors: z.array(AlertRuleErrorSchema) }),
  },
} as const;

export const alertEvents = {
  /**
   * An alert became pending, firing or resolved, was dropped while pending, or was acknowledged;
   * also when another process on the data directory made the change (`sutazai alerts --ack`).
   */
  'alerts.changed': {
    params: z.object({}).strict(),
    payload: z.object({ change: AlertChangeSchema, alert: AlertSchema }),
  },
} as const;

/** What the desktop shell (and a browser in web mode) shows for an alert that starts firing. */
export const AlertNotificationSchema = z.object({
  type: z.literal('alert-notification'),
  alertId: AlertIdSchema,
  title: z.string().max(200),
  body: z.string().max(1000),
});
export type AlertNotification = z.infer<typeof AlertNotificationSchema>;

/** The one wording of an alert's notification, wherever it is raised. */
export function alertNotification(alert: Alert): AlertNotification {
  const where = [alert.labels.install, alert.labels.host].filter((part) => part !== undefined).join(' / ');
  return {
    type: 'alert-notification',
    alertId: alert.id,
    title:
      `${alert.severity === 'critical' ? 'Critical' : alert.severity === 'warning' ? 'Warning' : 'Notice'}: ${alert.rule}${where ? ` (${where})` : ''}`.slice(
        0,
        200,
      ),
    body: alert.summary.slice(0, 1000),
  };
}

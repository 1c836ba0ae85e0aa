import { z } from 'zod';
import { InstallNameSchema } from './installs';
import { HostRoleSchema } from './inventory';

/**
 * For a site's own Prometheus (issue 12, item 8): the runtimes of an install as Prometheus
 * file-based service discovery targets, one group per host, each labelled with the install,
 * the host's inventory name and its role. The groups are written as they are to a
 * `file_sd_configs` file.
 */
export const PrometheusTargetGroupSchema = z.object({
  /** One `address:port` of the host's runtime /metrics. */
  targets: z.array(z.string()).length(1),
  labels: z.object({ install: z.string(), host: z.string(), role: HostRoleSchema }),
});
export type PrometheusTargetGroup = z.infer<typeof PrometheusTargetGroupSchema>;

/** Why a host of the install has no target: its /metrics is off, or served on loopback only. */
export const PrometheusTargetSkipSchema = z.object({
  host: z.string(),
  reason: z.enum(['metrics-off', 'loopback-only']),
  /** The address its /metrics listens on (as applied), null when metrics are off. */
  listen: z.string().nullable(),
});
export type PrometheusTargetSkip = z.infer<typeof PrometheusTargetSkipSchema>;

export const PrometheusTargetsSchema = z.object({
  install: z.string(),
  groups: z.array(PrometheusTargetGroupSchema),
  skipped: z.array(PrometheusTargetSkipSchema),
});
export type PrometheusTargets = z.infer<typeof PrometheusTargetsSchema>;

export const prometheusTargetMethods = {
  /**
   * The install's hosts whose runtime serves /metrics beyond loopback (the configuration
   * the last apply wrote: runtime.metrics_listen_address and metrics_port), as file_sd
   * groups; the others are listed in `skipped`. PROMETHEUS_TARGETS_NONE when no host has one.
   */
  'installs.prometheusTargets': {
    params: z.object({ name: InstallNameSchema }).strict(),
    result: PrometheusTargetsSchema,
  },
} as const;

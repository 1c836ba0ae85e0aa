import { z } from 'zod';

/** The series the 1 Hz host sampler records; later capabilities add their own names. */
export const HOST_METRICS = [
  'cpu.percent',
  'memory.used_bytes',
  'load.1m',
  'net.rx_bytes_per_s',
  'net.tx_bytes_per_s',
  'disk.read_bytes_per_s',
  'disk.write_bytes_per_s',
] as const;

export const HostMetricSchema = z.enum(HOST_METRICS);
export type HostMetric = z.infer<typeof HostMetricSchema>;

/** The resolutions samples are kept at; a query picks the finest that fits its range. */
export const METRIC_TIERS = ['1s', '1m', '1h'] as const;
export const MetricTierSchema = z.enum(METRIC_TIERS);
export type MetricTier = z.infer<typeof MetricTierSchema>;

/** Charts never need more points than a screen is wide. */
export const MAX_QUERY_POINTS = 1500;

export const MetricsQueryParamsSchema = z
  .object({
    hostId: z.number().int().positive(),
    metrics: z.array(HostMetricSchema).min(1).max(HOST_METRICS.length),
    fromMs: z.number().int().nonnegative(),
    toMs: z.number().int().nonnegative(),
    maxPoints: z.number().int().min(1).max(MAX_QUERY_POINTS).default(MAX_QUERY_POINTS),
  })
  .refine((q) => q.fromMs <= q.toMs, { message: 'fromMs must not be after toMs', path: ['fromMs'] });

/** One point: time (ms), mean, minimum and maximum over the point's bucket. */
export const MetricPointSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);
export type MetricPoint = z.infer<typeof MetricPointSchema>;

export const MetricsQueryResultSchema = z.object({
  tier: MetricTierSchema,
  stepMs: z.number().int().positive(),
  series: z.array(z.object({ metric: HostMetricSchema, points: z.array(MetricPointSchema) })),
});
export type MetricsQueryResult = z.infer<typeof MetricsQueryResultSchema>;

export const LiveSampleSchema = z.object({
  hostId: z.number().int().positive(),
  t: z.number().int(),
  values: z.partialRecord(HostMetricSchema, z.number()),
});
export type LiveSample = z.infer<typeof LiveSampleSchema>;

import { z } from 'zod';
// The one vocabulary of series names, written once in the runtime's wire module; that file
// imports nothing, and is the one file of the runtime the contract may reach (lint's layers).
import { HOST_SERIES, isSeriesName, MAX_SERIES_NAME_LENGTH, SERIES_FAMILIES } from '../../agents-runtime/src/wire/series-names';

export {
  HOST_KEYED_SERIES,
  HOST_SERIES,
  isProcessSeries,
  isSeriesName,
  parseSeriesName,
  PROCESS_SERIES,
  SERIES_FAMILIES,
  seriesName,
  type HostKeyedFamily,
  type HostSeriesName,
  type ParsedSeriesName,
  type ProcessFamily,
  type SeriesFamilyName,
} from '../../agents-runtime/src/wire/series-names';

/**
 * The host series the control center's 1 Hz sampler has recorded for its own machine since
 * before the vocabulary (it now records the keyed ones too: each core and filesystem).
 */
export const HOST_METRICS = [
  HOST_SERIES.cpuPercent,
  HOST_SERIES.memoryUsedBytes,
  HOST_SERIES.load1,
  HOST_SERIES.netRxBytesPerSec,
  HOST_SERIES.netTxBytesPerSec,
  HOST_SERIES.diskReadBytesPerSec,
  HOST_SERIES.diskWriteBytesPerSec,
] as const;

/** Any series of the vocabulary: a host family, or a keyed family with its core, mount, GPU or instance. */
export const SeriesNameSchema = z
  .string()
  .max(MAX_SERIES_NAME_LENGTH)
  .refine(isSeriesName, { message: 'not a series name: a family of SERIES_FAMILIES, and `family:key` for a keyed one' });

export const HostMetricSchema = z.enum(HOST_METRICS);
export type HostMetric = z.infer<typeof HostMetricSchema>;

/** The resolutions samples are kept at; a query picks the finest that fits its range. */
export const METRIC_TIERS = ['1s', '1m', '1h'] as const;
export const MetricTierSchema = z.enum(METRIC_TIERS);
export type MetricTier = z.infer<typeof MetricTierSchema>;

/** Charts never need more points than a screen is wide. */
export const MAX_QUERY_POINTS = 1500;
/** Series one query may read: a host page's charts, or one process's, at once. */
export const MAX_QUERY_SERIES = 64;

export const MetricsQueryParamsSchema = z
  .object({
    hostId: z.number().int().positive(),
    /** Host series, and per-process ones (`process.rss_bytes:agent-1`), of the vocabulary. */
    metrics: z.array(SeriesNameSchema).min(1).max(MAX_QUERY_SERIES),
    fromMs: z.number().int().nonnegative(),
    toMs: z.number().int().nonnegative(),
    maxPoints: z.number().int().min(1).max(MAX_QUERY_POINTS).default(MAX_QUERY_POINTS),
  })
  .refine((q) => q.fromMs <= q.toMs, { message: 'fromMs must not be after toMs', path: ['fromMs'] });

/**
 * One point: time (ms), mean, minimum and maximum over the point's bucket. A bucket with no
 * sample has no point: a chart breaks its line where consecutive points are more than
 * `stepMs` apart (a link that was down longer than the runtime's buffer), never interpolates.
 */
export const MetricPointSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);
export type MetricPoint = z.infer<typeof MetricPointSchema>;

export const MetricsQueryResultSchema = z.object({
  tier: MetricTierSchema,
  stepMs: z.number().int().positive(),
  series: z.array(z.object({ metric: SeriesNameSchema, points: z.array(MetricPointSchema) })),
});
export type MetricsQueryResult = z.infer<typeof MetricsQueryResultSchema>;

/** Most keys `metrics.seriesKeys` lists of one family: a host's own values, so bounded; a page draws far fewer. */
export const MAX_SERIES_KEYS = 256;

function isKeyedFamily(family: string): boolean {
  return (
    Object.prototype.hasOwnProperty.call(SERIES_FAMILIES, family) &&
    SERIES_FAMILIES[family as keyof typeof SERIES_FAMILIES].keyedBy !== null
  );
}

/** A keyed family (cpu.core_percent, filesystem.used_percent, gpu.*, process.*). */
export const KeyedFamilySchema = z.string().max(64).refine(isKeyedFamily, { message: 'not a keyed family of SERIES_FAMILIES' });

export const MetricsSeriesKeysParamsSchema = z
  .object({
    hostId: z.number().int().positive(),
    families: z.array(KeyedFamilySchema).min(1).max(16),
  })
  .strict();

/**
 * The keys (cores, mounts, GPUs, instances) a host has stored series for, per family asked,
 * in the store's order (bytewise); `more` when the family has more than MAX_SERIES_KEYS.
 * Keys are the host's own text: a page shows them as text, never as markup.
 */
export const MetricsSeriesKeysResultSchema = z.object({
  families: z.array(
    z.object({
      family: KeyedFamilySchema,
      keys: z.array(z.string().min(1).max(MAX_SERIES_NAME_LENGTH)).max(MAX_SERIES_KEYS),
      more: z.boolean(),
    }),
  ),
});
export type MetricsSeriesKeysResult = z.infer<typeof MetricsSeriesKeysResultSchema>;

/**
 * One sample of a host as it arrives: this machine's own sampler (HOST_METRICS), or a remote
 * host's runtime (every series of the vocabulary, per-process ones included), placed at the
 * time the host's clock gave it.
 */
export const LiveSampleSchema = z.object({
  hostId: z.number().int().positive(),
  t: z.number().int(),
  values: z.record(SeriesNameSchema, z.number()),
  /**
   * A remote host only: how far its clock is ahead of this machine's (negative: behind), ms,
   * as last measured on its live samples (the smallest delay seen lately, so it is accurate to
   * the link's latency).
   */
  clockSkewMs: z.number().int().optional(),
  /**
   * A remote host only: when this machine's backend read the sample off the host's link, by
   * this machine's clock: with `t` and `clockSkewMs`, how long the sample took to get here,
   * and where a late chart point lost its time (the fleet benchmark's stages).
   */
  receivedMs: z.number().int().optional(),
});
export type LiveSample = z.infer<typeof LiveSampleSchema>;

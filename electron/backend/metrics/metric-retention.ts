import { ApiError, type MetricTier } from '../../contract';
import { DEFAULT_RETENTION_MS, TIERS_FINE_TO_COARSE, type RetentionMs } from './metric-tiers';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Each tier's setting: its variable, its unit, and the bounds an operator may set. */
export const METRIC_RETENTION_SETTINGS: Readonly<
  Record<MetricTier, { readonly env: string; readonly unit: 'hours' | 'days'; readonly min: number; readonly max: number }>
> = {
  // At least an hour: the store prunes hourly, so a shorter retention would keep what an hour keeps.
  '1s': { env: 'SUTAZAI_METRICS_KEEP_1S_HOURS', unit: 'hours', min: 1, max: 24 * 30 },
  '1m': { env: 'SUTAZAI_METRICS_KEEP_1M_DAYS', unit: 'days', min: 1, max: 3650 },
  '1h': { env: 'SUTAZAI_METRICS_KEEP_1H_DAYS', unit: 'days', min: 1, max: 36_500 },
};

function unitMs(tier: MetricTier): number {
  return METRIC_RETENTION_SETTINGS[tier].unit === 'hours' ? HOUR_MS : DAY_MS;
}

function describe(tier: MetricTier, ms: number): string {
  return `${ms / unitMs(tier)} ${METRIC_RETENTION_SETTINGS[tier].unit}`;
}

/**
 * How long each tier of the metric store is kept, from SUTAZAI_METRICS_KEEP_1S_HOURS,
 * SUTAZAI_METRICS_KEEP_1M_DAYS and SUTAZAI_METRICS_KEEP_1H_DAYS (each defaulted when unset:
 * 24 hours, 30 days, 730 days). A value that would not act as written is refused, never
 * clamped (METRICS_RETENTION_INVALID): one outside its bounds, and a tier kept shorter than
 * a finer one, since a range past a tier's retention is read from the next coarser tier
 * (choose-tier.ts), which would then hold less than the finer one it stands in for.
 */
export function metricRetentionFromEnv(env: Readonly<Record<string, string | undefined>>): RetentionMs {
  const read = (tier: MetricTier): number => {
    const { env: name, unit, min, max } = METRIC_RETENTION_SETTINGS[tier];
    const text = env[name]?.trim();
    if (text === undefined || text === '') return DEFAULT_RETENTION_MS[tier];
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new ApiError(
        'METRICS_RETENTION_INVALID',
        `${name}=${env[name]} is not a whole number from ${min} to ${max}.`,
        `Set ${name} to a whole number of ${unit} from ${min} to ${max} (how long the ${tier} metric tier is kept), or unset it for the default.`,
      );
    }
    return value * unitMs(tier);
  };
  const retention: Record<MetricTier, number> = { '1s': read('1s'), '1m': read('1m'), '1h': read('1h') };
  for (let i = 1; i < TIERS_FINE_TO_COARSE.length; i++) {
    const finer = TIERS_FINE_TO_COARSE[i - 1] as MetricTier;
    const coarser = TIERS_FINE_TO_COARSE[i] as MetricTier;
    if (retention[coarser] < retention[finer]) {
      throw new ApiError(
        'METRICS_RETENTION_INVALID',
        `The ${coarser} metric tier would be kept ${describe(coarser, retention[coarser])}, less than the ${finer} tier's ${describe(finer, retention[finer])}.`,
        `Keep each metric tier at least as long as the finer one (${METRIC_RETENTION_SETTINGS[coarser].env} covers at least what ${METRIC_RETENTION_SETTINGS[finer].env} does): longer ranges are read from the coarser tier.`,
      );
    }
  }
  return retention;
}

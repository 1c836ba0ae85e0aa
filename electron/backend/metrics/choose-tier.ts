import type { MetricTier } from '../../contract';
import { TIER_MS, TIERS_FINE_TO_COARSE, type RetentionMs } from './metric-tiers';

export interface TierQuery {
  fromMs: number;
  toMs: number;
  maxPoints: number;
}

/**
 * The tier a query reads, in two documented steps:
 * 1. the coarsest tier that still has at least maxPoints/2 native values in the range
 *    (so a 24 h chart reads 1 440 one-minute rollups, a 1 h chart reads 3 600 seconds);
 *    the 1 s tier when no coarser one does;
 * 2. coarser again while the range starts before that tier's retention, since the finer
 *    data there has been pruned.
 * Values newer than the tier's last rollup are filled in from finer data by the store.
 */
export function chooseTier(query: TierQuery, nowMs: number, retention: RetentionMs): MetricTier {
  const spanMs = query.toMs - query.fromMs;
  let index = 0;
  for (let i = TIERS_FINE_TO_COARSE.length - 1; i > 0; i--) {
    const tier = TIERS_FINE_TO_COARSE[i] as MetricTier;
    if (spanMs / TIER_MS[tier] >= query.maxPoints / 2) {
      index = i;
      break;
    }
  }
  while (index < TIERS_FINE_TO_COARSE.length - 1) {
    const tier = TIERS_FINE_TO_COARSE[index] as MetricTier;
    if (query.fromMs >= nowMs - retention[tier]) break;
    index++;
  }
  return TIERS_FINE_TO_COARSE[index] as MetricTier;
}

/** Buckets in [fromMs, toMs] when they are aligned to multiples of stepMs. */
export function bucketCount(fromMs: number, toMs: number, stepMs: number): number {
  return Math.floor(toMs / stepMs) - Math.floor(fromMs / stepMs) + 1;
}

/** The smallest multiple of the tier's period whose aligned buckets fit in maxPoints. */
export function chooseStepMs(query: TierQuery, tierMs: number): number {
  const spanMs = query.toMs - query.fromMs;
  let multiple = Math.max(1, Math.ceil(spanMs / (tierMs * query.maxPoints)));
  while (bucketCount(query.fromMs, query.toMs, tierMs * multiple) > query.maxPoints) multiple++;
  return tierMs * multiple;
}

import type { MetricTier } from '../../contract';

/** The period one stored value of each tier covers. */
export const TIER_MS: Readonly<Record<MetricTier, number>> = {
  '1s': 1000,
  '1m': 60_000,
  '1h': 3_600_000,
};

/** Finest first: the order tiers are rolled up in. */
export const TIERS_FINE_TO_COARSE: readonly MetricTier[] = ['1s', '1m', '1h'];

export type RetentionMs = Readonly<Record<MetricTier, number>>;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const DEFAULT_RETENTION_MS: RetentionMs = {
  '1s': DAY_MS,
  '1m': 30 * DAY_MS,
  '1h': 730 * DAY_MS,
};

export function floorTo(tMs: number, periodMs: number): number {
  return Math.floor(tMs / periodMs) * periodMs;
}

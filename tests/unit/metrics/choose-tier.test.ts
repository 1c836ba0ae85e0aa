import { describe, expect, it } from 'vitest';
import { bucketCount, chooseStepMs, chooseTier } from '../../../electron/backend/metrics/choose-tier';
import { DEFAULT_RETENTION_MS, TIER_MS } from '../../../electron/backend/metrics/metric-tiers';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const lastly = (spanMs: number, maxPoints = 1500) => ({ fromMs: NOW - spanMs, toMs: NOW, maxPoints });

describe('chooseTier', () => {
  it.each([
    ['5 minutes', 5 * MIN, '1s'],
    ['1 hour', HOUR, '1s'],
    ['12 hours', 12 * HOUR, '1s'],
    ['24 hours', DAY, '1m'],
    ['7 days', 7 * DAY, '1m'],
    ['30 days', 30 * DAY, '1m'],
    ['90 days', 90 * DAY, '1h'],
    ['2 years', 730 * DAY, '1h'],
  ])('reads the last %s from the %s tier', (_, span, tier) => {
    expect(chooseTier(lastly(span), NOW, DEFAULT_RETENTION_MS)).toBe(tier);
  });

  it('reads a coarser tier when fewer points are asked for', () => {
    expect(chooseTier(lastly(HOUR, 100), NOW, DEFAULT_RETENTION_MS)).toBe('1m');
    expect(chooseTier(lastly(DAY, 40), NOW, DEFAULT_RETENTION_MS)).toBe('1h');
  });

  it('moves to a coarser tier when the finer one has been pruned for the range', () => {
    const hourTwoDaysAgo = { fromMs: NOW - 2 * DAY, toMs: NOW - 2 * DAY + HOUR, maxPoints: 1500 };
    expect(chooseTier(hourTwoDaysAgo, NOW, DEFAULT_RETENTION_MS)).toBe('1m');
    const hourTwoMonthsAgo = { fromMs: NOW - 60 * DAY, toMs: NOW - 60 * DAY + HOUR, maxPoints: 1500 };
    expect(chooseTier(hourTwoMonthsAgo, NOW, DEFAULT_RETENTION_MS)).toBe('1h');
  });
});

describe('chooseStepMs', () => {
  it('uses the tier period when it fits and a multiple of it when it does not', () => {
    expect(chooseStepMs(lastly(DAY), TIER_MS['1m'])).toBe(MIN);
    expect(chooseStepMs(lastly(5 * MIN), TIER_MS['1s'])).toBe(1000);
    expect(chooseStepMs(lastly(HOUR), TIER_MS['1s'])).toBe(3000);
  });

  it('never yields more aligned buckets than maxPoints', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 2000; i++) {
      const toMs = NOW - Math.floor(random() * DAY);
      const query = { fromMs: toMs - Math.floor(random() * 40 * DAY), toMs, maxPoints: 1 + Math.floor(random() * 1500) };
      const tier = chooseTier(query, NOW, DEFAULT_RETENTION_MS);
      const step = chooseStepMs(query, TIER_MS[tier]);
      expect(step % TIER_MS[tier]).toBe(0);
      expect(bucketCount(query.fromMs, query.toMs, step)).toBeLessThanOrEqual(query.maxPoints);
    }
  });
});

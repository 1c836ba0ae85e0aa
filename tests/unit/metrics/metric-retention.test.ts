import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { METRIC_RETENTION_SETTINGS, metricRetentionFromEnv } from '../../../electron/backend/metrics/metric-retention';
import { createMetricStore } from '../../../electron/backend/metrics/metric-store';
import { DEFAULT_RETENTION_MS } from '../../../electron/backend/metrics/metric-tiers';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

let dir: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-metric-retention-'));
  store = openStore({ dataDir: dir });
});

afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function refusal(env: Record<string, string>): ApiError {
  let caught: unknown = null;
  try {
    metricRetentionFromEnv(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ApiError);
  const error = caught as ApiError;
  expect(error.code).toBe('METRICS_RETENTION_INVALID');
  expect(error.remedy.length).toBeGreaterThan(20);
  return error;
}

describe('metric retention from configuration', () => {
  it('defaults every tier when nothing is set, and reads each tier in its own unit', () => {
    expect(metricRetentionFromEnv({})).toEqual(DEFAULT_RETENTION_MS);
    expect(
      metricRetentionFromEnv({
        SUTAZAI_METRICS_KEEP_1S_HOURS: ' 2 ',
        SUTAZAI_METRICS_KEEP_1M_DAYS: '',
        SUTAZAI_METRICS_KEEP_1H_DAYS: '3650',
      }),
    ).toEqual({
      '1s': 2 * HOUR,
      '1m': DEFAULT_RETENTION_MS['1m'],
      '1h': 3650 * DAY,
    });
  });

  it('refuses, never clamps, a value that would not act as written', () => {
    for (const [name, value] of [
      ['SUTAZAI_METRICS_KEEP_1S_HOURS', '0'],
      ['SUTAZAI_METRICS_KEEP_1S_HOURS', '721'],
      ['SUTAZAI_METRICS_KEEP_1S_HOURS', '1.5'],
      ['SUTAZAI_METRICS_KEEP_1M_DAYS', '30d'],
      ['SUTAZAI_METRICS_KEEP_1H_DAYS', '-1'],
      ['SUTAZAI_METRICS_KEEP_1H_DAYS', '36501'],
    ] as const) {
      const error = refusal({ [name]: value });
      expect(error.message).toContain(`${name}=${value}`);
      expect(error.remedy).toContain(name);
    }
    // A coarser tier kept shorter than a finer one: a long range past it would read less than the finer tier holds.
    const shorter = refusal({ SUTAZAI_METRICS_KEEP_1S_HOURS: '72', SUTAZAI_METRICS_KEEP_1M_DAYS: '2' });
    expect(shorter.message).toContain('1m metric tier would be kept 2 days, less than the 1s tier');
    expect(shorter.remedy).toContain(METRIC_RETENTION_SETTINGS['1m'].env);
    refusal({ SUTAZAI_METRICS_KEEP_1M_DAYS: '60', SUTAZAI_METRICS_KEEP_1H_DAYS: '59' });
  });

  it('an accepted value acts: the store keeps the 1 s tier that long and no longer', () => {
    const hostId = createHostsRepo(store.db).ensureLocal(T0).id;
    let now = T0;
    const retention = metricRetentionFromEnv({ SUTAZAI_METRICS_KEEP_1S_HOURS: '2' });
    const metrics = createMetricStore(store.db, { clock: () => now, retention });
    // One sample a minute for 4 hours.
    for (let t = T0; t < T0 + 4 * HOUR; t += MIN) {
      now = t;
      metrics.record(hostId, t, { 'cpu.percent': 1 });
    }
    metrics.flush();
    metrics.prune(now);
    const seconds = metrics.query({ hostId, metrics: ['cpu.percent'], fromMs: T0, toMs: now, maxPoints: 1500 });
    const oldestSecond = store.db.prepare<[], number>('SELECT min(t) FROM samples_1s').pluck().get()!;
    // Rows whose whole minute is older than 2 hours are gone; the 1 min tier still holds the first hours.
    expect(oldestSecond).toBeGreaterThanOrEqual(now - 2 * HOUR - MIN);
    expect(oldestSecond).toBeLessThanOrEqual(now - 2 * HOUR + MIN);
    expect(seconds.tier).not.toBe('1s');
    expect(seconds.series[0]!.points[0]![0]).toBe(T0);
    metrics.close();
  });
});

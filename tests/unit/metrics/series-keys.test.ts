import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricsSeriesKeysParamsSchema } from '../../../electron/contract';
import { createMetricStore, type MetricStore } from '../../../electron/backend/metrics/metric-store';
import { createSeriesKeys } from '../../../electron/backend/metrics/series-keys';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { openMemoryStore } from '../../support/memory-store';
import { addStandInHost } from '../../support/stand-in-rows';

const T0 = Date.UTC(2025, 0, 1);

let db: Database.Database;
let metrics: MetricStore;
let localId: number;
let remoteId: number;

beforeEach(() => {
  db = openMemoryStore();
  localId = createHostsRepo(db).ensureLocal(T0).id;
  remoteId = addStandInHost(db, 'gpu-1', '10.0.0.6').id;
  metrics = createMetricStore(db, { clock: () => T0, enforceRetention: false });
});

afterEach(() => {
  metrics.close();
  db.close();
});

describe('series keys: which cores, filesystems and GPUs a host has series of', () => {
  it("lists a family's keys for one host as stored, hostile text included, and nothing of another family or host", () => {
    // A host's mount names are its own text: colons, semicolons, markup and LIKE's wildcards too.
    const mounts = ['/', '/data', '/mnt/a:b', '/x;y', '/%_<b>x</b>', '/\u202eevil'];
    metrics.record(remoteId, T0, {
      'cpu.percent': 10,
      'cpu.core_percent:0': 1,
      'cpu.core_percent:1': 2,
      'cpu.core_percent:10': 3,
      ...Object.fromEntries(mounts.map((m) => [`filesystem.used_percent:${m}`, 50])),
      ...Object.fromEntries(mounts.map((m) => [`filesystem.used_bytes:${m}`, 5])),
      'gpu.utilization_percent:0': 90,
    });
    metrics.record(localId, T0, { 'cpu.core_percent:7': 1, 'filesystem.used_percent:/home': 3 });
    const keys = createSeriesKeys(db);
    expect(keys.keysOf(remoteId, 'cpu.core_percent', 100)).toEqual(['0', '1', '10']);
    expect(keys.keysOf(remoteId, 'filesystem.used_percent', 100).sort()).toEqual([...mounts].sort());
    expect(keys.keysOf(remoteId, 'gpu.utilization_percent', 100)).toEqual(['0']);
    expect(keys.keysOf(remoteId, 'gpu.temperature_celsius', 100)).toEqual([]);
    expect(keys.keysOf(localId, 'filesystem.used_percent', 100)).toEqual(['/home']);
    // The family's own name is no key, nor is a family whose name merely starts the same.
    expect(keys.keysOf(remoteId, 'cpu', 100)).toEqual([]);
  });

  it('lists at most the limit asked', () => {
    metrics.record(remoteId, T0, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`cpu.core_percent:${i}`, i])));
    expect(createSeriesKeys(db).keysOf(remoteId, 'cpu.core_percent', 5)).toHaveLength(5);
  });

  it('the API asks only for keyed families', () => {
    expect(MetricsSeriesKeysParamsSchema.safeParse({ hostId: 1, families: ['filesystem.used_percent', 'process.rss_bytes'] }).success).toBe(
      true,
    );
    for (const family of ['cpu.percent', 'nope', 'toString', '__proto__'])
      expect(MetricsSeriesKeysParamsSchema.safeParse({ hostId: 1, families: [family] }).success, family).toBe(false);
  });
});

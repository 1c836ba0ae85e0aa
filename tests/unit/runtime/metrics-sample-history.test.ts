import { describe, expect, it } from 'vitest';
import type { GpuMetrics, HostMetrics, InstanceMetrics, MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { createMetricsService } from '../../../agents-runtime/src/metrics/metrics-service';
import { DEFAULT_CAPACITY, SampleHistory } from '../../../agents-runtime/src/metrics/sample-history';
import { seededRandom as seeded } from '../../support/seeded-random';

const host: HostMetrics = {
  cpuPercent: 12.5,
  perCorePercent: [10, 15],
  loadOneMinute: 1.5,
  loadFiveMinutes: 1,
  loadFifteenMinutes: 0.5,
  memoryUsedBytes: 6e9,
  memoryTotalBytes: 8e9,
  swapUsedBytes: 0,
  swapTotalBytes: 0,
  diskReadBytesPerSec: 512,
  diskWriteBytesPerSec: 0,
  netRxBytesPerSec: 1000,
  netTxBytesPerSec: 20,
  filesystems: [{ mount: '/', usedBytes: 60 * 1024, totalBytes: 100 * 1024 }],
  gpus: [],
};

const running: InstanceMetrics = {
  instance: 'agent-1',
  process: 'agent',
  pid: 4_194_303,
  cpuPercent: 0.3333333333333333,
  rssBytes: 3 * 1024 ** 4, // past 32 bits
  threads: 7,
  openFiles: 0,
  restarts: 2,
  operatorRestarts: 1,
  uptimeMs: 86_400_000 * 400,
  logDroppedLines: 5,
};
const stopped: InstanceMetrics = {
  instance: 'agent-2',
  process: 'agent',
  pid: null,
  cpuPercent: 0,
  rssBytes: 0,
  threads: 0,
  openFiles: null,
  restarts: 0,
  operatorRestarts: 0,
  uptimeMs: null,
};

const at = (atMs: number): MetricSample => ({ atMs, host, instances: [running] });
const times = (samples: MetricSample[]) => samples.map((s) => s.atMs);

/**
 * `count` samples one second apart, each changed from the one before the way a host changes:
 * most instances idle (uptime growing, the rest the same), some busy, restarts, stops and
 * starts, scales (the instance list), a mount and a GPU coming and going, a core going offline,
 * the clock held back (atMs + 1), -0 and nulls.
 */
function history(count: number, seed = 7): MetricSample[] {
  const random = seeded(seed);
  const gpu: GpuMetrics = {
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    utilizationPercent: 40,
    memoryUsedBytes: 2e9,
    memoryTotalBytes: 8e10,
    temperatureC: 51,
  };
  let instances: InstanceMetrics[] = [running, stopped, { ...running, instance: 'core-1', process: 'core', logDroppedLines: undefined }];
  delete instances[2]!.logDroppedLines;
  let h: HostMetrics = host;
  let atMs = 1_700_000_000_000;
  const out: MetricSample[] = [];
  for (let i = 0; i < count; i++) {
    const elapsed = random() < 0.05 ? 1 : 1000;
    atMs += elapsed;
    h = {
      ...h,
      cpuPercent: random() < 0.5 ? h.cpuPercent : random() * 100,
      perCorePercent: random() < 0.02 ? h.perCorePercent.slice(0, 1) : h.perCorePercent.map((c) => (random() < 0.5 ? c : random() * 100)),
      loadOneMinute: random() < 0.8 ? h.loadOneMinute : random() * 4,
      memoryUsedBytes: random() < 0.5 ? h.memoryUsedBytes : Math.floor(random() * 8e9),
      netRxBytesPerSec: random() < 0.9 ? 0 : random() * 1e6,
      filesystems:
        random() < 0.02
          ? h.filesystems.length === 1
            ? [...h.filesystems, { mount: '/var/lib/sutazai', usedBytes: 1, totalBytes: 2 ** 40 }]
            : h.filesystems.slice(0, 1)
          : h.filesystems.map((f) => ({ ...f, usedBytes: random() < 0.9 ? f.usedBytes : f.usedBytes + 4096 })),
      gpus:
        random() < 0.02
          ? h.gpus.length === 0
            ? [gpu]
            : []
          : h.gpus.map((g) => ({
              ...g,
              utilizationPercent: random() < 0.3 ? null : Math.floor(random() * 100),
              temperatureC: random() < 0.1 ? null : g.temperatureC,
            })),
    };
    if (random() < 0.02) {
      // A scale: one instance more or one fewer.
      instances =
        instances.length > 2 && random() < 0.5
          ? instances.slice(0, -1)
          : [...instances, { ...stopped, instance: `agent-${instances.length + 1}` }];
    }
    instances = instances.map((m): InstanceMetrics => {
      const roll = random();
      if (m.pid === null) {
        // Started now and then.
        return roll < 0.05
          ? { ...m, pid: 100 + Math.floor(random() * 1e6), uptimeMs: 0, threads: 1, openFiles: 3, cpuPercent: -0 }
          : { ...m };
      }
      if (roll < 0.01) return { ...m, pid: null, uptimeMs: null, cpuPercent: 0, rssBytes: 0, threads: 0, openFiles: null };
      if (roll < 0.03) return { ...m, restarts: m.restarts + 1, pid: m.pid + 1, uptimeMs: 0 };
      // An uptime that did not grow (the sampler clamps it at 0 while the clock is held back).
      if (roll < 0.04) return { ...m };
      const busy = roll > 0.8;
      const next: InstanceMetrics = {
        ...m,
        uptimeMs: m.uptimeMs! + elapsed,
        cpuPercent: busy ? random() * 150 : 0,
        rssBytes: busy ? m.rssBytes + 4096 : m.rssBytes,
        openFiles: roll > 0.95 ? m.openFiles! + 1 : m.openFiles,
      };
      if (m.logDroppedLines !== undefined && roll > 0.9) next.logDroppedLines = m.logDroppedLines + 1;
      return next;
    });
    out.push({ atMs, host: h, instances });
  }
  return out;
}

/** A sample as JSON can carry it, with -0 kept: toEqual tells 0 from -0 only through Object.is on leaves. */
const plain = (s: MetricSample) => structuredClone(s);

describe('the metrics history (the 15 minutes a reconnecting client may ask for)', () => {
  it('defaults to 900 samples (15 minutes at 1 s) and refuses a capacity that is not a positive whole number', () => {
    expect(new SampleHistory().capacity).toBe(900);
    expect(DEFAULT_CAPACITY).toBe(900);
    expect(() => new SampleHistory(0)).toThrow(RangeError);
    expect(() => new SampleHistory(2.5)).toThrow(RangeError);
  });

  it('gives back every sample field for field: nulls, fractions, numbers past 32 bits, -0, an absent logDroppedLines stays absent', () => {
    const samples = history(600);
    const kept = new SampleHistory(1000);
    for (const s of samples) expect(kept.push(s)).toBe(true);
    const back = kept.since(0);
    expect(back).toHaveLength(600);
    expect(back).toEqual(samples.map(plain));
    for (let i = 0; i < samples.length; i++) {
      expect(Object.keys(back[i]!.host)).toEqual(Object.keys(samples[i]!.host));
      back[i]!.instances.forEach((m, j) => {
        expect(Object.keys(m)).toEqual(Object.keys(samples[i]!.instances[j]!));
        expect(Object.is(m.cpuPercent, samples[i]!.instances[j]!.cpuPercent)).toBe(true);
      });
    }
    // The history kept numbers, not the objects it was given.
    samples[599]!.instances[0]!.restarts = 1e9;
    expect(kept.since(samples[599]!.atMs)[0]!.instances[0]!.restarts).not.toBe(1e9);
    // Each read makes new objects.
    expect(kept.since(0)[0]).not.toBe(back[0]);
  });

  it('keeps the newest `capacity` samples, across the rows stored whole and the groups dropped whole', () => {
    const samples = history(700, 11);
    for (const capacity of [1, 5, 150, 299]) {
      const kept = new SampleHistory(capacity);
      samples.forEach((s, i) => {
        kept.push(s);
        expect(kept.size).toBe(Math.min(i + 1, capacity));
      });
      expect(kept.since(0)).toEqual(samples.slice(-capacity).map(plain));
      expect(kept.newestAtMs()).toBe(samples.at(-1)!.atMs);
    }
  });

  it('since(ms) returns every sample at or after ms, oldest first', () => {
    const kept = new SampleHistory(5);
    for (let t = 1; t <= 8; t++) kept.push(at(t * 1000));
    expect(times(kept.since(0))).toEqual([4000, 5000, 6000, 7000, 8000]);
    expect(times(kept.since(6000))).toEqual([6000, 7000, 8000]);
    expect(times(kept.since(6001))).toEqual([7000, 8000]);
    expect(kept.since(9000)).toEqual([]);
    expect(new SampleHistory(3).since(0)).toEqual([]);
    expect(new SampleHistory(3).newestAtMs()).toBeNull();
  });

  it('refuses a sample older than the newest (the search needs order); equal times are kept', () => {
    const kept = new SampleHistory(4);
    expect(kept.push(at(2000))).toBe(true);
    expect(kept.push(at(1000))).toBe(false);
    expect(kept.push(at(2000))).toBe(true);
    expect(kept.since(2000)).toHaveLength(2);
    expect(kept.size).toBe(2);
  });

  it('holds 15 minutes of 100 idle instances in well under a megabyte (as objects they were 5.5 MB)', () => {
    const idle = (atMs: number, i: number): InstanceMetrics => ({
      instance: `agent-${i}`,
      process: 'agent',
      pid: 1000 + i,
      cpuPercent: 0,
      rssBytes: 30_000_000 + i * 4096,
      threads: 4,
      openFiles: 12,
      restarts: 0,
      operatorRestarts: 0,
      uptimeMs: atMs - 1_699_000_000_000,
    });
    const kept = new SampleHistory();
    for (let t = 0; t < 1000; t++) {
      const atMs = 1_700_000_000_000 + t * 1000;
      const instances = Array.from({ length: 100 }, (_, i) => idle(atMs, i));
      kept.push({ atMs, host: { ...host, cpuPercent: t % 100, memoryUsedBytes: 6e9 + t * 4096 }, instances });
    }
    expect(kept.size).toBe(900);
    // Rows of one bit an idle instance, a row stored whole every 128: about 0.25 MB.
    expect(kept.bytesHeld).toBeLessThan(512 * 1024);
    expect(kept.since(0)[0]!.instances[99]!.uptimeMs).toBe(1_700_000_000_000 + 100_000 - 1_699_000_000_000);
  });

  it('the service backfills exactly what it sent live', () => {
    let n = 0;
    const s = createMetricsService({
      gpu: false,
      processes: () => [{ instance: 'core-1', process: 'core', pid: null, restarts: n++, startedAtMs: null, logDroppedLines: 3 }],
    });
    const live: MetricSample[] = [];
    s.subscribe((x) => live.push(x));
    for (let i = 0; i < 3; i++) s.sampleNow();
    expect(s.since(0)).toEqual(live);
    expect(s.latest()).toBe(live[2]);
    s.stop();
  });
});

import { describe, expect, it } from 'vitest';
import type { InstanceMetrics, MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { packSample, unpackSample } from '../../../agents-runtime/src/metrics/packed-sample';
import { createMetricsService } from '../../../agents-runtime/src/metrics/metrics-service';

const host: MetricSample['host'] = {
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

describe('packed metrics samples (the 15-minute history)', () => {
  it('unpack(pack(sample)) is the sample: nulls, fractions, numbers past 32 bits, an absent logDroppedLines stays absent', () => {
    const sample: MetricSample = {
      atMs: 1_700_000_000_123,
      host,
      instances: [running, stopped, { ...running, instance: 'agent-3', openFiles: 12 }],
    };
    const back = unpackSample(packSample(sample, null));
    expect(back).toEqual(sample);
    expect(Object.keys(back.instances[1]!)).toEqual(Object.keys(stopped));
    expect(Object.keys(back.instances[0]!)).toEqual(Object.keys(running));
  });

  it('samples with the same instances share one names array; a changed list gets its own', () => {
    const first = packSample({ atMs: 1, host, instances: [running, stopped] }, null);
    const second = packSample({ atMs: 2, host, instances: [{ ...running, cpuPercent: 5 }, stopped] }, first);
    expect(second.names).toBe(first.names);
    const scaled = packSample({ atMs: 3, host, instances: [running] }, second);
    expect(scaled.names).not.toBe(second.names);
    expect(unpackSample(second).instances[0]!.cpuPercent).toBe(5);
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

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { sampleToPrometheus } from '../../../agents-runtime/src/metrics/prometheus-exposition';
import {
  HOST_METRICS,
  HOST_SERIES,
  isProcessSeries,
  isSeriesName,
  LiveSampleSchema,
  MetricsQueryParamsSchema,
  parseSeriesName,
  PROCESS_SERIES,
  SERIES_FAMILIES,
  seriesName,
} from '../../../electron/contract';
import { RESTART_REASONS, type ProcessFamily, type RestartReason } from '../../../agents-runtime/src/wire/series-names';
import { sampleSeries, type MetricSample__Output } from '../../../agents-runtime/src/wire';

const root = path.resolve(__dirname, '../../..');

/** A StreamMetrics message as the client reads it: 64-bit counts are decimal strings, optional fields absent. */
function wireSample(): MetricSample__Output {
  return {
    atMs: '1700000000000',
    host: {
      cpuPercent: 37.5,
      perCorePercent: [50, 25],
      loadOneMinute: 0.5,
      loadFiveMinutes: 0.25,
      loadFifteenMinutes: 0.125,
      memoryUsedBytes: String(2 ** 30),
      memoryTotalBytes: String(8 * 2 ** 30),
      swapUsedBytes: '0',
      swapTotalBytes: String(2 ** 30),
      diskReadBytesPerSec: 1024,
      diskWriteBytesPerSec: 2048,
      netRxBytesPerSec: 100,
      netTxBytesPerSec: 200,
      filesystems: [
        { mount: '/', usedBytes: '91', totalBytes: '100' },
        { mount: '/srv:data', usedBytes: '1', totalBytes: '0' },
      ],
      gpus: [{ index: 0, name: 'NVIDIA H100', utilizationPercent: 42, memoryUsedBytes: '1024', memoryTotalBytes: '4096' }],
    },
    instances: [
      {
        instance: 'agent-1',
        process: 'agent',
        pid: 4242,
        cpuPercent: 12.5,
        rssBytes: '50000000',
        threads: 7,
        openFiles: 20,
        restarts: 2,
        uptimeMs: '61500',
        operatorRestarts: 0,
        logDroppedLines: '17',
      },
      {
        instance: 'agent-2',
        process: 'agent',
        pid: 0,
        cpuPercent: 0,
        rssBytes: '0',
        threads: 0,
        restarts: 5,
        uptimeMs: '0',
        operatorRestarts: 3,
      },
    ],
  };
}

/** A host with one core, filesystem and GPU, so every host family of the exposition has a series. */
const HOST_WITH_ONE_OF_EACH: MetricSample['host'] = {
  cpuPercent: 1,
  perCorePercent: [1],
  loadOneMinute: 1,
  loadFiveMinutes: 1,
  loadFifteenMinutes: 1,
  memoryUsedBytes: 1,
  memoryTotalBytes: 2,
  swapUsedBytes: 1,
  swapTotalBytes: 2,
  diskReadBytesPerSec: 1,
  diskWriteBytesPerSec: 1,
  netRxBytesPerSec: 1,
  netTxBytesPerSec: 1,
  filesystems: [{ mount: '/', usedBytes: 1, totalBytes: 2 }],
  gpus: [{ index: 0, name: 'g', utilizationPercent: 1, memoryUsedBytes: 1, memoryTotalBytes: 2, temperatureC: 40 }],
};

describe('series names: one vocabulary for the runtime and the control center', () => {
  it('keeps the names the control center stored before the vocabulary, so stored series read on', () => {
    expect([...HOST_METRICS].sort()).toEqual(
      [
        'cpu.percent',
        'disk.read_bytes_per_s',
        'disk.write_bytes_per_s',
        'load.1m',
        'memory.used_bytes',
        'net.rx_bytes_per_s',
        'net.tx_bytes_per_s',
      ].sort(),
    );
    for (const name of HOST_METRICS) expect(isSeriesName(name)).toBe(true);
  });

  it('splits a name at its first colon, so a key may hold colons; refuses unknown families, missing or stray keys and control characters', () => {
    expect(parseSeriesName('cpu.percent')).toEqual({ family: 'cpu.percent', key: null });
    expect(parseSeriesName(seriesName('filesystem.used_bytes', '/srv:data'))).toEqual({
      family: 'filesystem.used_bytes',
      key: '/srv:data',
    });
    expect(parseSeriesName(seriesName(PROCESS_SERIES.rssBytes, 'agent-1'))).toEqual({ family: 'process.rss_bytes', key: 'agent-1' });
    for (const bad of [
      '',
      'cpuPercent',
      'cpu.percent:0',
      'process.rss_bytes',
      'process.rss_bytes:',
      'process.up:a\nb',
      `process.up:${'x'.repeat(600)}`,
    ]) {
      expect(parseSeriesName(bad), bad).toBeNull();
    }
    expect(isProcessSeries('process.up:core-1')).toBe(true);
    expect(isProcessSeries('cpu.core_percent:1')).toBe(false);
  });

  it('turns a StreamMetrics sample into named values: every host family, one series per core, mount, GPU and instance', () => {
    const values = new Map(sampleSeries(wireSample()));
    expect(values.get(HOST_SERIES.cpuPercent)).toBe(37.5);
    expect(values.get(HOST_SERIES.memoryUsedBytes)).toBe(2 ** 30);
    expect(values.get(HOST_SERIES.memoryUsedPercent)).toBe(12.5);
    expect(values.get(HOST_SERIES.load15)).toBe(0.125);
    expect(values.get(HOST_SERIES.swapTotalBytes)).toBe(2 ** 30);
    expect(values.get('cpu.core_percent:1')).toBe(25);
    expect(values.get('filesystem.used_percent:/')).toBe(91);
    expect(values.get('filesystem.used_bytes:/srv:data')).toBe(1);
    // A filesystem of size 0 has no percent rather than a division by zero.
    expect(values.has('filesystem.used_percent:/srv:data')).toBe(false);
    expect(values.get('gpu.utilization_percent:0')).toBe(42);
    expect(values.get('gpu.memory_total_bytes:0')).toBe(4096);
    // nvidia-smi gave no temperature: no value, not 0.
    expect(values.has('gpu.temperature_celsius:0')).toBe(false);
    expect(values.get('process.rss_bytes:agent-1')).toBe(50_000_000);
    expect(values.get('process.open_files:agent-1')).toBe(20);
    expect(values.get('process.up:agent-1')).toBe(1);
    // Not running: up 0 and its restarts, no resource values (a break, not a zero).
    expect(values.get('process.up:agent-2')).toBe(0);
    expect(values.get('process.restarts:agent-2')).toBe(5);
    expect(values.get('process.operator_restarts:agent-2')).toBe(3);
    expect(values.get('process.operator_restarts:agent-1')).toBe(0);
    expect(values.has('process.cpu_percent:agent-2')).toBe(false);
    // Counted by the log collector only: a runtime whose stamper does not count sends none, and there is no series (not a 0).
    expect(values.get('process.log_dropped_lines:agent-1')).toBe(17);
    expect(values.has('process.log_dropped_lines:agent-2')).toBe(false);
    for (const name of values.keys()) expect(isSeriesName(name), name).toBe(true);
  });

  it('lets metrics.query read any series of the vocabulary, per-process ones included, and nothing else', () => {
    const query = { hostId: 1, fromMs: 0, toMs: 1000 };
    const parsed = MetricsQueryParamsSchema.parse({
      ...query,
      metrics: ['cpu.percent', 'process.rss_bytes:agent-1', 'filesystem.used_percent:/'],
    });
    expect(parsed.metrics).toEqual(['cpu.percent', 'process.rss_bytes:agent-1', 'filesystem.used_percent:/']);
    for (const metrics of [['cpuPercent'], ['process.rss_bytes'], []]) {
      expect(MetricsQueryParamsSchema.safeParse({ ...query, metrics }).success, String(metrics)).toBe(false);
    }
    expect(LiveSampleSchema.safeParse({ hostId: 1, t: 5, values: { 'process.up:agent-1': 1 }, clockSkewMs: -300_000 }).success).toBe(true);
    expect(LiveSampleSchema.safeParse({ hostId: 1, t: 5, values: { bogus: 1 } }).success).toBe(false);
  });

  it("names each family's Prometheus twin as the runtime's exposition writes it", () => {
    const sample: MetricSample = {
      atMs: 1,
      host: HOST_WITH_ONE_OF_EACH,
      instances: [
        {
          instance: 'a-1',
          process: 'a',
          pid: 1,
          cpuPercent: 1,
          rssBytes: 1,
          threads: 1,
          openFiles: 1,
          restarts: 0,
          operatorRestarts: 0,
          uptimeMs: 1,
          logDroppedLines: 0,
        },
      ],
    };
    const families = new Set(
      sampleToPrometheus(sample)
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .map((line) => line.split(' ')[2]),
    );
    const twins = Object.values(SERIES_FAMILIES).flatMap((family) => (family.prometheus === null ? [] : [family.prometheus]));
    expect(twins.length).toBeGreaterThan(20);
    for (const twin of twins) expect(families, twin).toContain(twin);
  });

  it('counts restarts apart by reason: each reason names its family, and the exposition labels its count with it', () => {
    const instance = { instance: 'a-1', process: 'a', pid: 1, cpuPercent: 1, rssBytes: 1, threads: 1, openFiles: 1, uptimeMs: 1 };
    const text = sampleToPrometheus({
      atMs: 1,
      host: HOST_WITH_ONE_OF_EACH,
      instances: [{ ...instance, restarts: 4, operatorRestarts: 2 }],
    });
    const counts: Record<RestartReason, number> = { crash: 4, operator: 2 };
    expect(Object.keys(RESTART_REASONS).sort()).toEqual(['crash', 'operator']);
    for (const [reason, family] of Object.entries(RESTART_REASONS) as Array<[RestartReason, ProcessFamily]>) {
      const twin = SERIES_FAMILIES[family];
      expect(twin.prometheusLabels).toEqual({ reason });
      expect(text).toContain(`${twin.prometheus}{sutazai_instance="a-1",process="a",reason="${reason}"} ${counts[reason]}\n`);
    }
    // The crash count keeps the name the control center stored (and alerts on) before reasons existed.
    expect(RESTART_REASONS.crash).toBe(PROCESS_SERIES.restarts);
  });

  it('series-names.ts imports nothing, since the contract (and so the renderer) imports it', () => {
    const text = readFileSync(path.join(root, 'agents-runtime/src/wire/series-names.ts'), 'utf8');
    expect(text).not.toMatch(/^\s*import\b|\brequire\(|^\s*export .* from /m);
  });
});

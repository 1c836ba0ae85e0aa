import { describe, expect, it } from 'vitest';
import { parseNvidiaSmiLine } from '../../../agents-runtime/src/metrics/gpu-reader';
import { escapeLabelValue, sampleToPrometheus } from '../../../agents-runtime/src/metrics/prometheus-exposition';
import type { MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { metricSampleToWire } from '../../../agents-runtime/src/server/runtime-api';

function sample(): MetricSample {
  return {
    atMs: 1_700_000_000_000,
    host: {
      cpuPercent: 37.5,
      perCorePercent: [50, 25],
      loadOneMinute: 0.5,
      loadFiveMinutes: 0.25,
      loadFifteenMinutes: 0.125,
      memoryUsedBytes: 2 ** 30,
      memoryTotalBytes: 8 * 2 ** 30,
      swapUsedBytes: 0,
      swapTotalBytes: 2 ** 30,
      diskReadBytesPerSec: 1024,
      diskWriteBytesPerSec: 2048,
      netRxBytesPerSec: 100,
      netTxBytesPerSec: 200,
      filesystems: [
        { mount: '/', usedBytes: 10, totalBytes: 100 },
        { mount: '/mnt/a "quoted"\\path\nx', usedBytes: 1, totalBytes: 2 },
      ],
      gpus: [
        {
          index: 0,
          name: 'NVIDIA H100 80GB HBM3',
          utilizationPercent: 42,
          memoryUsedBytes: 1024 * 2 ** 20,
          memoryTotalBytes: 81559 * 2 ** 20,
          temperatureC: null,
        },
      ],
    },
    instances: [
      {
        instance: 'agent-1',
        process: 'agent',
        pid: 4242,
        cpuPercent: 12.5,
        rssBytes: 50_000_000,
        threads: 7,
        openFiles: 20,
        restarts: 2,
        operatorRestarts: 0,
        uptimeMs: 61_500,
        logDroppedLines: 17,
      },
      {
        instance: 'agent-2',
        process: 'agent',
        pid: null,
        cpuPercent: 0,
        rssBytes: 0,
        threads: 0,
        openFiles: null,
        restarts: 5,
        operatorRestarts: 1,
        uptimeMs: null,
      },
    ],
  };
}

describe('Prometheus text exposition', () => {
  const text = sampleToPrometheus(sample());
  const lines = text.trimEnd().split('\n');

  it('escapes label values: backslash, double quote, newline', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(text).toContain('sutazai_host_filesystem_used_bytes{mount="/mnt/a \\"quoted\\"\\\\path\\nx"} 1\n');
  });

  it('has one HELP and one TYPE per family, before its series, and every series has a family', () => {
    const helps = lines.filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
    const types = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(new Set(helps).size).toBe(helps.length);
    expect(types).toEqual(helps);
    let current = '';
    for (const line of lines) {
      if (line.startsWith('# TYPE ')) current = line.split(' ')[2]!;
      else if (!line.startsWith('#')) expect(line.startsWith(`${current}{`) || line.startsWith(`${current} `)).toBe(true);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('names the series as documented', () => {
    expect(lines).toContain('sutazai_host_cpu_percent 37.5');
    expect(lines).toContain('sutazai_host_cpu_core_percent{core="1"} 25');
    expect(lines).toContain('sutazai_host_load15 0.125');
    expect(lines).toContain('sutazai_process_rss_bytes{sutazai_instance="agent-1",process="agent"} 50000000');
    expect(lines).toContain('sutazai_process_uptime_seconds{sutazai_instance="agent-1",process="agent"} 61.5');
    // Crash and operator restarts counted apart by `reason`; every reason is there, zeros included.
    expect(lines).toContain('sutazai_process_restarts_total{sutazai_instance="agent-2",process="agent",reason="crash"} 5');
    expect(lines).toContain('sutazai_process_restarts_total{sutazai_instance="agent-2",process="agent",reason="operator"} 1');
    expect(lines).toContain('sutazai_process_restarts_total{sutazai_instance="agent-1",process="agent",reason="crash"} 2');
    expect(lines).toContain('sutazai_process_restarts_total{sutazai_instance="agent-1",process="agent",reason="operator"} 0');
    expect(lines.filter((l) => l.startsWith('sutazai_process_restarts_total{'))).toHaveLength(4);
    expect(lines).toContain('# TYPE sutazai_process_restarts_total counter');
    expect(lines).toContain('sutazai_process_up{sutazai_instance="agent-2",process="agent"} 0');
    // Dropped log lines: a counter where the log collector counts them, no series where the stamper does not (agent-2).
    expect(lines).toContain('# TYPE sutazai_process_log_dropped_lines_total counter');
    expect(lines.filter((l) => l.startsWith('sutazai_process_log_dropped_lines_total{'))).toEqual([
      'sutazai_process_log_dropped_lines_total{sutazai_instance="agent-1",process="agent"} 17',
    ]);
    expect(lines).toContain('sutazai_gpu_utilization_percent{gpu="0",name="NVIDIA H100 80GB HBM3"} 42');
  });

  it('never uses the label `instance`, which Prometheus reserves for the scrape target (it would rename ours exported_instance)', () => {
    const series = lines.filter((l) => !l.startsWith('#'));
    expect(series.filter((l) => l.startsWith('sutazai_process_')).length).toBeGreaterThan(0);
    for (const line of series) expect(line).not.toMatch(/[{,]instance="/);
  });

  it('leaves out what is not known: a stopped instance has no resource series, a GPU without temperature no temperature family', () => {
    expect(text).not.toContain('sutazai_process_rss_bytes{sutazai_instance="agent-2"');
    expect(text).not.toContain('sutazai_gpu_temperature_celsius');
    expect(sampleToPrometheus(null)).toBe('');
  });
});

describe('nvidia-smi CSV lines', () => {
  it('parses a line, MiB to bytes, [N/A] to null, commas in the name kept', () => {
    expect(parseNvidiaSmiLine('0, NVIDIA H100 80GB HBM3, 37, 1024, 81559, 41')).toEqual({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      utilizationPercent: 37,
      memoryUsedBytes: 1024 * 2 ** 20,
      memoryTotalBytes: 81559 * 2 ** 20,
      temperatureC: 41,
    });
    expect(parseNvidiaSmiLine('1, Odd, Name, [N/A], 0, 100, [Not Supported]')).toMatchObject({
      index: 1,
      name: 'Odd, Name',
      utilizationPercent: null,
      temperatureC: null,
    });
    expect(parseNvidiaSmiLine('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.')).toBeNull();
    expect(parseNvidiaSmiLine('')).toBeNull();
  });
});

describe('metricSampleToWire', () => {
  it('int64 as strings, null pid as 0, unknown optional fields absent', () => {
    const wire = metricSampleToWire(sample());
    expect(wire.host).toMatchObject({
      cpuPercent: 37.5,
      perCorePercent: [50, 25],
      memoryUsedBytes: String(2 ** 30),
      loadFiveMinutes: 0.25,
      swapTotalBytes: String(2 ** 30),
    });
    expect(wire.host?.gpus?.[0]).toEqual({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      utilizationPercent: 42,
      memoryUsedBytes: String(1024 * 2 ** 20),
      memoryTotalBytes: String(81559 * 2 ** 20),
    });
    expect(wire.instances?.[1]).toEqual({
      instance: 'agent-2',
      process: 'agent',
      pid: 0,
      cpuPercent: 0,
      rssBytes: '0',
      threads: 0,
      restarts: 5,
      uptimeMs: '0',
      operatorRestarts: 1,
    });
    expect(wire.instances?.[0]).toMatchObject({ pid: 4242, openFiles: 20, uptimeMs: '61500', logDroppedLines: '17' });
  });
});

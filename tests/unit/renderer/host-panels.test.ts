import { describe, expect, it } from 'vitest';
import type { MetricsSeriesKeysResult } from '../../../electron/contract';
import { hostPanels, MAX_CORE_LINES } from '../../../renderer/src/fleet/host/host-charts';

function keys(families: Record<string, string[]>, more: string[] = []): MetricsSeriesKeysResult {
  return { families: Object.entries(families).map(([family, k]) => ({ family, keys: k, more: more.includes(family) })) };
}

describe("a host's panels, from the series it sent", () => {
  it('a host with no keyed series: the host series only, no per-core, filesystem or GPU panel', () => {
    expect(hostPanels(keys({})).map((p) => p.id)).toEqual(['cpu', 'memory', 'load', 'disk', 'network']);
  });

  it('every core in number order, each filesystem, and a panel per GPU reading with a line per GPU', () => {
    const panels = hostPanels(
      keys({
        'cpu.core_percent': ['0', '1', '10', '2'],
        'filesystem.used_percent': ['/data', '/'],
        'gpu.utilization_percent': ['1', '0'],
        'gpu.memory_used_bytes': ['0', '1'],
        'gpu.temperature_celsius': ['0'],
      }),
    );
    expect(panels.map((p) => p.id)).toEqual([
      'cpu',
      'cpu-cores',
      'memory',
      'load',
      'disk',
      'network',
      'filesystems',
      'gpu-utilization',
      'gpu-memory',
      'gpu-temperature',
    ]);
    const byId = new Map(panels.map((p) => [p.id, p]));
    expect(byId.get('cpu-cores')!.series.map((s) => s.metric)).toEqual([
      'cpu.core_percent:0',
      'cpu.core_percent:1',
      'cpu.core_percent:2',
      'cpu.core_percent:10',
    ]);
    expect(byId.get('filesystems')!.series).toEqual([
      { metric: 'filesystem.used_percent:/', label: '/' },
      { metric: 'filesystem.used_percent:/data', label: '/data' },
    ]);
    expect(byId.get('gpu-utilization')!.series.map((s) => s.label)).toEqual(['GPU 0', 'GPU 1']);
    expect(byId.get('gpu-temperature')!.series.map((s) => s.metric)).toEqual(['gpu.temperature_celsius:0']);
    // Memory's size is the dashed limit, read from the host's own series.
    expect(byId.get('memory')!.limitMetric).toBe('memory.total_bytes');
  });

  it("a mount's name is the host's text: its control and bidi characters are shown, not obeyed", () => {
    const panels = hostPanels(keys({ 'filesystem.used_percent': ['/mnt/\u202eevil<b>', '/'] }));
    const labels = panels.find((p) => p.id === 'filesystems')!.series.map((s) => s.label);
    expect(labels).toContain('/mnt/\\u202eevil<b>');
    // The series name keeps the key as stored, so the store finds it.
    expect(panels.find((p) => p.id === 'filesystems')!.series.map((s) => s.metric)).toContain('filesystem.used_percent:/mnt/\u202eevil<b>');
  });

  it('draws at most 64 cores and says how many were left out', () => {
    const cores = Array.from({ length: 96 }, (_, i) => String(i));
    const panel = hostPanels(keys({ 'cpu.core_percent': cores })).find((p) => p.id === 'cpu-cores')!;
    expect(panel.series).toHaveLength(MAX_CORE_LINES);
    expect(panel.series.at(-1)!.metric).toBe('cpu.core_percent:63');
    expect(panel.note).toBe('the first 64 of 96 shown');
    const capped = hostPanels(keys({ 'cpu.core_percent': cores.slice(0, 10) }, ['cpu.core_percent'])).find((p) => p.id === 'cpu-cores')!;
    expect(capped.note).toBe('the first 10 shown');
  });
});

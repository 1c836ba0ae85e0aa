import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostCounters } from '../../../electron/backend/metrics/host-counters';
import { computeSample, startHostSampler } from '../../../electron/backend/metrics/host-sampler';

const base: HostCounters = {
  cpuBusyMs: 1000,
  cpuTotalMs: 4000,
  memoryUsedBytes: 500,
  load1m: 0.5,
  net: { readBytes: 1000, writeBytes: 2000 },
  disk: { readBytes: 0, writeBytes: 0 },
};

describe('computeSample', () => {
  it('derives CPU % from busy over total time and rates from the real elapsed time', () => {
    const next: HostCounters = {
      ...base,
      cpuBusyMs: 1500,
      cpuTotalMs: 6000,
      net: { readBytes: 3000, writeBytes: 2000 },
      disk: { readBytes: 4096, writeBytes: 1024 },
    };
    expect(computeSample(base, next, 2000)).toEqual({
      'load.1m': 0.5,
      'cpu.percent': 25,
      'memory.used_bytes': 500,
      'net.rx_bytes_per_s': 1000,
      'net.tx_bytes_per_s': 0,
      'disk.read_bytes_per_s': 2048,
      'disk.write_bytes_per_s': 512,
    });
  });

  it('never reports negative rates when a counter resets, and leaves out what is unknown', () => {
    const next: HostCounters = { ...base, cpuTotalMs: 4000, memoryUsedBytes: null, net: { readBytes: 10, writeBytes: 10 }, disk: null };
    const sample = computeSample(base, next, 1000);
    expect(sample['net.rx_bytes_per_s']).toBe(0);
    expect(sample).not.toHaveProperty('cpu.percent');
    expect(sample).not.toHaveProperty('memory.used_bytes');
    expect(sample).not.toHaveProperty('disk.read_bytes_per_s');
  });
});

describe('startHostSampler', () => {
  afterEach(() => vi.useRealTimers());

  it('records and publishes one sample a tick after the first reading, and stops', async () => {
    vi.useFakeTimers();
    let t = 0;
    let busy = 0;
    const read = async (): Promise<HostCounters> => ({ ...base, cpuBusyMs: (busy += 100), cpuTotalMs: busy * 4 });
    const recorded: number[] = [];
    const published: number[] = [];
    const sampler = startHostSampler({
      hostId: 7,
      read,
      now: () => (t += 1000),
      sink: { record: (_h, at) => recorded.push(at) },
      onSample: (s) => published.push(s.hostId),
      onError: (e) => {
        throw e;
      },
    });
    await vi.advanceTimersByTimeAsync(3000);
    sampler.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(recorded.length).toBe(3);
    expect(published).toEqual([7, 7, 7]);
  });
});

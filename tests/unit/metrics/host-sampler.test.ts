import { afterEach, describe, expect, it, vi } from 'vitest';
import { isSeriesName } from '../../../electron/contract';
import type { HostCounters } from '../../../electron/backend/metrics/host-counters';
import { computeSample, startHostSampler } from '../../../electron/backend/metrics/host-sampler';

const base: HostCounters = {
  cpuBusyMs: 1000,
  cpuTotalMs: 4000,
  cores: [],
  memoryUsedBytes: 500,
  memoryTotalBytes: null,
  swap: null,
  load1m: 0.5,
  load5m: 0.25,
  load15m: 0.125,
  net: { readBytes: 1000, writeBytes: 2000 },
  disk: { readBytes: 0, writeBytes: 0 },
  filesystems: null,
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
      'load.5m': 0.25,
      'load.15m': 0.13,
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

describe('computeSample: the series a runtime’s sample has, named alike', () => {
  it('adds each core, memory total and used percent, and each filesystem (mount names kept as they are)', () => {
    const before: HostCounters = {
      ...base,
      cores: [
        { busyMs: 100, totalMs: 1000 },
        { busyMs: 0, totalMs: 1000 },
      ],
    };
    const after: HostCounters = {
      ...base,
      cores: [
        { busyMs: 600, totalMs: 2000 },
        { busyMs: 0, totalMs: 2000 },
        // A core that came online since: no earlier reading, no percent yet.
        { busyMs: 5, totalMs: 10 },
      ],
      memoryUsedBytes: 250,
      memoryTotalBytes: 1000,
      swap: { usedBytes: 10, totalBytes: 100 },
      filesystems: [
        { mount: '/', usedBytes: 900, totalBytes: 1000 },
        { mount: '/mnt/a:b <i>', usedBytes: 1, totalBytes: 3 },
      ],
    };
    const sample = computeSample(before, after, 1000);
    expect(sample).toMatchObject({
      'cpu.core_percent:0': 50,
      'cpu.core_percent:1': 0,
      'memory.used_bytes': 250,
      'memory.total_bytes': 1000,
      'memory.used_percent': 25,
      'swap.used_bytes': 10,
      'swap.total_bytes': 100,
      'filesystem.used_bytes:/': 900,
      'filesystem.total_bytes:/': 1000,
      'filesystem.used_percent:/': 90,
      'filesystem.used_percent:/mnt/a:b <i>': 33.33,
    });
    expect(sample).not.toHaveProperty('cpu.core_percent:2');
    // Every name is one of the vocabulary's, so the store and the contract accept it.
    for (const name of Object.keys(sample)) expect(isSeriesName(name), name).toBe(true);
  });

  it('leaves the used percent out where the total is unknown or zero', () => {
    const sample = computeSample(
      base,
      { ...base, memoryTotalBytes: null, filesystems: [{ mount: '/x', usedBytes: 0, totalBytes: 0 }] },
      1000,
    );
    expect(sample).not.toHaveProperty('memory.used_percent');
    expect(sample).not.toHaveProperty('memory.total_bytes');
    expect(sample).not.toHaveProperty('filesystem.used_percent:/x');
    expect(sample['filesystem.total_bytes:/x']).toBe(0);
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

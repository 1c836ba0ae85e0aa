import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../electron/contract';
import { diffFacts, historyWithChanges } from '../../../renderer/src/hosts/facts-diff';

const GiB = 1024 ** 3;

function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    probedAt: 1_700_000_000_000,
    source: 'ssh',
    os: {
      platform: 'linux',
      family: 'debian',
      distro: 'Debian GNU/Linux',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1.0-18-amd64',
      arch: 'x64',
      hostname: 'db-2',
    },
    cpu: { model: 'EPYC', vendor: 'AMD', sockets: 1, cores: 8, threads: 16, speedGhz: 3, flags: [] },
    memory: { totalBytes: 32 * GiB, swapTotalBytes: 0 },
    disks: [{ device: 'nvme0n1', model: 'x', type: 'nvme', sizeBytes: 1e12, rotational: false }],
    filesystems: [],
    gpus: [],
    network: [],
    unknown: [],
    ...overrides,
  };
}

describe('diffFacts', () => {
  it('reports nothing between identical probes', () => {
    expect(diffFacts(facts(), facts({ probedAt: 1_700_000_060_000 }))).toEqual([]);
  });

  it('names memory, threads, disks, GPUs, OS release and kernel changes as an operator reads them', () => {
    const before = facts();
    const after = facts({
      os: { ...before.os, release: '13', kernel: '6.12.0-1-amd64' },
      cpu: { ...before.cpu!, threads: 32 },
      memory: { totalBytes: 64 * GiB, swapTotalBytes: 0 },
      disks: [...before.disks!, { device: 'sda', model: 'y', type: 'hdd', sizeBytes: 4e12, rotational: true }],
      gpus: [{ vendor: 'NVIDIA', model: 'L4', memoryBytes: 24 * GiB, driverVersion: '550', bus: '01:00.0' }],
    });
    expect(diffFacts(before, after)).toEqual([
      { field: 'memory', label: 'Memory', before: '32.0 GiB', after: '64.0 GiB' },
      { field: 'cpuThreads', label: 'CPU threads', before: '16', after: '32' },
      { field: 'disks', label: 'Disks', before: '1 disk', after: '2 disks' },
      { field: 'gpus', label: 'GPUs', before: 'none', after: '1 × L4' },
      { field: 'osRelease', label: 'OS release', before: 'Debian GNU/Linux 12', after: 'Debian GNU/Linux 13' },
      { field: 'kernel', label: 'Kernel', before: '6.1.0-18-amd64', after: '6.12.0-1-amd64' },
    ]);
  });

  it('sees a swapped GPU model even when the count stays', () => {
    const gpu = { vendor: 'NVIDIA', memoryBytes: null, driverVersion: null, bus: null };
    const changes = diffFacts(
      facts({
        gpus: [
          { ...gpu, model: 'A100' },
          { ...gpu, model: 'A100' },
        ],
      }),
      facts({
        gpus: [
          { ...gpu, model: 'A100' },
          { ...gpu, model: 'H100' },
        ],
      }),
    );
    expect(changes).toEqual([{ field: 'gpus', label: 'GPUs', before: '2 × A100', after: '1 × A100, 1 × H100' }]);
  });

  it('says "unknown" when a section could not be read, rather than inventing a change to zero', () => {
    expect(diffFacts(facts(), facts({ memory: null, cpu: null }))).toEqual([
      { field: 'memory', label: 'Memory', before: '32.0 GiB', after: 'unknown' },
      { field: 'cpuThreads', label: 'CPU threads', before: '16', after: 'unknown' },
    ]);
  });

  it('ignores a memory difference too small to show', () => {
    expect(diffFacts(facts(), facts({ memory: { totalBytes: 32 * GiB + 4096, swapTotalBytes: 0 } }))).toEqual([]);
  });
});

describe('historyWithChanges', () => {
  it('compares each snapshot (newest first) with the one before it and leaves the oldest without a base', () => {
    const oldest = { probedAt: 1, facts: facts() };
    const middle = { probedAt: 2, facts: facts({ memory: { totalBytes: 64 * GiB, swapTotalBytes: 0 } }) };
    const newest = { probedAt: 3, facts: middle.facts };
    const entries = historyWithChanges([newest, middle, oldest], 10);
    expect(entries.map((e) => e.probedAt)).toEqual([3, 2, 1]);
    expect(entries[0]?.changes).toEqual([]);
    expect(entries[1]?.changes?.map((c) => c.field)).toEqual(['memory']);
    expect(entries[2]?.changes).toBeNull();
  });

  it('uses the extra snapshot beyond the limit as the base of the last one shown', () => {
    const snapshots = [3, 2, 1].map((probedAt) => ({ probedAt, facts: facts({ cpu: { ...facts().cpu!, threads: probedAt * 2 } }) }));
    const entries = historyWithChanges(snapshots, 2);
    expect(entries).toHaveLength(2);
    expect(entries[1]?.changes).toEqual([{ field: 'cpuThreads', label: 'CPU threads', before: '2', after: '4' }]);
  });
});

import { describe, expect, it } from 'vitest';
import type { GpuFacts, HostFacts } from '../../../electron/contract';
import { suggestPlacement } from '../../../electron/backend/wizard/suggest-placement';

const GiB = 1024 ** 3;

function facts(memoryGiB: number, threads: number, gpus: Array<Partial<GpuFacts>> = []): HostFacts {
  return {
    probedAt: 1,
    source: 'ssh',
    os: {
      platform: 'linux',
      family: 'debian',
      distro: 'Debian',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1',
      arch: 'x64',
      hostname: 'h',
    },
    cpu: { model: 'cpu', vendor: 'v', sockets: 1, cores: threads / 2, threads, speedGhz: null, flags: [] },
    memory: { totalBytes: memoryGiB * GiB, swapTotalBytes: 0 },
    disks: [],
    filesystems: [],
    gpus: gpus.map((g) => ({
      vendor: 'NVIDIA Corporation',
      model: 'NVIDIA A100',
      memoryBytes: 40 * GiB,
      driverVersion: '550',
      bus: null,
      ...g,
    })),
    network: [],
    unknown: [],
  };
}

const roles = (placements: ReturnType<typeof suggestPlacement>) => placements.map((p) => [p.name, p.role, p.gpu]);

describe('placement suggested from the facts', () => {
  it('gives exactly one core, to the machine without a GPU that has the most memory, and GPU agents to GPU machines', () => {
    const placements = suggestPlacement([
      { name: 'small', facts: facts(16, 8) },
      { name: 'gpu-1', facts: facts(256, 64, [{}, {}]) },
      { name: 'big', facts: facts(64, 16) },
      { name: 'gpu-2', facts: facts(128, 32, [{}]) },
    ]);
    expect(roles(placements)).toEqual([
      ['small', 'agent', false],
      ['gpu-1', 'agent', true],
      ['big', 'core', false],
      ['gpu-2', 'agent', true],
    ]);
    expect(placements.filter((p) => p.role !== 'agent')).toHaveLength(1);
    expect(placements[1]!.reason).toBe('agents, GPU agents on its 2 NVIDIA GPUs');
    expect(placements[2]!.reason).toBe('the core: the most memory of the machines without a GPU');
  });

  it('counts only NVIDIA GPUs, as the agent-gpu profile does', () => {
    const placements = suggestPlacement([
      { name: 'igpu', facts: facts(32, 8, [{ vendor: 'Intel Corporation', model: 'UHD Graphics 630' }]) },
      { name: 'other', facts: facts(16, 8) },
    ]);
    expect(roles(placements)).toEqual([
      ['igpu', 'core', false],
      ['other', 'agent', false],
    ]);
  });

  it('breaks ties by threads, then name, so the same facts give the same answer', () => {
    const hosts = [
      { name: 'b', facts: facts(32, 8) },
      { name: 'a', facts: facts(32, 8) },
      { name: 'c', facts: facts(32, 16) },
    ];
    expect(suggestPlacement(hosts).find((p) => p.role === 'core')!.name).toBe('c');
    expect(suggestPlacement(hosts.slice(0, 2)).find((p) => p.role === 'core')!.name).toBe('a');
    expect(suggestPlacement([...hosts].reverse())).toEqual(suggestPlacement(hosts).slice().reverse());
  });

  it('runs both on a single machine, with GPU agents when it has a GPU', () => {
    expect(roles(suggestPlacement([{ name: 'only', facts: facts(8, 4, [{}]) }]))).toEqual([['only', 'both', true]]);
    expect(suggestPlacement([])).toEqual([]);
  });

  it('still picks a core when every machine has a GPU, and says when nothing was probed', () => {
    const gpus = suggestPlacement([
      { name: 'g1', facts: facts(64, 16, [{}]) },
      { name: 'g2', facts: facts(128, 16, [{}]) },
    ]);
    expect(roles(gpus)).toEqual([
      ['g1', 'agent', true],
      ['g2', 'core', false],
    ]);
    expect(gpus[1]!.reason).toContain('every machine has a GPU');
    const unknown = suggestPlacement([
      { name: 'x', facts: null },
      { name: 'y', facts: null },
    ]);
    expect(unknown[0]).toMatchObject({ role: 'core', reason: expect.stringContaining('not probed yet') });
  });
});

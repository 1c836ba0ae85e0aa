import type Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../electron/contract';
import { loadProfiles } from '../../../electron/backend/preflight/load-profiles';
import { createPreflightService } from '../../../electron/backend/preflight/preflight-service';
import { profilesForRole, runRolePreflight } from '../../../electron/backend/preflight/role-preflight';
import type { HostRow } from '../../../electron/backend/store/hosts-repo';
import { createPreflightRepo } from '../../../electron/backend/store/preflight-repo';
import { openMemoryStore } from '../../support/memory-store';
import { addStandInHost } from '../../support/stand-in-rows';

const GiB = 1024 ** 3;
const profiles = loadProfiles(path.resolve(__dirname, '../../../config'));

function facts(hostname: string, memoryGiB: number, gpus = 0): HostFacts {
  return {
    probedAt: 1_000,
    source: 'ssh',
    os: {
      platform: 'linux',
      family: 'debian',
      distro: 'Debian',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1',
      arch: 'x64',
      hostname,
    },
    cpu: { model: 'cpu', vendor: 'v', sockets: 1, cores: 8, threads: 16, speedGhz: null, flags: [] },
    memory: { totalBytes: memoryGiB * GiB, swapTotalBytes: 0 },
    disks: [],
    filesystems: [{ device: '/dev/sda1', type: 'ext4', mount: '/', sizeBytes: 500 * GiB, usedBytes: 0, availableBytes: 400 * GiB }],
    gpus: Array.from({ length: gpus }, () => ({
      vendor: 'NVIDIA Corporation',
      model: 'NVIDIA A100',
      memoryBytes: 40 * GiB,
      driverVersion: '550.54',
      bus: null,
    })),
    network: [],
    unknown: [],
  } as HostFacts;
}

let db: Database.Database;
let rows: HostRow[];
const factsOf = new Map<number, HostFacts>();

beforeEach(() => {
  db = openMemoryStore();
  rows = ['core-1', 'gpu-1', 'small'].map((name, i) => addStandInHost(db, name, `10.0.0.${i + 1}`));
  factsOf.set(rows[0]!.id, facts('core-1', 64));
  factsOf.set(rows[1]!.id, facts('gpu-1', 128, 2));
  factsOf.set(rows[2]!.id, facts('gpu-1', 2)); // the same hostname as gpu-1, and too little memory
});
afterEach(() => db.close());

function run(choices: Parameters<typeof runRolePreflight>[1]) {
  const results = createPreflightRepo(db);
  const preflight = createPreflightService({
    profiles: () => profiles,
    host: (id) => rows.find((r) => r.id === id)!,
    latestFacts: (id) => factsOf.get(id) ?? null,
    results,
    now: () => 5_000,
  });
  return {
    report: runRolePreflight(
      { preflight, host: (id) => rows.find((r) => r.id === id)!, latestFacts: (id) => factsOf.get(id) ?? null, now: () => 5_000 },
      choices,
    ),
    results,
  };
}

describe('preflight by role', () => {
  it('maps each role to the profiles it must meet', () => {
    expect(profilesForRole('core', true)).toEqual(['core']);
    expect(profilesForRole('agent', false)).toEqual(['agent']);
    expect(profilesForRole('agent', true)).toEqual(['agent-gpu']);
    expect(profilesForRole('both', false)).toEqual(['core', 'agent']);
    expect(profilesForRole('both', true)).toEqual(['core', 'agent-gpu']);
  });

  it('checks each host against its role’s profiles, stores each result, and checks across all the hosts', () => {
    const [core, gpu, small] = rows;
    const { report, results } = run([
      { hostId: core!.id, role: 'both', gpu: false },
      { hostId: gpu!.id, role: 'agent', gpu: true },
      { hostId: small!.id, role: 'agent', gpu: false },
    ]);
    const byName = new Map(report.hosts.map((h) => [h.hostName, h]));
    expect(byName.get('core-1')!.results.map((r) => r.profile)).toEqual(['core', 'agent']);
    expect(byName.get('gpu-1')!.results.map((r) => r.profile)).toEqual(['agent-gpu']);
    expect(byName.get('small')!.results.map((r) => r.profile)).toEqual(['agent']);
    // 2 GiB is below the agent profile's 4 GiB: the host, and so the report, fail.
    expect(byName.get('small')!.outcome).toBe('fail');
    expect(report.outcome).toBe('fail');
    // The two machines named gpu-1 are found across hosts, naming both.
    const hostnames = report.crossHost.find((c) => c.id === 'unique.hostname')!;
    expect(hostnames.outcome).toBe('fail');
    expect(hostnames.hostIds.sort()).toEqual([gpu!.id, small!.id].sort());
    // Each run is in the host's own history, as a preflight from the Hosts page would be.
    expect(
      results
        .history(core!.id, 10)
        .map((r) => r.profile)
        .sort(),
    ).toEqual(['agent', 'core']);
  });
});

import { describe, expect, it } from 'vitest';
import type { FleetLink, HostSummary, InstallRecord, MetricPoint } from '../../../electron/contract';
import { fleetRows, matchesFilter, sortRows, usageNow, type FleetRow, type HostUsage } from '../../../renderer/src/fleet/fleet-rows';
import { applyLinkChange } from '../../../renderer/src/fleet/use-fleet-links';

function install(name: string, hosts: Array<[number, string, InstallRecord['hosts'][number]['state'], string | null]>): InstallRecord {
  return {
    id: name.length,
    name,
    bundle: { id: 1, name: 'sutazai', version: '1.0.0' },
    createdAt: 1,
    updatedAt: 2,
    hosts: hosts.map(([hostId, hostName, state, current]) => ({
      hostId,
      hostName,
      role: 'both',
      gpu: false,
      state,
      mode: 'system',
      rootDir: '/opt/sutazai',
      service: 'systemd',
      releases:
        current === null
          ? []
          : [
              {
                version: current,
                state: 'current',
                path: `/opt/sutazai/releases/${current}`,
                bundleSha256: 'a'.repeat(64),
                installedAt: 1,
              },
            ],
    })),
  };
}

const GiB = 1024 ** 3;
const hosts = [
  { id: 1, memoryBytes: 8 * GiB, gpuCount: 0 },
  { id: 2, memoryBytes: 16 * GiB, gpuCount: 2 },
  { id: 3, memoryBytes: null, gpuCount: null },
] as HostSummary[];
const installs = [
  install('prod', [
    [2, 'web-2', 'installed', '1.0.0'],
    [1, 'web-1', 'failed', null],
  ]),
  install('lab', [[3, 'lab-1', 'installing', null]]),
];
const p = (t: number, v: number): MetricPoint => [t, v, v, v];

describe('the fleet overview rows', () => {
  const rows = fleetRows(installs, hosts);
  const usage = new Map<number, HostUsage>([
    // This machine's sampler: memory in bytes only, no filesystems, no GPUs.
    [
      1,
      {
        cpu: [p(1000, 10), p(2000, 80), p(3000, NaN)],
        memory: [p(1000, 2 * GiB), p(2000, 4 * GiB)],
        memoryPercent: [],
        disk: [],
        gpus: [],
      },
    ],
    // A runtime: memory as a share too (preferred), the root filesystem, each GPU.
    [
      2,
      {
        cpu: [p(1000, 30)],
        memory: [p(1000, 12 * GiB)],
        memoryPercent: [p(1000, 74)],
        disk: [p(1000, 91), p(4000, 92)],
        gpus: [[p(1000, 20)], [p(1000, 65), p(2000, NaN)]],
      },
    ],
  ]);
  const nowOf = (row: FleetRow) => usageNow(row, usage.get(row.hostId));
  const link = (hostId: number, state: FleetLink['state']): FleetLink => ({
    installName: 'x',
    hostId,
    hostName: `h${hostId}`,
    state,
    lastSeenMs: null,
    sinceMs: 1,
    reason: null,
  });
  const links = new Map([
    [1, link(1, 'online')],
    [2, link(2, 'offline')],
  ]);
  const firing = new Map([[3, 2]]);
  const down = new Map([
    [1, 0],
    [2, 3],
  ]);
  const lookups = {
    usage: nowOf,
    link: (row: FleetRow) => links.get(row.hostId),
    firing: (row: FleetRow) => firing.get(row.hostId) ?? 0,
    down: (row: FleetRow) => down.get(row.hostId) ?? null,
  };

  it('has one row per host of every install, with its current release and memory size', () => {
    expect(rows.map((r) => [r.install, r.host, r.state, r.release, r.memoryTotalBytes, r.gpuCount])).toEqual([
      ['prod', 'web-2', 'installed', '1.0.0', 16 * GiB, 2],
      ['prod', 'web-1', 'failed', null, 8 * GiB, 0],
      ['lab', 'lab-1', 'installing', null, null, 0],
    ]);
  });

  it('reads now as the newest finite point (a trailing gap is not a zero), memory as a share of the probed size', () => {
    expect(nowOf(rows[1]!)).toEqual({
      cpuPercent: 80,
      memoryPercent: 50,
      diskPercent: null,
      gpuPercent: null,
      gpuIndex: null,
      lastSampleMs: 2000,
    });
    // The runtime's own memory share wins over bytes / probed size; the busiest GPU is the one shown.
    expect(nowOf(rows[0]!)).toEqual({
      cpuPercent: 30,
      memoryPercent: 74,
      diskPercent: 92,
      gpuPercent: 65,
      gpuIndex: 1,
      lastSampleMs: 4000,
    });
    expect(nowOf(rows[2]!)).toEqual({
      cpuPercent: null,
      memoryPercent: null,
      diskPercent: null,
      gpuPercent: null,
      gpuIndex: null,
      lastSampleMs: null,
    });
  });

  it('sorts by name, busiest or fullest first (hosts without figures last), problems first, longest silent first', () => {
    const order = (key: Parameters<typeof sortRows>[1]) => sortRows(rows, key, lookups).map((r) => r.host);
    expect(order('name')).toEqual(['lab-1', 'web-1', 'web-2']);
    expect(order('cpu')).toEqual(['web-1', 'web-2', 'lab-1']);
    expect(order('memory')).toEqual(['web-2', 'web-1', 'lab-1']);
    expect(order('disk')).toEqual(['web-2', 'lab-1', 'web-1']);
    expect(order('state')).toEqual(['web-1', 'lab-1', 'web-2']);
    expect(order('last-sample')).toEqual(['lab-1', 'web-1', 'web-2']);
    // Offline first; a host without a link after the online ones.
    expect(order('link')).toEqual(['web-2', 'web-1', 'lab-1']);
    expect(order('alerts')).toEqual(['lab-1', 'web-1', 'web-2']);
    // Processes not known (link down) go last.
    expect(order('processes')).toEqual(['web-2', 'web-1', 'lab-1']);
  });

  it('filters by every word, in any field, in any case', () => {
    const shown = (filter: string) => rows.filter((r) => matchesFilter(r, filter)).map((r) => r.host);
    expect(shown('')).toEqual(['web-2', 'web-1', 'lab-1']);
    expect(shown('PROD failed')).toEqual(['web-1']);
    expect(shown('1.0.0')).toEqual(['web-2']);
    expect(shown('lab web')).toEqual([]);
    expect(rows.filter((r) => matchesFilter(r, 'offline', links.get(r.hostId))).map((r) => r.host)).toEqual(['web-2']);
  });

  it('applies each link change to the links: replaced, added, dropped when removed', () => {
    const before = [link(1, 'online'), link(2, 'offline')];
    const change = (hostId: number, state: FleetLink['state'], removed = false) => ({
      ...link(hostId, state),
      previousState: null,
      removed,
    });
    expect(applyLinkChange(before, change(2, 'connecting')).map((l) => [l.hostId, l.state])).toEqual([
      [1, 'online'],
      [2, 'connecting'],
    ]);
    expect(applyLinkChange(before, change(3, 'connecting')).map((l) => l.hostId)).toEqual([1, 2, 3]);
    expect(applyLinkChange(before, change(1, 'offline', true)).map((l) => l.hostId)).toEqual([2]);
    expect(applyLinkChange(before, change(2, 'online'))[1]).not.toHaveProperty('previousState');
  });
});

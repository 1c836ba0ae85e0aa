import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../electron/contract';
import { analyzeHost, worst } from '../../../electron/backend/preflight/analyzers';
import { analyzeAcrossHosts } from '../../../electron/backend/preflight/cross-host';
import { compareVersions, freeBytesAt, normaliseArch } from '../../../electron/backend/preflight/host-facts-view';
import { loadProfiles, parseProfile } from '../../../electron/backend/preflight/load-profiles';
import { parseByteSize } from '../../../electron/backend/preflight/byte-size';

const GiB = 1024 ** 3;
const profiles = loadProfiles(path.resolve(__dirname, '../../../config'));

function facts(overrides: Record<string, unknown> = {}): HostFacts {
  return {
    probedAt: 1_000_000,
    source: 'ssh',
    os: {
      platform: 'linux',
      family: 'debian',
      distro: 'Ubuntu',
      release: '22.04',
      codename: 'jammy',
      kernel: '6.5',
      arch: 'x86_64',
      hostname: 'gpu-1',
    },
    cpu: { model: 'EPYC', vendor: 'AMD', sockets: 1, cores: 8, threads: 16, speedGhz: 3, flags: ['avx2'] },
    memory: { totalBytes: 64 * GiB, swapTotalBytes: 0 },
    disks: [],
    filesystems: [
      { device: '/dev/sda1', type: 'ext4', mount: '/', sizeBytes: 100 * GiB, usedBytes: 10 * GiB, availableBytes: 90 * GiB },
      { device: '/dev/sdb1', type: 'xfs', mount: '/opt', sizeBytes: 500 * GiB, usedBytes: 0, availableBytes: 8 * GiB },
    ],
    gpus: [{ vendor: 'NVIDIA Corporation', model: 'NVIDIA A10', memoryBytes: 24 * GiB, driverVersion: '535.104.05', bus: 'PCI' }],
    network: [],
    unknown: [],
    ...overrides,
  } as HostFacts;
}

const byId = (checks: ReturnType<typeof analyzeHost>) => new Map(checks.map((c) => [c.id, c]));

describe('preflight analyzers', () => {
  it('ships the three profiles', () => {
    expect([...profiles.keys()].sort()).toEqual(['agent', 'agent-gpu', 'core']);
    expect(profiles.get('core')?.memory?.minBytes).toBe(8 * GiB);
  });

  it('judges free space on the filesystem that holds the install path, not the root one', () => {
    expect(freeBytesAt(facts(), '/opt/sutazai')).toEqual({ bytes: 8 * GiB, mount: '/opt' });
    expect(freeBytesAt(facts(), '/srv/x')).toEqual({ bytes: 90 * GiB, mount: '/' });
    const checks = byId(analyzeHost(facts(), profiles.get('core')!));
    expect(checks.get('disk.free')).toMatchObject({ outcome: 'fail' });
    expect(checks.get('disk.free')?.message).toContain('/opt');
    expect(checks.get('disk.free')?.remedy).not.toBe('');
  });

  it('passes a good GPU host for agent-gpu and fails one with an old driver or too little memory', () => {
    const good = facts({
      filesystems: [{ device: '/dev/sda1', type: 'ext4', mount: '/', sizeBytes: 1e12, usedBytes: 0, availableBytes: 500 * GiB }],
    });
    const checks = byId(analyzeHost(good, profiles.get('agent-gpu')!));
    expect(checks.get('gpu.count')?.outcome).toBe('pass');
    expect(checks.get('gpu.driver')?.outcome).toBe('pass');
    const old = byId(
      analyzeHost(
        facts({ gpus: [{ vendor: 'NVIDIA', model: 'T4', memoryBytes: 15 * GiB, driverVersion: '470.82', bus: null }] }),
        profiles.get('agent-gpu')!,
      ),
    );
    expect(old.get('gpu.driver')?.outcome).toBe('fail');
    expect(old.get('gpu.memory')?.outcome).toBe('fail');
    const none = byId(
      analyzeHost(
        facts({ gpus: [{ vendor: 'Intel', model: 'UHD', memoryBytes: null, driverVersion: null, bus: null }] }),
        profiles.get('agent-gpu')!,
      ),
    );
    expect(none.get('gpu.count')).toMatchObject({ outcome: 'fail' });
  });

  it('warns below the recommended size and fails below the minimum', () => {
    const agent = profiles.get('agent')!;
    expect(
      byId(
        analyzeHost(facts({ cpu: { model: 'x', vendor: 'x', sockets: 1, cores: 1, threads: 1, speedGhz: null, flags: [] } }), agent),
      ).get('cpu.threads')?.outcome,
    ).toBe('fail');
    expect(
      byId(
        analyzeHost(facts({ cpu: { model: 'x', vendor: 'x', sockets: 1, cores: 2, threads: 3, speedGhz: null, flags: [] } }), agent),
      ).get('cpu.threads')?.outcome,
    ).toBe('warn');
    expect(byId(analyzeHost(facts({ memory: { totalBytes: 6 * GiB, swapTotalBytes: 0 } }), agent)).get('memory.total')?.outcome).toBe(
      'warn',
    );
  });

  it('checks OS family, version and architecture, and marks unknown facts as warnings', () => {
    const core = profiles.get('core')!;
    const old = byId(
      analyzeHost(
        facts({
          os: {
            platform: 'linux',
            family: 'debian',
            distro: 'Ubuntu',
            release: '18.04',
            codename: '',
            kernel: '4',
            arch: 'x86_64',
            hostname: 'h',
          },
        }),
        core,
      ),
    );
    expect(old.get('os.version')?.outcome).toBe('fail');
    const mac = byId(
      analyzeHost(
        facts({
          os: {
            platform: 'darwin',
            family: 'darwin',
            distro: 'macOS',
            release: '14',
            codename: '',
            kernel: '23',
            arch: 'arm64',
            hostname: 'h',
          },
        }),
        core,
      ),
    );
    expect(mac.get('os.family')?.outcome).toBe('fail');
    expect(mac.get('os.arch')?.outcome).toBe('pass');
    const unknownCpu = byId(analyzeHost(facts({ cpu: null }), core));
    expect(unknownCpu.get('cpu.threads')?.outcome).toBe('warn');
  });

  it('prefers systemd where the profile asks for it, and warns about a login without privilege', () => {
    const core = profiles.get('core')!;
    const openrc = byId(
      analyzeHost(
        facts({
          initSystem: { kind: 'openrc', pid1: 'init' },
          privilege: { level: 'none', user: 'ops', uid: 1000, sudoPasswordVerified: null },
        }),
        core,
      ),
    );
    expect(openrc.get('init')).toMatchObject({ outcome: 'warn' });
    expect(openrc.get('privilege')).toMatchObject({ outcome: 'warn' });
    expect(byId(analyzeHost(facts({ initSystem: { kind: 'systemd', pid1: 'systemd' } }), core)).get('init')?.outcome).toBe('pass');
    expect(byId(analyzeHost(facts(), profiles.get('agent')!)).has('init')).toBe(false);
  });

  it('never passes a login whose sudo rights are unknown or whose sudo password was refused', () => {
    const core = profiles.get('core')!;
    const reason = 'sudo insists on a terminal (Defaults requiretty)';
    const unknown = byId(
      analyzeHost(
        facts({
          privilege: { level: 'unknown', user: 'ops', uid: 1000, sudoPasswordVerified: null },
          unknown: [{ field: 'privilege', reason }],
        }),
        core,
      ),
    );
    expect(unknown.get('privilege')).toMatchObject({
      outcome: 'warn',
      message: `Whether the login can become root is unknown: ${reason}.`,
    });
    expect(unknown.get('privilege')!.remedy).toContain('Store the sudo password');
    const refused = byId(
      analyzeHost(facts({ privilege: { level: 'sudo-password', user: 'ops', uid: 1000, sudoPasswordVerified: false } }), core),
    );
    expect(refused.get('privilege')).toMatchObject({ outcome: 'warn', message: 'sudo refused the stored password.' });
    const checked = byId(
      analyzeHost(facts({ privilege: { level: 'sudo-password', user: 'ops', uid: 1000, sudoPasswordVerified: true } }), core),
    );
    expect(checked.get('privilege')?.outcome).toBe('pass');
  });

  it('fails when a required port has a listener', () => {
    const core = profiles.get('core')!;
    const busy = byId(analyzeHost(facts({ listeningPorts: [{ address: '0.0.0.0', port: 7700 }] }), core));
    expect(busy.get('ports.free')).toMatchObject({ outcome: 'fail' });
    expect(busy.get('ports.free')?.message).toContain('7700');
    expect(byId(analyzeHost(facts({ listeningPorts: [{ address: '0.0.0.0', port: 22 }] }), core)).get('ports.free')?.outcome).toBe('pass');
  });

  it('finds duplicates and clock skew across hosts', () => {
    const a = facts({ machineId: 'abc', clock: { epochMs: 1_000_000 + 90_000 } });
    const b = facts({ machineId: 'abc', clock: { epochMs: 1_000_000 + 1_000 } });
    const checks = analyzeAcrossHosts([
      { hostId: 1, hostName: 'a', address: '198.18.0.2', facts: a },
      { hostId: 2, hostName: 'b', address: '198.18.0.3', facts: b },
    ]);
    const failed = checks.filter((c) => c.outcome === 'fail').map((c) => c.id);
    expect(failed).toEqual(expect.arrayContaining(['unique.hostname', 'unique.machine-id', 'clock.skew']));
    expect(checks.find((c) => c.id === 'unique.address')?.outcome).toBe('pass');
    expect(checks.filter((c) => c.id === 'clock.skew').map((c) => c.outcome)).toEqual(['fail', 'pass']);
    expect(worst(checks.map((c) => c.outcome))).toBe('fail');
  });
});

describe('architecture names', () => {
  it('names architectures as Node does, whatever the probe or profile wrote', () => {
    expect(['x86_64', 'AMD64', 'x64', 'aarch64', 'arm64', 'armv7l', 'armhf', 'i686', 's390x'].map(normaliseArch)).toEqual([
      'x64',
      'x64',
      'x64',
      'arm64',
      'arm64',
      'arm',
      'arm',
      'ia32',
      's390x',
    ]);
  });
});

describe('profile files', () => {
  it('names file, line and column of a bad field', () => {
    const text = 'name: core\ndescription: x\nmemory:\n  minBytes: lots\n';
    expect(() => parseProfile(text, 'core.yaml')).toThrow(/^core\.yaml:4:13: memory\.minBytes: "lots" is not a size/);
    expect(() => parseProfile('name: core\ndescription: x\ncpu:\n  minThreads: 2\n  maxThreads: 4\n', 'p.yaml')).toThrow(
      /^p\.yaml:\d+:\d+: cpu/,
    );
  });

  it('parses sizes as operators write them', () => {
    expect(parseByteSize('16GiB')).toBe(16 * GiB);
    expect(parseByteSize('1.5 GB')).toBe(1.5e9);
    expect(parseByteSize(512)).toBe(512);
    expect(parseByteSize('lots')).toBeNull();
    expect(compareVersions('535.104.05', '535')).toBe(1);
    expect(compareVersions('22.04', '24.04')).toBe(-1);
  });
});

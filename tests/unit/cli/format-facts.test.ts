import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../electron/contract';
import { formatFacts } from '../../../electron/backend/cli/format-text';

const base: HostFacts = {
  probedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
  source: 'ssh',
  os: {
    platform: 'linux',
    family: 'debian',
    distro: 'Debian GNU/Linux',
    release: '12',
    codename: 'bookworm',
    kernel: '6.1.0',
    arch: 'x64',
    hostname: 'gpu-1',
  },
  cpu: null,
  memory: null,
  disks: [],
  filesystems: [],
  gpus: [
    {
      vendor: 'NVIDIA Corporation',
      model: 'NVIDIA H100 80GB HBM3',
      memoryBytes: 81559 * 1024 * 1024,
      driverVersion: '550.54.15',
      bus: '0000:18:00.0',
      kind: 'nvidia',
      cudaVersion: '12.4',
    },
  ],
  network: [],
  unknown: [{ field: 'virtualization.tool', reason: 'systemd-detect-virt not installed' }],
};

describe('hosts show', () => {
  it('prints the facts the remote probe adds', () => {
    const text = formatFacts('gpu-1', {
      ...base,
      machineId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      virtualization: { kind: 'vm', name: 'kvm' },
      initSystem: { kind: 'systemd', pid1: 'systemd' },
      clock: { epochMs: base.probedAt - 93_000, timezone: 'Europe/Berlin', utcOffsetMinutes: 60 },
      privilege: { level: 'sudo-password', user: 'ops', uid: 1000, sudoPasswordVerified: false },
      installPath: {
        path: '/opt/sutazai',
        existingPath: '/opt',
        writable: false,
        filesystemDevice: '/dev/nvme0n1p2',
        filesystemMount: '/',
        sizeBytes: 2 ** 40,
        availableBytes: 2 ** 39,
      },
      listeningPorts: [
        { address: '0.0.0.0', port: 22 },
        { address: '::1', port: 8080 },
      ],
    });
    expect(text).toContain('  Machine ID      0f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(text).toContain('  Virtualization  vm (kvm)');
    expect(text).toContain('  Init            systemd\n');
    expect(text).toContain('  Clock           2026-01-01T11:58:27.000Z Europe/Berlin (UTC+01:00), 93 s behind this machine');
    expect(text).toContain('  Privilege       ops (uid 1000): sudo with a password (the stored password was refused)');
    expect(text).toContain('  NVIDIA Corporation NVIDIA H100 80GB HBM3  79.6 GiB  driver 550.54.15  CUDA 12.4  [0000:18:00.0]');
    expect(text).toContain(
      'Install path\n  Path            /opt/sutazai (not there yet; /opt is)\n  Filesystem      / on /dev/nvme0n1p2\n  Free            512.0 GiB of 1.0 TiB\n  Writable        no (needs sudo)',
    );
    expect(text).toContain('Listening TCP ports\n  0.0.0.0:22\n  [::1]:8080');
    expect(text).toContain('  virtualization.tool systemd-detect-virt not installed');
  });

  it('leaves out what a snapshot from before these fields does not have', () => {
    const text = formatFacts('old', base);
    expect(text).not.toMatch(/Machine ID|Virtualization|Privilege|Install path|Listening TCP ports/);
  });
});

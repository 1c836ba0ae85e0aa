import { describe, expect, it } from 'vitest';
import { mapCpu, mapFilesystems, mapGpus, mapNetwork, osFamily } from '../../../electron/backend/probe/map-systeminformation';

describe('mapping systeminformation to HostFacts', () => {
  it('names OS families the way requirement profiles match them', () => {
    expect(osFamily('linux', 'Ubuntu', 'ubuntu')).toBe('debian');
    expect(osFamily('linux', 'Rocky Linux', 'rocky')).toBe('rhel');
    expect(osFamily('linux', 'Alpine Linux', 'alpine')).toBe('alpine');
    expect(osFamily('darwin', 'macOS', 'apple')).toBe('darwin');
    expect(osFamily('linux', 'Gentoo', 'gentoo')).toBe('linux');
  });

  it('prefers the kernel model string and keeps only the flags that matter', () => {
    const cpu = mapCpu(
      { manufacturer: 'AMD', brand: 'EPYC', vendor: 'AMD', cores: 8, physicalCores: 4, processors: 1, speed: 2.5, speedMax: 3.1 } as never,
      'fpu avx avx2 avx512f sse4_2 pni',
      [{ model: 'AMD EPYC 7B13 64-Core Processor', speed: 0, times: {} }] as never,
    );
    expect(cpu).toEqual({
      model: 'AMD EPYC 7B13 64-Core Processor',
      vendor: 'AMD',
      sockets: 1,
      cores: 4,
      threads: 8,
      speedGhz: 3.1,
      flags: ['avx', 'avx2', 'avx512f', 'sse4_2'],
    });
  });

  it('converts GPU memory from MiB and prefers the exact nvidia-smi figure', () => {
    const gpus = mapGpus([
      {
        vendor: 'NVIDIA Corporation',
        model: 'H100',
        name: 'NVIDIA H100 80GB HBM3',
        vram: 1024,
        memoryTotal: 81559,
        driverVersion: '550.54',
        bus: 'PCI',
        vramDynamic: false,
      } as never,
      { vendor: 'Intel', model: 'UHD 630', vram: null, vramDynamic: true, bus: '' } as never,
    ]);
    expect(gpus[0]).toEqual({
      vendor: 'NVIDIA Corporation',
      model: 'NVIDIA H100 80GB HBM3',
      memoryBytes: 81559 * 1024 * 1024,
      driverVersion: '550.54',
      bus: 'PCI',
      kind: 'nvidia',
      cudaVersion: null,
    });
    expect(gpus[1]!.memoryBytes).toBeNull();
    // Not from nvidia-smi: the OS's own listing.
    expect(gpus[1]!.kind).toBe('other');
  });

  it('drops pseudo filesystems', () => {
    const list = mapFilesystems([
      { fs: '/dev/sda1', type: 'ext4', size: 100, used: 40, available: 60, mount: '/' },
      { fs: 'tmpfs', type: 'tmpfs', size: 10, used: 0, available: 10, mount: '/run' },
    ] as never);
    expect(list.map((f) => f.mount)).toEqual(['/']);
  });

  it('lists every address Node knows, not only the first per family', () => {
    const list = mapNetwork(
      [{ iface: 'eth0', mac: 'aa', internal: false, speed: 1000 }] as never,
      {
        eth0: [
          { address: '10.0.0.2', family: 'IPv4' },
          { address: '10.0.0.3', family: 'IPv4' },
          { address: 'fe80::1', family: 'IPv6' },
        ],
      } as never,
    );
    expect(list[0]!.addresses.map((a) => a.address)).toEqual(['10.0.0.2', '10.0.0.3', 'fe80::1']);
    expect(list[0]!.speedMbps).toBe(1000);
  });
});

import { describe, expect, it } from 'vitest';
import { ApiError, HostFactsSchema } from '../../../electron/contract';
import { parseProbeOutput, readProbeRecords, unescapeField } from '../../../electron/backend/probe/parse-probe-output';

/** Frames records the way probe.sh does: header, escaped tab-separated records, done, END <count>. */
function frame(records: string[][], { before = [] as string[], after = [] as string[] } = {}): string {
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  const body = ['SUTAZAI-PROBE 1', ...records.map(([type, ...fields]) => [type, ...fields.map(escape)].join('\t')), 'done'];
  return [...before, ...body, `END ${body.length}`, ...after].join('\n') + '\n';
}

/** A Debian 12 KVM guest with two H100s, as probe.sh prints it with every optional tool present. */
const DEBIAN_GPU_HOST: string[][] = [
  ['clock', '1767225600', '250000000', '+0100', 'CET', 'Europe/Berlin'],
  ['host', 'gpu-1'],
  ['machine-id', '0f1e2d3c4b5a69788796a5b4c3d2e1f0'],
  ['os-release', 'PRETTY_NAME', '"Debian GNU/Linux 12 (bookworm)"'],
  ['os-release', 'NAME', '"Debian GNU/Linux"'],
  ['os-release', 'VERSION_ID', '"12"'],
  ['os-release', 'VERSION_CODENAME', 'bookworm'],
  ['os-release', 'ID', 'debian'],
  ['uname', 'Linux', '6.1.0-28-amd64', 'x86_64'],
  ['cpuinfo', 'vendor_id', 'GenuineIntel'],
  ['cpuinfo', 'model name', 'Intel(R) Xeon(R) Platinum 8480+'],
  ['cpuinfo', 'cpu MHz', '2000.000'],
  ['cpuinfo', 'flags', 'fpu sse4_2 avx avx2 avx512f avx512bw amx_tile hypervisor'],
  ['cpu-count', 'threads', '224'],
  ['cpu-count', 'sockets', '2'],
  ['cpu-count', 'cores', '112'],
  ['cpu-topology', 'threads', '224'],
  ['cpu-topology', 'sockets', '2'],
  ['cpu-topology', 'cores', '112'],
  ['cpu-freq', 'max-khz', '3800000'],
  ['meminfo', 'MemTotal', '2113323008'],
  ['meminfo', 'MemAvailable', '2000000000'],
  ['meminfo', 'SwapTotal', '8388604'],
  ['virt-tool', 'none', 'kvm'],
  ['init', 'systemd', '1', '0'],
  ['lsblk', 'NAME="nvme0n1" SIZE="3840755982336" ROTA="0" TYPE="disk" MODEL="SAMSUNG MZQL23T8HCLS-00A07"'],
  ['lsblk', 'NAME="sda" SIZE="16000900661248" ROTA="1" TYPE="disk" MODEL="ST16000NM001G-2K"'],
  ['lsblk', 'NAME="loop0" SIZE="67108864" ROTA="0" TYPE="loop" MODEL=""'],
  ['lsblk', 'NAME="sr0" SIZE="1073741312" ROTA="1" TYPE="rom" MODEL="QEMU DVD-ROM"'],
  ['fs', '/dev/nvme0n1p2', 'ext4', '3690000000', '1000000000', '2500000000', '/'],
  ['fs', 'tmpfs', 'tmpfs', '1000000', '0', '1000000', '/run'],
  ['fs', '/dev/sda1', 'xfs', '15625000000', '1000', '15624999000', '/srv/data dir'],
  ['install', '/opt/sutazai', '/opt', '0'],
  ['install-fs', '/dev/nvme0n1p2', 'ext4', '3690000000', '1000000000', '2500000000', '/'],
  ['nvidia-gpu', '0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 00000000:18:00.0'],
  ['nvidia-gpu', '1, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 00000000:2A:00.0'],
  ['nvidia-header', '| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |'],
  ['pci-gpu', '0000:03:00.0', '0x030000', '0x1a03', '0x2000', 'ast', ''],
  ['pci-gpu', '0000:18:00.0', '0x030200', '0x10de', '0x2330', 'nvidia', ''],
  ['pci-gpu', '0000:2a:00.0', '0x030200', '0x10de', '0x2330', 'nvidia', ''],
  [
    'lspci',
    '0000:03:00.0 "VGA compatible controller [0300]" "ASPEED Technology, Inc. [1a03]" "ASPEED Graphics Family [2000]" -r52 "Supermicro Computer Inc [15d9]" "Device [1c48]"',
  ],
  [
    'lspci',
    '0000:18:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" "GH100 [H100 SXM5 80GB] [2330]" -ra1 "NVIDIA Corporation [10de]" "Device [16c1]"',
  ],
  [
    'lspci',
    '0000:2a:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" "GH100 [H100 SXM5 80GB] [2330]" -ra1 "NVIDIA Corporation [10de]" "Device [16c1]"',
  ],
  ['nic', 'enp1s0', '52:54:00:12:34:56', '1', 'up', '25000'],
  ['nic', 'lo', '00:00:00:00:00:00', '772', 'unknown', ''],
  ['nic', 'docker0', '02:42:ac:11:00:01', '1', 'down', '-1'],
  ['addr', 'lo', 'inet', '127.0.0.1/8'],
  ['addr', 'lo', 'inet6', '::1/128'],
  ['addr', 'enp1s0', 'inet', '10.20.0.15/24'],
  ['addr', 'enp1s0', 'inet', '10.20.0.16/24'],
  ['addr', 'enp1s0', 'inet6', 'fe80::5054:ff:fe12:3456/64'],
  ['listen-raw', '4', '00000000:0016'],
  ['listen-raw', '4', '0100007F:0CEA'],
  ['listen-raw', '6', '00000000000000000000000000000000:0016'],
  ['listen-raw', '6', '00000000000000000000000001000000:1F90'],
  ['priv', 'sudo-password', '1000', 'ops', '1'],
];

function expectInvalid(text: string, pattern: RegExp): ApiError {
  let caught: unknown;
  try {
    parseProbeOutput(text);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ApiError);
  const error = caught as ApiError;
  expect(error.code).toBe('PROBE_OUTPUT_INVALID');
  expect(error.message).toMatch(pattern);
  expect(error.remedy.length).toBeGreaterThan(20);
  return error;
}

describe('parsing the probe output', () => {
  it('reads a GPU server into the shared schema with source ssh', () => {
    const facts = parseProbeOutput(frame(DEBIAN_GPU_HOST), { probedAt: 1767225600100 });
    expect(HostFactsSchema.parse(facts)).toEqual(facts);
    expect(facts.source).toBe('ssh');
    expect(facts.probedAt).toBe(1767225600100);
    expect(facts.os).toEqual({
      platform: 'linux',
      family: 'debian',
      distro: 'Debian GNU/Linux',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1.0-28-amd64',
      arch: 'x64',
      hostname: 'gpu-1',
      id: 'debian',
    });
    expect(facts.machineId).toBe('0f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(facts.cpu).toEqual({
      model: 'Intel(R) Xeon(R) Platinum 8480+',
      vendor: 'Intel',
      sockets: 2,
      cores: 112,
      threads: 224,
      speedGhz: 3.8,
      flags: ['avx', 'avx2', 'avx512f', 'avx512bw', 'amx_tile', 'sse4_2'],
    });
    expect(facts.memory).toEqual({ totalBytes: 2113323008 * 1024, swapTotalBytes: 8388604 * 1024 });
    expect(facts.virtualization).toEqual({ kind: 'vm', name: 'kvm' });
    expect(facts.initSystem).toEqual({ kind: 'systemd', pid1: 'systemd' });
    expect(facts.disks).toEqual([
      { device: '/dev/nvme0n1', model: 'SAMSUNG MZQL23T8HCLS-00A07', type: 'NVMe', sizeBytes: 3840755982336, rotational: false },
      { device: '/dev/sda', model: 'ST16000NM001G-2K', type: 'HD', sizeBytes: 16000900661248, rotational: true },
    ]);
    expect(facts.filesystems!.map((f) => f.mount)).toEqual(['/', '/srv/data dir']);
    expect(facts.filesystems![0]).toEqual({
      device: '/dev/nvme0n1p2',
      type: 'ext4',
      mount: '/',
      sizeBytes: 3690000000 * 1024,
      usedBytes: 1000000000 * 1024,
      availableBytes: 2500000000 * 1024,
    });
    expect(facts.installPath).toEqual({
      path: '/opt/sutazai',
      existingPath: '/opt',
      writable: false,
      filesystemDevice: '/dev/nvme0n1p2',
      filesystemMount: '/',
      sizeBytes: 3690000000 * 1024,
      availableBytes: 2500000000 * 1024,
    });
    expect(facts.clock).toEqual({ epochMs: 1767225600250, timezone: 'Europe/Berlin', utcOffsetMinutes: 60 });
    expect(facts.privilege).toEqual({ level: 'sudo-password', user: 'ops', uid: 1000, sudoPasswordVerified: true });
    expect(facts.listeningPorts).toEqual([
      { address: '0.0.0.0', port: 22 },
      { address: '::', port: 22 },
      { address: '127.0.0.1', port: 3306 },
      { address: '::1', port: 8080 },
    ]);
    expect(facts.network!.map((n) => n.name)).toEqual(['docker0', 'enp1s0', 'lo']);
    const enp = facts.network!.find((n) => n.name === 'enp1s0')!;
    expect(enp).toEqual({
      name: 'enp1s0',
      mac: '52:54:00:12:34:56',
      addresses: [
        { family: 'IPv4', address: '10.20.0.15' },
        { family: 'IPv4', address: '10.20.0.16' },
        { family: 'IPv6', address: 'fe80::5054:ff:fe12:3456' },
      ],
      internal: false,
      speedMbps: 25000,
    });
    expect(facts.network!.find((n) => n.name === 'lo')!.internal).toBe(true);
    expect(facts.network!.find((n) => n.name === 'docker0')!.speedMbps).toBeNull();
    expect(facts.unknown).toEqual([]);
  });

  it('lists two H100s from nvidia-smi with exact memory, driver and CUDA, and the BMC display from lspci once', () => {
    const { gpus } = parseProbeOutput(frame(DEBIAN_GPU_HOST));
    expect(gpus).toEqual([
      {
        vendor: 'NVIDIA Corporation',
        model: 'NVIDIA H100 80GB HBM3',
        memoryBytes: 81559 * 1024 * 1024,
        driverVersion: '550.54.15',
        bus: '0000:18:00.0',
        kind: 'nvidia',
        cudaVersion: '12.4',
      },
      {
        vendor: 'NVIDIA Corporation',
        model: 'NVIDIA H100 80GB HBM3',
        memoryBytes: 81559 * 1024 * 1024,
        driverVersion: '550.54.15',
        bus: '0000:2a:00.0',
        kind: 'nvidia',
        cudaVersion: '12.4',
      },
      {
        vendor: 'ASPEED Technology, Inc.',
        model: 'ASPEED Graphics Family',
        memoryBytes: null,
        driverVersion: null,
        bus: '0000:03:00.0',
        kind: 'pci',
        cudaVersion: null,
      },
    ]);
  });

  it('names AMD, Intel and Matrox controllers from lspci and takes VRAM where amdgpu gives it', () => {
    const records: string[][] = [
      ...DEBIAN_GPU_HOST.filter(([t]) => !['nvidia-gpu', 'nvidia-header', 'pci-gpu', 'lspci'].includes(t!)),
      ['unknown', 'gpus.nvidia', 'nvidia-smi not installed'],
      ['pci-gpu', '0000:00:02.0', '0x030000', '0x8086', '0x56a0', 'i915', ''],
      ['pci-gpu', '0000:0b:00.0', '0x030000', '0x102b', '0x0536', 'mgag200', ''],
      ['pci-gpu', '0000:c3:00.0', '0x038000', '0x1002', '0x74a1', 'amdgpu', '206141652992'],
      [
        'lspci',
        '0000:00:02.0 "VGA compatible controller [0300]" "Intel Corporation [8086]" "DG2 [Arc A770] [56a0]" -r08 "Intel Corporation [8086]" "Device [1020]"',
      ],
      [
        'lspci',
        '0000:0b:00.0 "VGA compatible controller [0300]" "Matrox Electronics Systems Ltd. [102b]" "Integrated Matrox G200eW3 Graphics Controller [0536]" -r04 "Dell [1028]" "Device [0a9f]"',
      ],
      [
        'lspci',
        '0000:c3:00.0 "Display controller [0380]" "Advanced Micro Devices, Inc. [AMD/ATI] [1002]" "Aqua Vanjaram [Instinct MI300X] [74a1]" "Advanced Micro Devices, Inc. [AMD/ATI] [1002]" "Device [74a1]"',
      ],
    ];
    const facts = parseProbeOutput(frame(records));
    expect(facts.gpus!.map((g) => [g.vendor, g.model, g.memoryBytes, g.kind, g.bus])).toEqual([
      ['Intel Corporation', 'DG2 [Arc A770]', null, 'pci', '0000:00:02.0'],
      ['Matrox Electronics Systems Ltd.', 'Integrated Matrox G200eW3 Graphics Controller', null, 'pci', '0000:0b:00.0'],
      ['Advanced Micro Devices, Inc. [AMD/ATI]', 'Aqua Vanjaram [Instinct MI300X]', 206141652992, 'pci', '0000:c3:00.0'],
    ]);
    // No NVIDIA device on the bus: a missing nvidia-smi hides nothing.
    expect(facts.unknown.map((u) => u.field)).not.toContain('gpus.nvidia');
  });

  it('keeps the nvidia-smi reason when an NVIDIA board sits on the bus without it', () => {
    const records: string[][] = [
      ...DEBIAN_GPU_HOST.filter(([t]) => !['nvidia-gpu', 'nvidia-header', 'lspci'].includes(t!)),
      ['unknown', 'gpus.nvidia', 'nvidia-smi not installed'],
      ['unknown', 'gpus.model', 'lspci not installed; GPUs named by PCI id only'],
    ];
    const facts = parseProbeOutput(frame(records));
    expect(facts.gpus!.map((g) => [g.vendor, g.model, g.kind])).toEqual([
      ['ASPEED Technology, Inc.', 'PCI device 1a03:2000', 'pci'],
      ['NVIDIA Corporation', 'PCI device 10de:2330', 'pci'],
      ['NVIDIA Corporation', 'PCI device 10de:2330', 'pci'],
    ]);
    expect(facts.unknown).toEqual([
      { field: 'gpus.nvidia', reason: 'nvidia-smi not installed' },
      { field: 'gpus.model', reason: 'lspci not installed; GPUs named by PCI id only' },
    ]);
  });

  it('reads an Alpine host under BusyBox: no lsblk, ip, systemd-detect-virt or machine-id, OpenRC, date without %N', () => {
    const alpine: string[][] = [
      ['clock', '1767225600', '', '+0000', 'UTC', ''],
      ['host', 'edge-3'],
      ['unknown', 'machineId', 'no /etc/machine-id or /var/lib/dbus/machine-id (systemd or D-Bus writes one)'],
      ['os-release', 'NAME', '"Alpine Linux"'],
      ['os-release', 'ID', 'alpine'],
      ['os-release', 'VERSION_ID', '3.20.3'],
      ['os-release', 'PRETTY_NAME', '"Alpine Linux v3.20"'],
      ['uname', 'Linux', '6.6.58-0-lts', 'aarch64'],
      ['cpuinfo', 'Features', 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp'],
      ['cpuinfo', 'CPU implementer', '0x41'],
      ['cpuinfo', 'CPU architecture', '8'],
      ['cpuinfo', 'CPU part', '0xd0c'],
      ['cpu-count', 'threads', '80'],
      ['cpu-count', 'sockets', '0'],
      ['cpu-count', 'cores', '0'],
      ['cpu-topology', 'threads', '80'],
      ['cpu-topology', 'sockets', '1'],
      ['cpu-topology', 'cores', '80'],
      ['meminfo', 'MemTotal', '263705372'],
      ['meminfo', 'SwapTotal', '0'],
      ['virt-hint', 'sys-vendor', 'Ampere(R)'],
      ['virt-hint', 'product-name', 'Mt.Jade'],
      ['virt-hint', 'osrelease', '6.6.58-0-lts'],
      ['unknown', 'virtualization.tool', 'systemd-detect-virt not installed; judged from /proc, /sys and the CPU flags'],
      ['init', 'init', '0', '1'],
      ['sys-block', 'nvme0n1', '7501476528', '0', 'SAMSUNG MZ1L23T8HBLA-00A07'],
      ['sys-block', 'loop0', '0', '0', ''],
      ['sys-block', 'sda', '31260672', '1', 'Cruzer Blade    '],
      ['unknown', 'disks.model', 'lsblk not installed; disks read from /sys/block'],
      ['fs', '/dev/nvme0n1p3', 'ext4', '3600000000', '100000', '3599900000', '/'],
      ['install', '/opt/sutazai', '/', '1'],
      ['install-fs', '/dev/nvme0n1p3', 'ext4', '3600000000', '100000', '3599900000', '/'],
      ['unknown', 'gpus.nvidia', 'nvidia-smi not installed'],
      ['pci-gpu', '000c:01:00.0', '0x030000', '0x1a03', '0x2000', 'ast', ''],
      ['unknown', 'gpus.model', 'lspci does not take -mm -nn -D (BusyBox lspci?); GPUs named by PCI id only'],
      ['nic', 'eth0', 'e8:eb:d3:01:02:03', '1', 'up', '10000'],
      ['nic', 'lo', '00:00:00:00:00:00', '772', 'unknown', ''],
      ['inet6-raw', '00000000000000000000000000000001', '80', 'lo'],
      ['inet6-raw', 'fe80000000000000eaebd3fffe010203', '40', 'eth0'],
      ['inet4-local', '127.0.0.1'],
      ['inet4-local', '192.168.7.23'],
      ['route4', 'eth0', '00000000', '00000000'],
      ['route4', 'eth0', '0007A8C0', '00FFFFFF'],
      ['unknown', 'network.addresses', 'ip not installed; addresses read from /proc/net'],
      ['listen-raw', '4', '00000000:0016'],
      ['priv', 'none', '1000', 'alpine', ''],
      ['unknown', 'privilege.sudo', 'sudo not installed'],
    ];
    const facts = parseProbeOutput(frame(alpine));
    expect(facts.os).toMatchObject({
      family: 'alpine',
      id: 'alpine',
      distro: 'Alpine Linux',
      release: '3.20.3',
      arch: 'arm64',
      hostname: 'edge-3',
    });
    expect(facts.machineId).toBeNull();
    expect(facts.cpu).toEqual({
      model: 'ARM Neoverse-N1',
      vendor: 'ARM',
      sockets: 1,
      cores: 80,
      threads: 80,
      speedGhz: null,
      flags: ['aes', 'asimd'],
    });
    expect(facts.virtualization).toEqual({ kind: 'none', name: '' });
    expect(facts.initSystem).toEqual({ kind: 'openrc', pid1: 'init' });
    expect(facts.clock).toEqual({ epochMs: 1767225600000, timezone: 'UTC', utcOffsetMinutes: 0 });
    expect(facts.disks).toEqual([
      { device: '/dev/nvme0n1', model: 'SAMSUNG MZ1L23T8HBLA-00A07', type: 'NVMe', sizeBytes: 7501476528 * 512, rotational: false },
      { device: '/dev/sda', model: 'Cruzer Blade', type: 'HD', sizeBytes: 31260672 * 512, rotational: true },
    ]);
    expect(facts.gpus).toEqual([
      {
        vendor: 'ASPEED Technology, Inc.',
        model: 'PCI device 1a03:2000',
        memoryBytes: null,
        driverVersion: null,
        bus: '000c:01:00.0',
        kind: 'pci',
        cudaVersion: null,
      },
    ]);
    expect(facts.network).toEqual([
      {
        name: 'eth0',
        mac: 'e8:eb:d3:01:02:03',
        addresses: [
          { family: 'IPv4', address: '192.168.7.23' },
          { family: 'IPv6', address: 'fe80::eaeb:d3ff:fe01:203' },
        ],
        internal: false,
        speedMbps: 10000,
      },
      {
        name: 'lo',
        mac: '00:00:00:00:00:00',
        addresses: [
          { family: 'IPv4', address: '127.0.0.1' },
          { family: 'IPv6', address: '::1' },
        ],
        internal: true,
        speedMbps: null,
      },
    ]);
    expect(facts.privilege).toEqual({ level: 'none', user: 'alpine', uid: 1000, sudoPasswordVerified: null });
    expect(facts.unknown.map((u) => u.field)).toEqual([
      'machineId',
      'virtualization.tool',
      'disks.model',
      'gpus.model',
      'network.addresses',
      'privilege.sudo',
    ]);
    expect(facts.unknown.find((u) => u.field === 'disks.model')!.reason).toBe('lsblk not installed; disks read from /sys/block');
  });

  it('judges containers and VMs from the hints when systemd-detect-virt is missing', () => {
    const base = DEBIAN_GPU_HOST.filter(([t]) => t !== 'virt-tool');
    const virt = (hints: string[][]) => parseProbeOutput(frame([...base, ...hints])).virtualization;
    expect(virt([['virt-hint', 'dockerenv', '1']])).toEqual({ kind: 'container', name: 'docker' });
    expect(
      virt([
        ['virt-hint', 'container-env', 'lxc'],
        ['virt-hint', 'sys-vendor', 'QEMU'],
      ]),
    ).toEqual({ kind: 'container', name: 'lxc' });
    expect(
      virt([
        ['virt-hint', 'sys-vendor', 'QEMU'],
        ['virt-hint', 'product-name', 'Standard PC (Q35 + ICH9, 2009)'],
      ]),
    ).toEqual({ kind: 'vm', name: 'qemu' });
    expect(
      virt([
        ['virt-hint', 'sys-vendor', 'Microsoft Corporation'],
        ['virt-hint', 'product-name', 'Virtual Machine'],
      ]),
    ).toEqual({ kind: 'vm', name: 'microsoft' });
    expect(virt([['virt-hint', 'osrelease', '5.15.167.4-microsoft-standard-WSL2']])).toEqual({ kind: 'container', name: 'wsl' });
    // The CPU flags above carry `hypervisor`, which every x86 hypervisor sets.
    expect(virt([])).toEqual({ kind: 'vm', name: 'vm-other' });
  });

  it('round-trips values holding tabs, newlines, carriage returns and backslashes, and shows them escaped in the facts', () => {
    const hostname = 'odd\thost\nname\\with\r\\t';
    const text = frame([...DEBIAN_GPU_HOST.filter(([t]) => t !== 'host'), ['host', hostname]]);
    expect(readProbeRecords(text).find((r) => r.type === 'host')!.fields).toEqual([hostname]);
    // A fact never breaks a line or a table where it is shown.
    expect(parseProbeOutput(text).os.hostname).toBe('odd\\x09host\\x0aname\\with\\x0d\\t');
    expect(unescapeField('a\\tb\\nc\\\\d\\re')).toBe('a\tb\nc\\d\re');
    expect(unescapeField('trailing\\')).toBeNull();
    expect(unescapeField('\\x41')).toBeNull();
  });

  it('rejects output cut at any point with a clear error', () => {
    const text = frame(DEBIAN_GPU_HOST);
    const cuts = [
      0,
      1,
      10,
      16,
      17,
      200,
      Math.floor(text.length / 2),
      text.length - 12,
      text.length - 8,
      text.length - 3,
      text.length - 2,
      text.length - 1,
    ];
    for (let at = 0; at < text.length; at += 97) cuts.push(at);
    for (const at of cuts) {
      let caught: unknown;
      try {
        parseProbeOutput(text.slice(0, at));
      } catch (error) {
        caught = error;
      }
      expect(caught, `cut at ${at}`).toBeInstanceOf(ApiError);
      expect((caught as ApiError).code, `cut at ${at}`).toBe('PROBE_OUTPUT_INVALID');
    }
    expect(() => parseProbeOutput(text)).not.toThrow();
  });

  it('says where truncated output stops and what to do', () => {
    const text = frame(DEBIAN_GPU_HOST);
    const lines = text.split('\n');
    const error = expectInvalid(lines.slice(0, 20).join('\n') + '\n', /at line 20: the output ends without the END line/);
    expect(error.remedy).toMatch(/connection dropped/);
    expectInvalid(lines.slice(0, 20).join('\n') + '\ncpu-cou', /at line 21: the output ends in the middle of a line/);
    // An END from a run that stopped before `done` (the script died mid-way).
    const early = ['SUTAZAI-PROBE 1', 'host\tx', 'END 2'].join('\n') + '\n';
    expectInvalid(early, /at line 2: the probe stopped before it finished/);
  });

  it('notices a line lost or added in the middle by the count', () => {
    const lines = frame(DEBIAN_GPU_HOST).split('\n');
    const lost = [...lines.slice(0, 10), ...lines.slice(11)].join('\n');
    expectInvalid(lost, /END counts \d+ lines but \d+ arrived/);
    const added = [...lines.slice(0, 10), 'host\tintruder', ...lines.slice(10)].join('\n');
    expectInvalid(added, /END counts \d+ lines but \d+ arrived/);
  });

  it('names the line of a garbled record', () => {
    const lines = frame(DEBIAN_GPU_HOST).split('\n');
    const replace = (n: number, line: string) => lines.map((l, i) => (i === n - 1 ? line : l)).join('\n');
    expectInvalid(replace(5, 'os-release\tNAME'), /at line 5: a "os-release" record has 1 field\(s\), expected 2/);
    expectInvalid(replace(6, 'os-rel\u00e9ase\tX\tY'), /at line 6: unknown record "os-rel\u00e9ase"/);
    expectInvalid(replace(3, 'host\tbad\\qescape'), /at line 3: field 1 of a "host" record has a broken escape/);
    expectInvalid(replace(22, 'meminfo\tMemTotal\t12x4'), /at line 22: field 2 of a "meminfo" record should be a whole number, not "12x4"/);
    expectInvalid(replace(3, 'host\tcarriage\r'), /at line 3: a raw carriage return/);
    const priv = lines.findIndex((l) => l.startsWith('priv\t')) + 1;
    expectInvalid(replace(priv, 'priv\tadmin\t0\troot\t'), new RegExp(`at line ${priv}: unknown privilege level "admin"`));
    const listen = lines.findIndex((l) => l.startsWith('listen-raw\t')) + 1;
    expectInvalid(replace(listen, 'listen-raw\t4\tnothex'), new RegExp(`at line ${listen}: a "listen-raw" record`));
  });

  it('refuses a wrong or missing header, and skips a login banner before a right one', () => {
    const text = frame(DEBIAN_GPU_HOST);
    expectInvalid(text.replace('SUTAZAI-PROBE 1', 'SUTAZAI-PROBE 2'), /probe format 2, and this app reads format 1/);
    expectInvalid(text.replace('SUTAZAI-PROBE 1', 'SUTAZAI-PROBE one'), /at line 1: the header is "SUTAZAI-PROBE one"/);
    const error = expectInvalid(
      'This account is currently not available.\n',
      /no SUTAZAI-PROBE header; it begins with "This account is currently not available."/,
    );
    expect(error.remedy).toMatch(/login scripts/);
    expectInvalid('', /the probe printed nothing/);
    const banner = frame(DEBIAN_GPU_HOST, { before: ['Welcome to gpu-1!', 'Last login: yesterday'], after: ['logout'] });
    expect(parseProbeOutput(banner).os.hostname).toBe('gpu-1');
  });

  it('turns a missing core tool into PROBE_FAILED with the reason', () => {
    const text = 'SUTAZAI-PROBE 1\nfatal\tawk not found in PATH (/usr/bin:/bin)\nEND 2\n';
    let caught: unknown;
    try {
      parseProbeOutput(text, { host: 'tiny-1' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('PROBE_FAILED');
    expect((caught as ApiError).message).toBe('The probe could not run from tiny-1: awk not found in PATH (/usr/bin:/bin).');
  });

  it('notes a tool line it cannot read instead of failing the probe', () => {
    const facts = parseProbeOutput(
      frame([...DEBIAN_GPU_HOST, ['nvidia-gpu', 'Failed to initialize NVML: Driver/library version mismatch']]),
    );
    expect(facts.gpus!.filter((g) => g.kind === 'nvidia')).toHaveLength(2);
    expect(facts.unknown).toEqual([
      {
        field: 'gpus.nvidia',
        reason: 'nvidia-smi printed a line the probe does not understand: "Failed to initialize NVML: Driver/library version mismatch"',
      },
    ]);
  });

  it('keeps records in order with their line numbers', () => {
    const records = readProbeRecords(
      frame(
        [
          ['host', 'a'],
          ['uname', 'Linux', '6.1', 'x86_64'],
        ],
        { before: ['banner'] },
      ),
    );
    expect(records).toEqual([
      { type: 'host', fields: ['a'], line: 3 },
      { type: 'uname', fields: ['Linux', '6.1', 'x86_64'], line: 4 },
    ]);
  });

  it('marks sections null with a reason when the script could not read them', () => {
    const facts = parseProbeOutput(
      frame([
        ['uname', 'Linux', '6.1', 'x86_64'],
        ['unknown', 'cpu', 'no /proc/cpuinfo'],
        ['unknown', 'memory', 'no /proc/meminfo'],
        ['unknown', 'disks', 'lsblk gave nothing and there is no /sys/block'],
        ['unknown', 'filesystems', 'df printed nothing usable (exit status 127)'],
        ['unknown', 'installPath', 'df printed nothing usable (exit status 127)'],
        ['unknown', 'gpus.pci', 'no /sys/bus/pci on this host'],
        ['unknown', 'listeningPorts', 'no /proc/net/tcp and ss gave nothing'],
        ['priv', 'unknown', '1000', 'ops', ''],
        ['unknown', 'privilege', 'sudo insists on a terminal (Defaults requiretty)'],
      ]),
    );
    expect(facts).toMatchObject({
      cpu: null,
      memory: null,
      disks: null,
      filesystems: null,
      installPath: null,
      gpus: null,
      listeningPorts: null,
      network: null,
      clock: null,
    });
    expect(facts.privilege!.level).toBe('unknown');
    expect(facts.unknown.map((u) => u.field)).toEqual(
      expect.arrayContaining(['cpu', 'memory', 'disks', 'filesystems', 'installPath', 'gpus', 'listeningPorts', 'privilege', 'network']),
    );
    expect(HostFactsSchema.safeParse(facts).success).toBe(true);
  });
});

describe('text a hostile host puts in its facts', () => {
  // OSC 52 (clipboard write), a title, a colour, CSI as one C1 character, bidi override and isolate.
  const EVIL = '\x1b]52;c;cm0gLXJmIH4K\x07\x1b]0;t\x1b\\\x1b[31m\u009b2J\u202e\u2066';
  // eslint-disable-next-line no-control-regex -- looking for control characters is the test
  const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
  /** How lsblk -P writes the same bytes: every control byte and every non-ASCII byte as \xNN. */
  const LSBLK_EVIL = [...Buffer.from(EVIL, 'utf8')]
    .map((b) => (b < 0x20 || b >= 0x7f || b === 0x5c || b === 0x22 ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b)))
    .join('');

  /** One record per text path of the parser, each carrying the payload. */
  const paths: Array<[string, string[][], (facts: ReturnType<typeof parseProbeOutput>) => string | undefined]> = [
    ['hostname', [['host', `h${EVIL}`]], (f) => f.os.hostname],
    ['os-release', [['os-release', 'NAME', `"Deb${EVIL}"`]], (f) => f.os.distro],
    ['uname', [['uname', 'Linux', `6.1${EVIL}`, 'x86_64']], (f) => f.os.kernel],
    [
      'cpuinfo',
      [
        ['cpuinfo', 'model name', `Xeon${EVIL}`],
        ['cpu-count', 'threads', '2'],
      ],
      (f) => f.cpu?.model,
    ],
    ['lsblk', [['lsblk', `NAME="sda" SIZE="1000" ROTA="0" TYPE="disk" MODEL="m${LSBLK_EVIL}"`]], (f) => f.disks?.[0]?.model],
    ['sys-block', [['sys-block', 'vda', '8', '1', `m${EVIL}`]], (f) => f.disks?.[0]?.model],
    ['fs', [['fs', `/dev/x${EVIL}`, 'ext4', '10', '1', '9', `/m${EVIL}`]], (f) => f.filesystems?.[0]?.mount],
    [
      'install',
      [
        ['install', `/opt/s${EVIL}`, '/opt', '1'],
        ['install-fs', '/dev/x', 'ext4', '10', '1', '9', '/'],
      ],
      (f) => f.installPath?.path,
    ],
    ['nvidia-smi', [['nvidia-gpu', `0, H100${EVIL}, 81559, 550.54.15, 00000000:18:00.0`]], (f) => f.gpus?.[0]?.model],
    [
      'lspci',
      [
        ['pci-gpu', '0000:03:00.0', '0x030000', '0x1a03', '0x2000', 'ast', ''],
        ['lspci', `0000:03:00.0 "VGA compatible controller [0300]" "ASPEED [1a03]" "Gfx${EVIL} [2000]"`],
      ],
      (f) => f.gpus?.[0]?.model,
    ],
    ['nic', [['nic', `e${EVIL}`, '52:54:00:12:34:56', '1', 'up', '']], (f) => f.network?.[0]?.name],
    ['clock', [['clock', '1767225600', '', '+0100', 'CET', `Europe/B${EVIL}`]], (f) => f.clock?.timezone ?? undefined],
    ['init', [['init', `sd${EVIL}`, '0', '0']], (f) => f.initSystem?.pid1],
    ['priv', [['priv', 'none', '1000', `ops${EVIL}`, '']], (f) => f.privilege?.user],
    ['unknown', [['unknown', 'gpus', `nvidia-smi said: ${EVIL}`]], (f) => f.unknown.find((u) => u.field === 'gpus')?.reason],
    [
      'a line the parser does not understand',
      [['lsblk', `garbage${LSBLK_EVIL}`]],
      (f) => f.unknown.find((u) => u.field === 'disks.lsblk')?.reason,
    ],
  ];

  it.each(paths)('escapes control and bidi characters that arrive through %s', (_path, records, read) => {
    const facts = parseProbeOutput(frame(records));
    expect(JSON.stringify(facts)).not.toMatch(HIDDEN);
    expect(read(facts)).toContain('\\x1b]52;c;cm0gLXJmIH4K\\x07');
  });

  it("decodes lsblk's \\xNN escapes as UTF-8, so a model in another script reads right", () => {
    const model = [...Buffer.from('東芝 SSD', 'utf8')].map((b) => (b >= 0x80 ? `\\x${b.toString(16)}` : String.fromCharCode(b))).join('');
    const facts = parseProbeOutput(frame([['lsblk', `NAME="sda" SIZE="1000" ROTA="0" TYPE="disk" MODEL="${model}"`]]));
    expect(facts.disks![0]!.model).toBe('東芝 SSD');
  });

  it('escapes them in its error messages too', () => {
    const error = expectInvalid(`SUTAZAI-PROBE 1\nhost\tx\n${EVIL}`, /without the END line/);
    expect(error.message).not.toMatch(HIDDEN);
    expect(error.message).toContain('\\x1b]52;c;');
  });
});

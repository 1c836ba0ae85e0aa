import type os from 'node:os';
import type { Systeminformation } from 'systeminformation';
import type { CpuFacts, DiskFacts, FilesystemFacts, GpuFacts, MemoryFacts, NetworkInterfaceFacts, OsFacts } from '../../contract';

/** Flags that decide whether a model build can run; the rest are noise in the UI. */
export const NOTABLE_CPU_FLAGS = [
  'avx',
  'avx2',
  'avx512f',
  'avx512bw',
  'avx512_bf16',
  'avx512_vnni',
  'amx_tile',
  'fma',
  'sse4_2',
  'aes',
  'sha_ni',
  'neon',
  'asimd',
  'sve',
];

export function mapOs(
  info: Systeminformation.OsData | null,
  fallback: { platform: string; release: string; arch: string; hostname: string },
): OsFacts {
  const platform = info?.platform || fallback.platform;
  return {
    platform,
    family: osFamily(platform, info?.distro ?? '', info?.logofile ?? ''),
    distro: info?.distro || platform,
    release: info?.release || '',
    codename: info?.codename || '',
    kernel: info?.kernel || fallback.release,
    arch: info?.arch || fallback.arch,
    hostname: info?.hostname || fallback.hostname,
  };
}

/** Families are what requirement profiles match on: debian, rhel, alpine, suse, arch, darwin, windows. */
export function osFamily(platform: string, distro: string, logo: string): string {
  if (platform === 'darwin') return 'darwin';
  if (platform === 'win32' || platform === 'Windows') return 'windows';
  const name = `${distro} ${logo}`.toLowerCase();
  if (/debian|ubuntu|mint|raspbian|pop/.test(name)) return 'debian';
  if (/red hat|rhel|centos|rocky|alma|fedora|oracle|amazon/.test(name)) return 'rhel';
  if (/alpine/.test(name)) return 'alpine';
  if (/suse|sles/.test(name)) return 'suse';
  if (/arch|manjaro/.test(name)) return 'arch';
  return platform;
}

export function mapCpu(cpu: Systeminformation.CpuData, flags: string, nodeCpus: os.CpuInfo[]): CpuFacts {
  const flagSet = new Set(flags.split(/\s+/).filter(Boolean));
  // systeminformation splits "AMD EPYC 7B13" into manufacturer and brand; Node's model
  // string is the one the kernel reports, which operators recognise.
  const model = nodeCpus[0]?.model?.trim() || [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ');
  const threads = cpu.cores || nodeCpus.length;
  return {
    model,
    vendor: cpu.vendor || cpu.manufacturer,
    sockets: cpu.processors || 1,
    cores: cpu.physicalCores || threads,
    threads,
    speedGhz: cpu.speedMax || cpu.speed || null,
    flags: NOTABLE_CPU_FLAGS.filter((flag) => flagSet.has(flag)),
  };
}

export function mapMemory(mem: Systeminformation.MemData): MemoryFacts {
  return { totalBytes: mem.total, swapTotalBytes: mem.swaptotal };
}

export function mapDisks(disks: Systeminformation.DiskLayoutData[]): DiskFacts[] {
  return disks.map((disk) => ({
    device: disk.device,
    model: disk.name || disk.vendor || '',
    type: disk.type || disk.interfaceType || '',
    sizeBytes: disk.size,
    rotational: disk.type === 'HD' ? true : disk.type === 'SSD' || disk.type === 'NVMe' ? false : null,
  }));
}

/** Pseudo filesystems say nothing about where software can be installed. */
export const PSEUDO_FS = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'devfs', 'autofs']);

export function mapFilesystems(list: Systeminformation.FsSizeData[]): FilesystemFacts[] {
  return list
    .filter((fs) => !PSEUDO_FS.has(fs.type) && fs.size > 0)
    .map((fs) => ({
      device: fs.fs,
      type: fs.type,
      mount: fs.mount,
      sizeBytes: fs.size,
      usedBytes: fs.used,
      availableBytes: fs.available,
    }));
}

const MIB = 1024 * 1024;

export function mapGpus(controllers: Systeminformation.GraphicsControllerData[]): GpuFacts[] {
  return controllers.map((gpu) => {
    // nvidia-smi's memoryTotal is exact; vram is what lspci or the OS reports.
    const mib = gpu.memoryTotal ?? gpu.vram ?? null;
    return {
      vendor: gpu.vendor || '',
      model: gpu.name || gpu.model || '',
      memoryBytes: typeof mib === 'number' && mib > 0 ? mib * MIB : null,
      driverVersion: gpu.driverVersion || null,
      bus: gpu.bus || gpu.pciBus || null,
      // systeminformation fills memoryTotal only from nvidia-smi.
      kind: typeof gpu.memoryTotal === 'number' && /nvidia/i.test(gpu.vendor ?? '') ? ('nvidia' as const) : ('other' as const),
      cudaVersion: null,
    };
  });
}

/**
 * systeminformation reports one address per family; Node lists them all. Names and
 * speeds come from the first, addresses from the second.
 */
export function mapNetwork(
  interfaces: Systeminformation.NetworkInterfacesData[],
  nodeInterfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>,
): NetworkInterfaceFacts[] {
  const names = new Set([...interfaces.map((i) => i.iface), ...Object.keys(nodeInterfaces)]);
  return [...names].sort().map((name) => {
    const info = interfaces.find((i) => i.iface === name);
    const addresses = (nodeInterfaces[name] ?? []).map((a) => ({
      family: a.family === 'IPv6' ? ('IPv6' as const) : ('IPv4' as const),
      address: a.address,
    }));
    return {
      name,
      mac: info?.mac || nodeInterfaces[name]?.[0]?.mac || '',
      addresses,
      internal: info?.internal ?? nodeInterfaces[name]?.[0]?.internal ?? false,
      speedMbps: typeof info?.speed === 'number' && info.speed > 0 ? info.speed : null,
    };
  });
}

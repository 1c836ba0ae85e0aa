import type { CpuFacts } from '../../contract';
import { NOTABLE_CPU_FLAGS } from './map-systeminformation';

/** What the probe script reads about the CPU: the first block of /proc/cpuinfo and counts. */
export interface CpuinfoSummary {
  /** Key → value from the first processor block of /proc/cpuinfo. */
  fields: ReadonlyMap<string, string>;
  /** Counted over every block of /proc/cpuinfo: processor entries, distinct physical ids, distinct (physical id, core id). */
  counts: { threads: number; sockets: number; cores: number } | null;
  /** The same counted from /sys/devices/system/cpu/cpuN/topology (the only source on ARM). */
  topology: { threads: number; sockets: number; cores: number } | null;
  maxKhz: number | null;
  /** uname -m, the last resort for a model name. */
  machine: string;
}

/** ARM implementer codes (CPU implementer) and the parts lscpu knows best on servers and boards. */
const ARM_IMPLEMENTERS: Readonly<Record<string, string>> = {
  '0x41': 'ARM',
  '0x42': 'Broadcom',
  '0x43': 'Cavium',
  '0x48': 'HiSilicon',
  '0x4e': 'NVIDIA',
  '0x50': 'APM',
  '0x51': 'Qualcomm',
  '0x61': 'Apple',
  '0xc0': 'Ampere',
};
const ARM_PARTS: Readonly<Record<string, string>> = {
  '0x41/0xd03': 'Cortex-A53',
  '0x41/0xd04': 'Cortex-A35',
  '0x41/0xd05': 'Cortex-A55',
  '0x41/0xd07': 'Cortex-A57',
  '0x41/0xd08': 'Cortex-A72',
  '0x41/0xd09': 'Cortex-A73',
  '0x41/0xd0a': 'Cortex-A75',
  '0x41/0xd0b': 'Cortex-A76',
  '0x41/0xd0c': 'Neoverse-N1',
  '0x41/0xd0d': 'Cortex-A77',
  '0x41/0xd40': 'Neoverse-V1',
  '0x41/0xd41': 'Cortex-A78',
  '0x41/0xd49': 'Neoverse-N2',
  '0x41/0xd4f': 'Neoverse-V2',
  '0xc0/0xac3': 'AmpereOne',
  '0x48/0xd01': 'Kunpeng-920',
};

/** null when nothing at all was read about the CPU. */
export function cpuFactsFromCpuinfo(summary: CpuinfoSummary): CpuFacts | null {
  const { fields, counts, topology } = summary;
  const threads = positive(counts?.threads) ?? positive(topology?.threads);
  if (threads === null && fields.size === 0) return null;
  const implementer = fields.get('CPU implementer')?.toLowerCase();
  const part = fields.get('CPU part')?.toLowerCase();
  const armVendor = implementer ? (ARM_IMPLEMENTERS[implementer] ?? implementer) : null;
  const armModel = implementer && part ? ARM_PARTS[`${implementer}/${part}`] : undefined;
  const model =
    fields.get('model name') ||
    (armModel ? `${armVendor === 'ARM' ? 'ARM' : armVendor} ${armModel}` : '') ||
    fields.get('Hardware') ||
    fields.get('cpu model') ||
    fields.get('cpu') ||
    fields.get('uarch') ||
    summary.machine;
  const flags = new Set((fields.get('flags') ?? fields.get('Features') ?? '').split(/\s+/).filter(Boolean));
  const mhz = Number(fields.get('cpu MHz'));
  const ghz = positive(summary.maxKhz) !== null ? summary.maxKhz! / 1e6 : Number.isFinite(mhz) && mhz > 0 ? mhz / 1000 : null;
  const resolvedThreads = threads ?? 0;
  return {
    model,
    vendor: x86Vendor(fields.get('vendor_id')) || fields.get('vendor') || armVendor || '',
    sockets: positive(counts?.sockets) ?? positive(topology?.sockets) ?? 1,
    cores: positive(counts?.cores) ?? positive(topology?.cores) ?? resolvedThreads,
    threads: resolvedThreads,
    speedGhz: ghz === null ? null : Math.round(ghz * 100) / 100,
    flags: NOTABLE_CPU_FLAGS.filter((flag) => flags.has(flag)),
  };
}

function positive(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** CPUID vendor strings in the words systeminformation uses for the local machine. */
const X86_VENDORS: Readonly<Record<string, string>> = {
  GenuineIntel: 'Intel',
  AuthenticAMD: 'AMD',
  HygonGenuine: 'Hygon',
  CentaurHauls: 'Centaur',
};

function x86Vendor(id: string | undefined): string {
  return id ? (X86_VENDORS[id] ?? id) : '';
}

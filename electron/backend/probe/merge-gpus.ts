import type { GpuFacts } from '../../contract';
import { isDisplayClass, PCI_VENDOR_NAMES, type LspciDevice } from './parse-lspci';
import { normalizePciAddress, type NvidiaSmiGpu } from './parse-nvidia-smi';

/** A display controller as /sys/bus/pci/devices lists it. */
export interface SysPciGpu {
  slot: string;
  classCode: string; // 0x030000
  vendorId: string; // 0x10de
  deviceId: string;
  driver: string;
  /** amdgpu's mem_info_vram_total, the one driver that tells VRAM through sysfs. */
  vramBytes: number | null;
}

const MIB = 1024 * 1024;

/**
 * One list: every GPU nvidia-smi knows (exact memory, driver and CUDA version), then
 * every other display controller on the PCI bus, named by lspci where it ran. A GPU
 * nvidia-smi lists is not listed again from the bus.
 */
export function mergeGpus(input: {
  nvidia: NvidiaSmiGpu[];
  nvidiaHeader: { driverVersion: string | null; cudaVersion: string | null } | null;
  sysPci: SysPciGpu[];
  lspci: LspciDevice[];
}): GpuFacts[] {
  const lspciBySlot = new Map(input.lspci.map((d) => [normalizePciAddress(d.slot), d]));
  const result: GpuFacts[] = [];
  const nvidiaSlots = new Set<string>();
  for (const gpu of [...input.nvidia].sort((a, b) => a.index - b.index)) {
    if (gpu.bus) nvidiaSlots.add(gpu.bus);
    result.push({
      vendor: (gpu.bus && lspciBySlot.get(gpu.bus)?.vendorName) || PCI_VENDOR_NAMES['10de']!,
      model: gpu.name,
      memoryBytes: gpu.memoryMiB === null ? null : gpu.memoryMiB * MIB,
      driverVersion: gpu.driverVersion ?? input.nvidiaHeader?.driverVersion ?? null,
      bus: gpu.bus,
      kind: 'nvidia',
      cudaVersion: input.nvidiaHeader?.cudaVersion ?? null,
    });
  }

  const others = new Map<string, GpuFacts>();
  for (const dev of input.sysPci) {
    const slot = normalizePciAddress(dev.slot);
    if (nvidiaSlots.has(slot)) continue;
    const vendorId = dev.vendorId.replace(/^0x/i, '').toLowerCase();
    const deviceId = dev.deviceId.replace(/^0x/i, '').toLowerCase();
    const named = lspciBySlot.get(slot);
    others.set(slot, {
      vendor: named?.vendorName || PCI_VENDOR_NAMES[vendorId] || `PCI vendor ${vendorId}`,
      model: named?.deviceName && named.deviceName !== 'Device' ? named.deviceName : `PCI device ${vendorId}:${deviceId}`,
      memoryBytes: dev.vramBytes,
      driverVersion: null,
      bus: slot,
      kind: 'pci',
      cudaVersion: null,
    });
  }
  // Where /sys/bus/pci was not there to read, lspci alone still names the controllers.
  for (const dev of input.lspci) {
    const slot = normalizePciAddress(dev.slot);
    if (!isDisplayClass(dev.classCode) || nvidiaSlots.has(slot) || others.has(slot)) continue;
    others.set(slot, {
      vendor: dev.vendorName || PCI_VENDOR_NAMES[dev.vendorId] || `PCI vendor ${dev.vendorId}`,
      model: dev.deviceName && dev.deviceName !== 'Device' ? dev.deviceName : `PCI device ${dev.vendorId}:${dev.deviceId}`,
      memoryBytes: null,
      driverVersion: null,
      bus: slot,
      kind: 'pci',
      cudaVersion: null,
    });
  }
  return [...result, ...[...others.values()].sort((a, b) => ((a.bus ?? '') < (b.bus ?? '') ? -1 : 1))];
}

/** True when an NVIDIA device sits on the bus (so a missing nvidia-smi hides something). */
export function hasNvidiaOnBus(sysPci: SysPciGpu[], lspci: LspciDevice[]): boolean {
  return sysPci.some((d) => /^(0x)?10de$/i.test(d.vendorId)) || lspci.some((d) => d.vendorId === '10de' && isDisplayClass(d.classCode));
}

/** One GPU from `nvidia-smi --query-gpu=index,name,memory.total,driver_version,pci.bus_id --format=csv,noheader,nounits`. */
export interface NvidiaSmiGpu {
  index: number;
  name: string;
  memoryMiB: number | null;
  driverVersion: string | null;
  /** PCI address as the kernel writes it (0000:18:00.0), so it matches /sys and lspci -D. */
  bus: string | null;
}

/** The query's own field order; the probe script asks for exactly these. */
export const NVIDIA_SMI_QUERY = 'index,name,memory.total,driver_version,pci.bus_id';

/** null when the line is not five comma-separated fields with a numeric index. */
export function parseNvidiaSmiGpuLine(line: string): NvidiaSmiGpu | null {
  const fields = line.split(',').map((f) => f.trim());
  // A name never holds a comma in NVIDIA's catalogue; anything else is not this query's output.
  if (fields.length !== 5) return null;
  const [index, name, memory, driver, bus] = fields as [string, string, string, string, string];
  if (!/^\d+$/.test(index) || name === '') return null;
  return {
    index: Number(index),
    name,
    memoryMiB: /^\d+(\.\d+)?$/.test(memory) ? Number(memory) : null, // "[N/A]" on some boards
    driverVersion: notApplicable(driver) ? null : driver,
    bus: notApplicable(bus) ? null : normalizePciAddress(bus),
  };
}

/** Driver and CUDA version from the banner of plain `nvidia-smi`. */
export function parseNvidiaSmiHeader(line: string): { driverVersion: string | null; cudaVersion: string | null } {
  const driver = /Driver Version:\s*([0-9][0-9.]*)/.exec(line)?.[1] ?? null;
  const cuda = /CUDA Version:\s*([0-9][0-9.]*)/.exec(line)?.[1] ?? null;
  return { driverVersion: driver, cudaVersion: cuda };
}

function notApplicable(value: string): boolean {
  return value === '' || /^\[?N\/A\]?$/i.test(value) || /^\[Not Supported\]$/i.test(value);
}

/** nvidia-smi writes an 8-digit domain (00000000:18:00.0); the kernel writes 4 (0000:18:00.0). */
export function normalizePciAddress(address: string): string {
  const match = /^(?:([0-9a-fA-F]+):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(address.trim());
  if (!match) return address.trim().toLowerCase();
  const domain = (match[1] ?? '0').replace(/^0+(?=[0-9a-fA-F]{4})/, '').padStart(4, '0');
  return `${domain}:${match[2]}:${match[3]}.${match[4]}`.toLowerCase();
}

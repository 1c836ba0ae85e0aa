import { z } from 'zod';

/**
 * One schema for what we know about a machine, whether the facts came from the local
 * probe (systeminformation) or, later, from the POSIX probe script over SSH. A section
 * the probe could not read is null and named in `unknown` with the reason, so a missing
 * tool never fails a whole probe.
 */
export const UnknownFactSchema = z.object({
  field: z.string(),
  reason: z.string(),
});

export const CpuFactsSchema = z.object({
  model: z.string(),
  vendor: z.string(),
  sockets: z.number().int().nonnegative(),
  cores: z.number().int().nonnegative(),
  threads: z.number().int().nonnegative(),
  speedGhz: z.number().nonnegative().nullable(),
  flags: z.array(z.string()),
});

export const MemoryFactsSchema = z.object({
  totalBytes: z.number().nonnegative(),
  swapTotalBytes: z.number().nonnegative(),
});

export const OsFactsSchema = z.object({
  platform: z.string(),
  family: z.string(),
  distro: z.string(),
  release: z.string(),
  codename: z.string(),
  kernel: z.string(),
  arch: z.string(),
  hostname: z.string(),
});

export const DiskFactsSchema = z.object({
  device: z.string(),
  model: z.string(),
  type: z.string(),
  sizeBytes: z.number().nonnegative(),
  rotational: z.boolean().nullable(),
});

export const FilesystemFactsSchema = z.object({
  device: z.string(),
  type: z.string(),
  mount: z.string(),
  sizeBytes: z.number().nonnegative(),
  usedBytes: z.number().nonnegative(),
  availableBytes: z.number().nonnegative(),
});

export const GpuFactsSchema = z.object({
  vendor: z.string(),
  model: z.string(),
  memoryBytes: z.number().nonnegative().nullable(),
  driverVersion: z.string().nullable(),
  bus: z.string().nullable(),
});

export const NetworkInterfaceFactsSchema = z.object({
  name: z.string(),
  mac: z.string(),
  addresses: z.array(z.object({ family: z.enum(['IPv4', 'IPv6']), address: z.string() })),
  internal: z.boolean(),
  speedMbps: z.number().nonnegative().nullable(),
});

export const HostFactsSchema = z.object({
  probedAt: z.number().int(), // ms since the epoch
  source: z.enum(['local', 'ssh']),
  os: OsFactsSchema,
  cpu: CpuFactsSchema.nullable(),
  memory: MemoryFactsSchema.nullable(),
  disks: z.array(DiskFactsSchema).nullable(),
  filesystems: z.array(FilesystemFactsSchema).nullable(),
  gpus: z.array(GpuFactsSchema).nullable(),
  network: z.array(NetworkInterfaceFactsSchema).nullable(),
  unknown: z.array(UnknownFactSchema),
});

export type HostFacts = z.infer<typeof HostFactsSchema>;
export type CpuFacts = z.infer<typeof CpuFactsSchema>;
export type MemoryFacts = z.infer<typeof MemoryFactsSchema>;
export type OsFacts = z.infer<typeof OsFactsSchema>;
export type DiskFacts = z.infer<typeof DiskFactsSchema>;
export type FilesystemFacts = z.infer<typeof FilesystemFactsSchema>;
export type GpuFacts = z.infer<typeof GpuFactsSchema>;
export type NetworkInterfaceFacts = z.infer<typeof NetworkInterfaceFactsSchema>;
export type UnknownFact = z.infer<typeof UnknownFactSchema>;

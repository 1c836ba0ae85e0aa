import { z } from 'zod';

/**
 * One schema for what we know about a machine, whether the facts came from the local
 * probe (systeminformation) or from the POSIX probe script over SSH
 * (resources/probe/probe.sh). A section the probe could not read is null and named in
 * `unknown` with the reason, so a missing tool never fails a whole probe.
 *
 * Fields added after the first release are optional: both probes always fill them
 * (null when unknown), and `undefined` means a snapshot stored before the field existed,
 * which must still parse.
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
  /** `ID` from /etc/os-release (debian, ubuntu, rhel, rocky, alpine, …); null where there is none. */
  id: z.string().nullable().optional(),
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
  /**
   * Where the facts came from, which says how far to trust them: `nvidia` from
   * nvidia-smi (exact memory, driver and CUDA version), `pci` from the PCI bus (lspci or
   * /sys: a name, memory only where the driver tells it), `other` from the OS's own
   * graphics listing (systeminformation on the operator's machine).
   */
  kind: z.enum(['nvidia', 'pci', 'other']).optional(),
  /** The highest CUDA version the driver supports, from nvidia-smi; null otherwise. */
  cudaVersion: z.string().nullable().optional(),
});

export const NetworkInterfaceFactsSchema = z.object({
  name: z.string(),
  mac: z.string(),
  addresses: z.array(z.object({ family: z.enum(['IPv4', 'IPv6']), address: z.string() })),
  internal: z.boolean(),
  speedMbps: z.number().nonnegative().nullable(),
});

export const VirtualizationFactsSchema = z.object({
  /** A container inside a VM reports `container`: the nearer boundary is the one that limits. */
  kind: z.enum(['none', 'vm', 'container', 'unknown']),
  /** systemd-detect-virt's words where it can: kvm, qemu, vmware, microsoft, xen, amazon, docker, podman, lxc, wsl, …; '' for none. */
  name: z.string(),
});

export const InitSystemFactsSchema = z.object({
  kind: z.enum(['systemd', 'openrc', 'other']),
  /** PID 1's command name as the kernel reports it ('' where /proc hides it). */
  pid1: z.string(),
});

export const ListeningPortSchema = z.object({
  /** The bound address: 0.0.0.0 or :: for every interface. */
  address: z.string(),
  port: z.number().int().min(0).max(65535),
});

export const ClockFactsSchema = z.object({
  /** The host's clock as read during the probe, for skew checks against probedAt. */
  epochMs: z.number().int(),
  /** IANA name (Europe/Berlin) where the host names one, else its abbreviation (CET). */
  timezone: z.string().nullable(),
  utcOffsetMinutes: z.number().int().nullable(),
});

export const PrivilegeFactsSchema = z.object({
  /**
   * root; sudo without a password; sudo that asks for one; none; unknown (sudo wants a
   * terminal, or gave no answer).
   */
  level: z.enum(['root', 'sudo-nopasswd', 'sudo-password', 'none', 'unknown']),
  user: z.string(),
  uid: z.number().int().nullable(),
  /** For sudo-password: true or false once a password was checked, null when none was sent. */
  sudoPasswordVerified: z.boolean().nullable(),
});

export const InstallPathFactsSchema = z.object({
  /** The path asked about (default /opt/sutazai). */
  path: z.string(),
  /** Its deepest part that exists, whose filesystem the install would land on. */
  existingPath: z.string(),
  /** Whether the probing user can write there without sudo. */
  writable: z.boolean().nullable(),
  filesystemDevice: z.string(),
  filesystemMount: z.string(),
  sizeBytes: z.number().nonnegative(),
  availableBytes: z.number().nonnegative(),
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
  /** /etc/machine-id (or the OS's own machine UUID): tells two inventory entries for one machine apart. */
  machineId: z.string().nullable().optional(),
  virtualization: VirtualizationFactsSchema.nullable().optional(),
  initSystem: InitSystemFactsSchema.nullable().optional(),
  listeningPorts: z.array(ListeningPortSchema).nullable().optional(),
  clock: ClockFactsSchema.nullable().optional(),
  privilege: PrivilegeFactsSchema.nullable().optional(),
  installPath: InstallPathFactsSchema.nullable().optional(),
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
export type VirtualizationFacts = z.infer<typeof VirtualizationFactsSchema>;
export type InitSystemFacts = z.infer<typeof InitSystemFactsSchema>;
export type ListeningPort = z.infer<typeof ListeningPortSchema>;
export type ClockFacts = z.infer<typeof ClockFactsSchema>;
export type PrivilegeFacts = z.infer<typeof PrivilegeFactsSchema>;
export type InstallPathFacts = z.infer<typeof InstallPathFactsSchema>;

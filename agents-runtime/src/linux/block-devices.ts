/**
 * Which Linux block devices are not disks: loop files, RAM disks, compressed swap, device
 * mapper (LVM, LUKS), software RAID, network and replicated block devices, optical and
 * floppy drives. Their space and I/O belong to the disks beneath them (or to no disk), so
 * neither the probe's disk list nor a throughput figure may count them. The runtime's
 * sampler and the control center's probe and sampler all judge by this one list.
 */
export const VIRTUAL_BLOCK_DEVICE_PREFIXES: readonly string[] = ['loop', 'ram', 'zram', 'dm-', 'md', 'nbd', 'drbd', 'sr', 'fd'];

const VIRTUAL_BLOCK_DEVICE = new RegExp(`^(${VIRTUAL_BLOCK_DEVICE_PREFIXES.join('|')})`);

/** True for a kernel block device name (`loop0`, `dm-1`, `md127`) that is not a disk. */
export function isVirtualBlockDevice(name: string): boolean {
  return VIRTUAL_BLOCK_DEVICE.test(name);
}

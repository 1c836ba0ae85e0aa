/**
 * Which mounts count as a host's filesystems, from /proc/self/mounts: the runtime's sampler
 * reports their space on a managed machine and the control center's sampler on its own (the
 * wire module exports this), so both list the same mounts and name them the same way.
 */

/**
 * Filesystem types on local block devices. Network (nfs, cifs, fuse.sshfs) and pseudo
 * filesystems (proc, tmpfs, cgroup...) are left out: a hung NFS server would block statfs,
 * and pseudo filesystems have no disk to fill.
 */
export const REAL_FS_TYPES: ReadonlySet<string> = new Set([
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'zfs',
  'f2fs',
  'vfat',
  'exfat',
  'ntfs',
  'ntfs3',
  'jfs',
  'reiserfs',
  'nilfs2',
  'bcachefs',
  'hfsplus',
]);

export interface Mount {
  source: string;
  mount: string;
  type: string;
}

/** `\040` and friends: /proc/self/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountField(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Mounts worth reporting: real filesystem types, plus an overlay mounted at `/` (the root of
 * a container), one entry per source device (bind mounts of the same device repeat the same
 * numbers; the first mount listed, usually the shortest path, wins).
 */
export function parseMounts(text: string): Mount[] {
  const seen = new Set<string>();
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [source, mountPoint, type] = line.trim().split(/\s+/);
    if (source === undefined || mountPoint === undefined || type === undefined) continue;
    const mount = unescapeMountField(mountPoint);
    const real = REAL_FS_TYPES.has(type) || (type === 'overlay' && mount === '/');
    if (!real || seen.has(source)) continue;
    seen.add(source);
    mounts.push({ source: unescapeMountField(source), mount, type });
  }
  return mounts;
}

/** One statfs answer: what used and total space are computed from. */
export interface StatfsResult {
  bsize: number;
  blocks: number;
  bfree: number;
}

/** A mount's used and total bytes as df counts them (used = total - free); null for an empty or unreadable answer. */
export function filesystemSpace(s: StatfsResult): { usedBytes: number; totalBytes: number } | null {
  const totalBytes = s.blocks * s.bsize;
  if (!(totalBytes > 0)) return null;
  return { usedBytes: Math.max(0, (s.blocks - s.bfree) * s.bsize), totalBytes };
}

import type { HostFacts } from '../../contract';
import { nodeArchFromMachine } from '../probe/parse-os-release';

/**
 * The facts preflight reads, with names normalised across the local probe and the SSH
 * probe (architectures as Node names them, OS ids from distro names).
 */
export function normaliseArch(arch: string): string {
  const a = arch.toLowerCase();
  // armhf is Debian's name, never uname's; the rest is the probe's one mapping.
  return a === 'armhf' ? 'arm' : nodeArchFromMachine(a);
}

/** debian, ubuntu, rhel, alpine... from what the probe reported. */
export function osId(facts: HostFacts): string {
  const explicit = facts.os.id;
  if (explicit) return explicit.toLowerCase();
  const name = facts.os.distro.toLowerCase();
  if (name.includes('ubuntu')) return 'ubuntu';
  if (name.includes('debian')) return 'debian';
  if (/red hat|rhel|rocky|alma|centos|oracle/.test(name)) return 'rhel';
  if (name.includes('alpine')) return 'alpine';
  if (name.includes('fedora')) return 'fedora';
  return name.split(/\s+/)[0] ?? name;
}

/** Numeric, dotted comparison: "535.104" >= "535", "22.04" < "24.04". */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_ ]/).map((p) => parseInt(p, 10));
  const pb = b.split(/[.\-_ ]/).map((p) => parseInt(p, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number.isNaN(pa[i] ?? 0) ? 0 : (pa[i] ?? 0);
    const y = Number.isNaN(pb[i] ?? 0) ? 0 : (pb[i] ?? 0);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Free space where the install goes: the filesystem mounted at the longest prefix of the path. */
export function freeBytesAt(facts: HostFacts, installPath: string): { bytes: number; mount: string } | null {
  const reported = facts.installPath;
  if (reported && reported.path === installPath) {
    return { bytes: reported.availableBytes, mount: reported.filesystemMount };
  }
  if (!facts.filesystems) return null;
  let best: { bytes: number; mount: string } | null = null;
  for (const fs of facts.filesystems) {
    const inside = installPath === fs.mount || installPath.startsWith(fs.mount.endsWith('/') ? fs.mount : `${fs.mount}/`);
    if (inside && (!best || fs.mount.length > best.mount.length)) best = { bytes: fs.availableBytes, mount: fs.mount };
  }
  return best;
}

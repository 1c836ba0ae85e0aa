import type { VirtualizationFacts } from '../../contract';

/**
 * What systemd-detect-virt said (`-c` and `-v`), or, on a host without it, the same
 * evidence it weighs. Keys of `hints`: dockerenv, containerenv, container-env, cgroup,
 * sys-vendor, product-name, hypervisor-type, proc-vz, osrelease.
 */
export interface VirtualizationEvidence {
  tool: { container: string; vm: string } | null;
  hints: ReadonlyMap<string, string>;
  cpuFlags: ReadonlySet<string>;
  /** uname -m: x86 has a CPUID hypervisor bit every hypervisor sets, so its absence means bare metal there. */
  machine: string;
}

/** DMI vendor or product text → systemd-detect-virt's name, checked in order. */
const DMI_VMS: Array<[RegExp, string]> = [
  [/^KVM|KVM$/, 'kvm'],
  [/Amazon EC2/, 'amazon'],
  [/QEMU/, 'qemu'],
  [/VMware|VMW/, 'vmware'],
  [/innotek|VirtualBox|Oracle Corporation/, 'oracle'],
  [/^Xen|HVM domU/, 'xen'],
  [/Bochs/, 'bochs'],
  [/Parallels/, 'parallels'],
  [/BHYVE/, 'bhyve'],
  [/Google Compute Engine|^Google$/, 'google'],
  [/Apple Virtualization/, 'apple'],
];

export function classifyVirtualization(evidence: VirtualizationEvidence): VirtualizationFacts {
  const { tool, hints } = evidence;
  if (tool) {
    const container = tool.container.trim();
    const vm = tool.vm.trim();
    if (container && container !== 'none') return { kind: 'container', name: container };
    if (vm && vm !== 'none') return { kind: 'vm', name: vm };
    return { kind: 'none', name: '' };
  }

  const containerEnv = hints.get('container-env')?.trim();
  if (containerEnv) return { kind: 'container', name: containerEnv === 'oci' ? 'container-other' : containerEnv };
  if (hints.has('containerenv')) return { kind: 'container', name: 'podman' };
  if (hints.has('dockerenv')) return { kind: 'container', name: 'docker' };
  const cgroup = hints.get('cgroup') ?? '';
  if (/libpod/.test(cgroup)) return { kind: 'container', name: 'podman' };
  if (/docker/.test(cgroup)) return { kind: 'container', name: 'docker' };
  if (/lxc/.test(cgroup)) return { kind: 'container', name: 'lxc' };
  if (/kubepods|containerd/.test(cgroup)) return { kind: 'container', name: 'container-other' };
  if (hints.has('proc-vz')) return { kind: 'container', name: 'openvz' };
  if (/microsoft|WSL/i.test(hints.get('osrelease') ?? '')) return { kind: 'container', name: 'wsl' };

  const hypervisorType = hints.get('hypervisor-type')?.trim();
  if (hypervisorType) return { kind: 'vm', name: hypervisorType };
  const vendor = hints.get('sys-vendor') ?? '';
  const product = hints.get('product-name') ?? '';
  if (/Microsoft Corporation/.test(vendor) && /Virtual Machine/.test(product)) return { kind: 'vm', name: 'microsoft' };
  for (const [pattern, name] of DMI_VMS) if (pattern.test(product) || pattern.test(vendor)) return { kind: 'vm', name };
  if (evidence.cpuFlags.has('hypervisor')) return { kind: 'vm', name: 'vm-other' };
  if (/^(x86_64|amd64|i[3-6]86)$/.test(evidence.machine.trim()) || vendor !== '') return { kind: 'none', name: '' };
  return { kind: 'unknown', name: '' };
}

import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import type { VirtualizationFacts } from '../../contract';
import { classifyVirtualization } from './classify-virtualization';
import { runTool } from './run-tool';

const read = (file: string) =>
  readFile(file, 'utf8').then(
    (t) => t,
    () => null,
  );

/** The same evidence the probe script gathers when systemd-detect-virt is missing. */
export async function readVirtualizationHints(): Promise<Map<string, string>> {
  const hints = new Map<string, string>();
  if (fs.existsSync('/.dockerenv')) hints.set('dockerenv', '1');
  if (fs.existsSync('/run/.containerenv')) hints.set('containerenv', '1');
  const environ = await read('/proc/1/environ');
  const container = environ
    ?.split('\0')
    .find((v) => v.startsWith('container='))
    ?.slice('container='.length);
  if (container) hints.set('container-env', container);
  const runContainer = (await read('/run/systemd/container'))?.trim();
  if (runContainer) hints.set('container-env', runContainer);
  const cgroup = (await read('/proc/1/cgroup'))?.split('\n').find((l) => /docker|kubepods|lxc|libpod|containerd/.test(l));
  if (cgroup) hints.set('cgroup', cgroup);
  for (const [key, file] of [
    ['sys-vendor', '/sys/class/dmi/id/sys_vendor'],
    ['product-name', '/sys/class/dmi/id/product_name'],
    ['hypervisor-type', '/sys/hypervisor/type'],
    ['osrelease', '/proc/sys/kernel/osrelease'],
  ] as const) {
    const value = (await read(file))?.trim();
    if (value) hints.set(key, value);
  }
  if (fs.existsSync('/proc/vz') && !fs.existsSync('/proc/bc')) hints.set('proc-vz', '1');
  return hints;
}

/** systemd-detect-virt when installed, else /proc and /sys; systeminformation's guess off Linux. */
export async function detectLocalVirtualization(cpuFlags: string, platform = process.platform): Promise<VirtualizationFacts | null> {
  if (platform !== 'linux') {
    const system = await si.system().catch(() => null);
    if (!system) return null;
    return system.virtual ? { kind: 'vm', name: system.virtualHost?.toLowerCase() || 'vm-other' } : { kind: 'none', name: '' };
  }
  const container = await runTool('systemd-detect-virt', ['-c'], 5000);
  const vm = container ? await runTool('systemd-detect-virt', ['-v'], 5000) : null;
  const answer = (r: typeof container) => (r && r.code !== null ? r.stdout.trim() || 'none' : 'none');
  return classifyVirtualization({
    tool: container && vm ? { container: answer(container), vm: answer(vm) } : null,
    hints: container ? new Map() : await readVirtualizationHints(),
    cpuFlags: new Set(cpuFlags.split(/\s+/)),
    machine: os.machine(),
  });
}

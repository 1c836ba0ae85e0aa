import os from 'node:os';
import si from 'systeminformation';
import type { DiskFacts, HostFacts, UnknownFact } from '../../contract';
import { mapCpu, mapDisks, mapFilesystems, mapGpus, mapMemory, mapNetwork, mapOs } from './map-systeminformation';
import { readSysBlockDisks } from './read-sys-block';

/**
 * Probes the operator's own machine with systeminformation (the same library on
 * Linux, macOS and Windows). Each section is read on its own: one that fails is
 * recorded as unknown with its reason and the rest of the facts still arrive.
 */
export async function probeLocalHost(now: () => number = Date.now): Promise<HostFacts> {
  const unknown: UnknownFact[] = [];
  const attempt = async <T>(field: string, read: () => Promise<T>): Promise<T | null> => {
    try {
      return await read();
    } catch (error) {
      unknown.push({ field, reason: `could not be read: ${(error as Error).message}` });
      return null;
    }
  };

  const [osInfo, cpu, flags, mem, disks, filesystems, graphics, interfaces] = await Promise.all([
    attempt('os', () => si.osInfo()),
    attempt('cpu', () => si.cpu()),
    attempt('cpu.flags', () => si.cpuFlags()),
    attempt('memory', () => si.mem()),
    attempt('disks', () => si.diskLayout()),
    attempt('filesystems', () => si.fsSize()),
    attempt('gpus', () => si.graphics()),
    attempt('network', () => si.networkInterfaces()),
  ]);

  let diskFacts: DiskFacts[] | null = disks ? mapDisks(disks) : null;
  if ((diskFacts === null || diskFacts.length === 0) && process.platform === 'linux') {
    // systeminformation needs lsblk for disks; /sys/block has the same facts without it.
    const fromSys = await attempt('disks', () => readSysBlockDisks('/sys/block'));
    if (fromSys) diskFacts = fromSys;
  }

  return {
    probedAt: now(),
    source: 'local',
    os: mapOs(osInfo, { platform: process.platform, release: os.release(), arch: os.arch(), hostname: os.hostname() }),
    cpu: cpu ? mapCpu(cpu, typeof flags === 'string' ? flags : '', os.cpus()) : null,
    memory: mem ? mapMemory(mem) : null,
    disks: diskFacts,
    filesystems: filesystems ? mapFilesystems(filesystems) : null,
    gpus: graphics ? mapGpus(graphics.controllers) : null,
    network: interfaces ? mapNetwork(Array.isArray(interfaces) ? interfaces : [interfaces], os.networkInterfaces()) : null,
    unknown: dedupeUnknown(unknown),
  };
}

function dedupeUnknown(list: UnknownFact[]): UnknownFact[] {
  const seen = new Set<string>();
  return list.filter((item) => !seen.has(item.field) && seen.add(item.field));
}

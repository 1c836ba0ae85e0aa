import { readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import { visibleStrings, type DiskFacts, type HostFacts, type UnknownFact } from '../../contract';
import { readLocalInstallPath } from './local-install-path';
import { localClock, readLocalInitSystem, readLocalMachineId } from './local-identity';
import { readLocalListeningPorts } from './local-listening-ports';
import { detectLocalPrivilege } from './local-privilege';
import { detectLocalVirtualization } from './local-virtualization';
import { mapCpu, mapDisks, mapFilesystems, mapGpus, mapMemory, mapNetwork, mapOs } from './map-systeminformation';
import { parseOsRelease } from './parse-os-release';
import { DEFAULT_INSTALL_PATH } from './probe-script';
import { readSysBlockDisks } from './read-sys-block';

/**
 * Probes the operator's own machine with systeminformation (the same library on
 * Linux, macOS and Windows). Each section is read on its own: one that fails is
 * recorded as unknown with its reason and the rest of the facts still arrive.
 */
export async function probeLocalHost(now: () => number = Date.now, options: { installPath?: string } = {}): Promise<HostFacts> {
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
  const linux = process.platform === 'linux';
  const [machineId, initSystem, listeningPorts, privilege, virtualization, osRelease] = await Promise.all([
    attempt('machineId', () => readLocalMachineId()),
    attempt('initSystem', () => readLocalInitSystem()),
    attempt('listeningPorts', () => readLocalListeningPorts()),
    attempt('privilege', () => detectLocalPrivilege()),
    attempt('virtualization', () => detectLocalVirtualization(typeof flags === 'string' ? flags : '')),
    linux ? readFile('/etc/os-release', 'utf8').then(parseOsRelease, () => null) : Promise.resolve(null),
  ]);
  if (machineId === null && !unknown.some((u) => u.field === 'machineId')) {
    unknown.push({
      field: 'machineId',
      reason: linux ? 'no valid /etc/machine-id or /var/lib/dbus/machine-id' : 'the OS gave no machine UUID',
    });
  }
  if (initSystem === null && !unknown.some((u) => u.field === 'initSystem')) {
    unknown.push({
      field: 'initSystem',
      reason: linux ? '/proc/1/comm is hidden and /run shows neither systemd nor OpenRC' : 'this OS has no init system to report',
    });
  }
  if (privilege?.note) unknown.push({ field: 'privilege', reason: privilege.note });

  let diskFacts: DiskFacts[] | null = disks ? mapDisks(disks) : null;
  if ((diskFacts === null || diskFacts.length === 0) && process.platform === 'linux') {
    // systeminformation needs lsblk for disks; /sys/block has the same facts without it.
    const fromSys = await attempt('disks', () => readSysBlockDisks('/sys/block'));
    if (fromSys) diskFacts = fromSys;
  }

  const filesystemFacts = filesystems ? mapFilesystems(filesystems) : null;
  const installPath =
    process.platform === 'win32'
      ? null
      : await attempt('installPath', async () => readLocalInstallPath(options.installPath ?? DEFAULT_INSTALL_PATH, filesystemFacts));
  const probedAt = now();
  // Disk models, interface and mount names are as hostile here as on a managed host.
  return visibleStrings<HostFacts>({
    probedAt,
    source: 'local',
    os: {
      ...mapOs(osInfo, { platform: process.platform, release: os.release(), arch: os.arch(), hostname: os.hostname() }),
      id: osRelease?.get('ID') ?? null,
    },
    cpu: cpu ? mapCpu(cpu, typeof flags === 'string' ? flags : '', os.cpus()) : null,
    memory: mem ? mapMemory(mem) : null,
    disks: diskFacts,
    filesystems: filesystemFacts,
    gpus: graphics ? mapGpus(graphics.controllers) : null,
    network: interfaces ? mapNetwork(Array.isArray(interfaces) ? interfaces : [interfaces], os.networkInterfaces()) : null,
    unknown: dedupeUnknown(unknown),
    machineId,
    virtualization,
    initSystem,
    listeningPorts,
    clock: localClock(probedAt),
    privilege: privilege?.privilege ?? null,
    installPath,
  });
}

function dedupeUnknown(list: UnknownFact[]): UnknownFact[] {
  const seen = new Set<string>();
  return list.filter((item) => !seen.has(item.field) && seen.add(item.field));
}

import type { HostFacts, HostSummary } from '../../contract';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Binary units, one decimal: what `free -h` and `lsblk` operators are used to. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return 'unknown';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A plain table with columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatHostList(hosts: HostSummary[]): string {
  return formatTable(
    ['ID', 'NAME', 'KIND', 'ADDRESS', 'OS', 'CPU', 'THREADS', 'MEMORY', 'GPUS', 'LAST PROBED'],
    hosts.map((h) => [
      String(h.id),
      h.name,
      h.kind,
      h.address,
      h.os ?? 'unknown',
      h.cpuModel ?? 'unknown',
      h.cpuThreads === null ? '?' : String(h.cpuThreads),
      formatBytes(h.memoryBytes),
      h.gpuCount === null ? '?' : String(h.gpuCount),
      h.lastProbedAt === null ? 'never' : new Date(h.lastProbedAt).toISOString(),
    ]),
  );
}

export function formatFacts(name: string, facts: HostFacts): string {
  const out: string[] = [];
  const section = (title: string) => out.push('', title);
  const field = (label: string, value: string) => out.push(`  ${label.padEnd(15)} ${value}`);
  out.push(`Host ${name} (probed ${new Date(facts.probedAt).toISOString()})`);
  section('System');
  field('Hostname', facts.os.hostname);
  field('OS', `${facts.os.distro} ${facts.os.release}${facts.os.codename ? ` (${facts.os.codename})` : ''}`.trim());
  field('Family', facts.os.family);
  field('Kernel', facts.os.kernel);
  field('Architecture', facts.os.arch);
  if (facts.machineId !== undefined) field('Machine ID', facts.machineId ?? 'unknown');
  if (facts.virtualization !== undefined) field('Virtualization', formatVirtualization(facts.virtualization));
  if (facts.initSystem !== undefined)
    field(
      'Init',
      facts.initSystem
        ? `${facts.initSystem.kind}${facts.initSystem.pid1 && facts.initSystem.pid1 !== facts.initSystem.kind ? ` (PID 1: ${facts.initSystem.pid1})` : ''}`
        : 'unknown',
    );
  if (facts.clock !== undefined) field('Clock', formatClock(facts.clock, facts.probedAt));
  if (facts.privilege !== undefined) field('Privilege', formatPrivilege(facts.privilege));
  section('CPU');
  if (facts.cpu) {
    field('Model', facts.cpu.model);
    field('Sockets', String(facts.cpu.sockets));
    field('Cores', String(facts.cpu.cores));
    field('Threads', String(facts.cpu.threads));
    if (facts.cpu.speedGhz) field('Speed', `${facts.cpu.speedGhz} GHz`);
    field('Flags', facts.cpu.flags.join(' ') || 'none of note');
  } else out.push('  unknown');
  section('Memory');
  if (facts.memory) {
    field('Total', formatBytes(facts.memory.totalBytes));
    field('Swap', formatBytes(facts.memory.swapTotalBytes));
  } else out.push('  unknown');
  section('Disks');
  if (facts.disks === null) out.push('  unknown');
  else if (facts.disks.length === 0) out.push('  none found');
  else for (const d of facts.disks) out.push(`  ${d.device}  ${formatBytes(d.sizeBytes)}  ${d.type || '?'}  ${d.model}`.trimEnd());
  section('Filesystems');
  if (facts.filesystems === null) out.push('  unknown');
  else
    out.push(
      ...formatTable(
        ['MOUNT', 'TYPE', 'SIZE', 'USED', 'FREE', 'DEVICE'],
        facts.filesystems.map((f) => [
          f.mount,
          f.type,
          formatBytes(f.sizeBytes),
          formatBytes(f.usedBytes),
          formatBytes(f.availableBytes),
          f.device,
        ]),
      )
        .split('\n')
        .map((l) => `  ${l}`),
    );
  section('GPUs');
  if (facts.gpus === null) out.push('  unknown');
  else if (facts.gpus.length === 0) out.push('  none found');
  else
    for (const g of facts.gpus) {
      const memory = g.memoryBytes === null ? '' : `  ${formatBytes(g.memoryBytes)}`;
      const driver = g.driverVersion ? `  driver ${g.driverVersion}` : '';
      const cuda = g.cudaVersion ? `  CUDA ${g.cudaVersion}` : '';
      const bus = g.bus ? `  [${g.bus}]` : '';
      out.push(`  ${g.vendor} ${g.model}${memory}${driver}${cuda}${bus}`.trimEnd());
    }
  section('Network');
  if (facts.network === null) out.push('  unknown');
  else for (const n of facts.network) out.push(`  ${n.name.padEnd(12)}${n.addresses.map((a) => a.address).join(', ') || 'no address'}`);
  if (facts.installPath !== undefined) {
    section('Install path');
    const ip = facts.installPath;
    if (ip === null) out.push('  unknown');
    else {
      field('Path', ip.path === ip.existingPath ? ip.path : `${ip.path} (not there yet; ${ip.existingPath} is)`);
      field('Filesystem', `${ip.filesystemMount || '?'}${ip.filesystemDevice ? ` on ${ip.filesystemDevice}` : ''}`);
      field('Free', `${formatBytes(ip.availableBytes)} of ${formatBytes(ip.sizeBytes)}`);
      if (ip.writable !== null) field('Writable', ip.writable ? 'yes' : 'no (needs sudo)');
    }
  }
  if (facts.listeningPorts !== undefined) {
    section('Listening TCP ports');
    const ports = facts.listeningPorts;
    if (ports === null) out.push('  unknown');
    else if (ports.length === 0) out.push('  none');
    else for (const p of ports) out.push(`  ${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}`);
  }
  if (facts.unknown.length) {
    section('Unknown');
    for (const u of facts.unknown) field(u.field, u.reason);
  }
  return out.join('\n');
}

function formatVirtualization(v: HostFacts['virtualization']): string {
  if (!v) return 'unknown';
  if (v.kind === 'none') return 'none (bare metal)';
  if (v.kind === 'unknown') return 'unknown';
  return v.name ? `${v.kind} (${v.name})` : v.kind;
}

/** The host's time and how far it is from this machine's, which TLS and logs care about. */
function formatClock(clock: HostFacts['clock'], probedAt: number): string {
  if (!clock) return 'unknown';
  const skewSeconds = Math.round((clock.epochMs - probedAt) / 1000);
  const zone = clock.timezone ? ` ${clock.timezone}` : '';
  const offset = clock.utcOffsetMinutes === null ? '' : ` (UTC${formatOffset(clock.utcOffsetMinutes)})`;
  const skew =
    Math.abs(skewSeconds) < 2
      ? 'in step with this machine'
      : `${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'ahead of' : 'behind'} this machine`;
  return `${new Date(clock.epochMs).toISOString()}${zone}${offset}, ${skew}`;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function formatPrivilege(p: HostFacts['privilege']): string {
  if (!p) return 'unknown';
  const who = p.user ? `${p.user}${p.uid === null ? '' : ` (uid ${p.uid})`}: ` : '';
  switch (p.level) {
    case 'root':
      return `${who}root`;
    case 'sudo-nopasswd':
      return `${who}sudo without a password`;
    case 'sudo-password':
      return `${who}sudo with a password${p.sudoPasswordVerified === true ? ' (checked)' : p.sudoPasswordVerified === false ? ' (the stored password was refused)' : ' (not checked)'}`;
    case 'none':
      return `${who}no root and no sudo`;
    default:
      return `${who}unknown`;
  }
}

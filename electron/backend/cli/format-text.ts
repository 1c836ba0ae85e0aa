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
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
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
  const field = (label: string, value: string) => out.push(`  ${label.padEnd(14)}${value}`);
  out.push(`Host ${name} (probed ${new Date(facts.probedAt).toISOString()})`);
  section('System');
  field('Hostname', facts.os.hostname);
  field('OS', `${facts.os.distro} ${facts.os.release}${facts.os.codename ? ` (${facts.os.codename})` : ''}`.trim());
  field('Family', facts.os.family);
  field('Kernel', facts.os.kernel);
  field('Architecture', facts.os.arch);
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
        facts.filesystems.map((f) => [f.mount, f.type, formatBytes(f.sizeBytes), formatBytes(f.usedBytes), formatBytes(f.availableBytes), f.device]),
      )
        .split('\n')
        .map((l) => `  ${l}`),
    );
  section('GPUs');
  if (facts.gpus === null) out.push('  unknown');
  else if (facts.gpus.length === 0) out.push('  none found');
  else for (const g of facts.gpus) out.push(`  ${g.vendor} ${g.model}  ${g.memoryBytes === null ? '' : formatBytes(g.memoryBytes)}${g.driverVersion ? `  driver ${g.driverVersion}` : ''}`.trimEnd());
  section('Network');
  if (facts.network === null) out.push('  unknown');
  else for (const n of facts.network) out.push(`  ${n.name.padEnd(12)}${n.addresses.map((a) => a.address).join(', ') || 'no address'}`);
  if (facts.unknown.length) {
    section('Unknown');
    for (const u of facts.unknown) field(u.field, u.reason);
  }
  return out.join('\n');
}

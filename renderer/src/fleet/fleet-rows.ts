import type { FleetLink, HostSummary, InstallRecord, MetricPoint } from '../../../electron/contract';

/**
 * The Fleet overview's rows: one per host of every recorded install, with what the page
 * shows and sorts by. Pure, so sorting and filtering are the same wherever they are used.
 */

export type InstallHostState = InstallRecord['hosts'][number]['state'];

export interface FleetRow {
  install: string;
  hostId: number;
  host: string;
  role: InstallRecord['hosts'][number]['role'];
  state: InstallHostState;
  /** The release it runs now, as the store recorded it. */
  release: string | null;
  /** From the host's last probe; null before one. */
  memoryTotalBytes: number | null;
  /** NVIDIA GPUs the last probe found. */
  gpuCount: number;
}

/** A host's last 15 minutes as the store has them (mean per point); NaN marks a gap. */
export interface HostUsage {
  cpu: MetricPoint[];
  /** Bytes in use (this machine's sampler and every runtime). */
  memory: MetricPoint[];
  /** Share in use, as a runtime reports it (not this machine's sampler). */
  memoryPercent: MetricPoint[];
  /** The root filesystem's share in use. */
  disk: MetricPoint[];
  /** Utilisation of each GPU, by index. */
  gpus: MetricPoint[][];
}

export interface UsageNow {
  cpuPercent: number | null;
  memoryPercent: number | null;
  diskPercent: number | null;
  /** The busiest GPU's utilisation, and which one it is. */
  gpuPercent: number | null;
  gpuIndex: number | null;
  /** When the newest sample was taken; null when the store has none in the window. */
  lastSampleMs: number | null;
}

export const SORT_KEYS = ['name', 'link', 'alerts', 'processes', 'cpu', 'memory', 'disk', 'state', 'last-sample'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const SORT_LABELS: Record<SortKey, string> = {
  name: 'Install and host',
  link: 'Offline first',
  alerts: 'Most alerts first',
  processes: 'Most processes down first',
  cpu: 'CPU, busiest first',
  memory: 'Memory, fullest first',
  disk: 'Disk, fullest first',
  state: 'Problems first',
  'last-sample': 'Longest silent first',
};

export function fleetRows(installs: readonly InstallRecord[], hosts: readonly HostSummary[]): FleetRow[] {
  const byId = new Map(hosts.map((h) => [h.id, h]));
  return installs.flatMap((install) =>
    install.hosts.map((h) => ({
      install: install.name,
      hostId: h.hostId,
      host: h.hostName,
      role: h.role,
      state: h.state,
      release: h.releases.find((r) => r.state === 'current')?.version ?? null,
      memoryTotalBytes: byId.get(h.hostId)?.memoryBytes ?? null,
      gpuCount: byId.get(h.hostId)?.gpuCount ?? 0,
    })),
  );
}

/** The newest finite point of a series. */
function newest(points: readonly MetricPoint[]): MetricPoint | null {
  for (let i = points.length - 1; i >= 0; i -= 1) if (Number.isFinite(points[i]![1])) return points[i]!;
  return null;
}

/**
 * Memory as a share over the window: the runtime's own share where it sends one, else the
 * bytes in use over the size the last probe found (this machine's sampler).
 */
export function memoryPercentPoints(row: Pick<FleetRow, 'memoryTotalBytes'>, usage: HostUsage): MetricPoint[] {
  if (usage.memoryPercent.length > 0) return usage.memoryPercent;
  const total = row.memoryTotalBytes;
  if (total === null || total <= 0) return [];
  return usage.memory.map(([t, mean, min, max]) => [t, Math.min(100, (mean / total) * 100), (min / total) * 100, (max / total) * 100]);
}

export function usageNow(row: Pick<FleetRow, 'memoryTotalBytes'>, usage: HostUsage | undefined): UsageNow {
  if (!usage) return { cpuPercent: null, memoryPercent: null, diskPercent: null, gpuPercent: null, gpuIndex: null, lastSampleMs: null };
  const cpu = newest(usage.cpu);
  const memory = newest(memoryPercentPoints(row, usage));
  const disk = newest(usage.disk);
  const gpus = usage.gpus.map(newest);
  let gpuIndex: number | null = null;
  gpus.forEach((g, i) => {
    if (g && (gpuIndex === null || g[1] > gpus[gpuIndex]![1])) gpuIndex = i;
  });
  const times = [cpu, memory, disk, ...gpus].flatMap((p) => (p ? [p[0]] : []));
  return {
    cpuPercent: cpu ? cpu[1] : null,
    memoryPercent: memory ? memory[1] : null,
    diskPercent: disk ? disk[1] : null,
    gpuPercent: gpuIndex === null ? null : gpus[gpuIndex]![1],
    gpuIndex,
    lastSampleMs: times.length === 0 ? null : Math.max(...times),
  };
}

/** What the page knows of a row besides the store's record: its samples, link, alerts and processes. */
export interface RowLookups {
  usage: (row: FleetRow) => UsageNow;
  link: (row: FleetRow) => FleetLink | undefined;
  /** Firing alerts of the host. */
  firing: (row: FleetRow) => number;
  /** Instances meant to run that do not; null when the host's processes are not known. */
  down: (row: FleetRow) => number | null;
}

/** A filter's words each match the install, host, role, state, release or link state (any order, any case). */
export function matchesFilter(row: FleetRow, filter: string, link?: FleetLink): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [row.install, row.host, row.role, row.state, row.release ?? '', link?.state ?? ''].join(' ').toLowerCase();
  return words.every((word) => text.includes(word));
}

const STATE_RANK: Record<InstallHostState, number> = { failed: 0, installing: 1, planned: 2, installed: 3 };
/** A host without a link yet sorts after the online ones: nothing is known to be wrong with it. */
const LINK_RANK: Record<FleetLink['state'], number> = { offline: 0, degraded: 1, connecting: 2, online: 3 };

const byName = (a: FleetRow, b: FleetRow) => a.install.localeCompare(b.install) || a.host.localeCompare(b.host);

/** Rows without a figure go last whatever the order, so the busiest host is always first. */
function byFigure(figure: (row: FleetRow) => number | null, descending: boolean) {
  return (a: FleetRow, b: FleetRow) => {
    const x = figure(a);
    const y = figure(b);
    if (x === null || y === null) return x === y ? byName(a, b) : x === null ? 1 : -1;
    return (descending ? y - x : x - y) || byName(a, b);
  };
}

export function sortRows(rows: readonly FleetRow[], key: SortKey, lookups: RowLookups): FleetRow[] {
  const now = lookups.usage;
  const sorted = [...rows];
  switch (key) {
    case 'name':
      return sorted.sort(byName);
    case 'cpu':
      return sorted.sort(byFigure((r) => now(r).cpuPercent, true));
    case 'memory':
      return sorted.sort(byFigure((r) => now(r).memoryPercent, true));
    case 'disk':
      return sorted.sort(byFigure((r) => now(r).diskPercent, true));
    case 'link':
      return sorted.sort((a, b) => linkRank(lookups.link(a)) - linkRank(lookups.link(b)) || byName(a, b));
    case 'processes':
      return sorted.sort(byFigure(lookups.down, true));
    case 'alerts':
      return sorted.sort((a, b) => lookups.firing(b) - lookups.firing(a) || byName(a, b));
    case 'state':
      return sorted.sort((a, b) => STATE_RANK[a.state] - STATE_RANK[b.state] || byName(a, b));
    case 'last-sample':
      // Never sampled counts as the most silent.
      return sorted.sort((a, b) => (now(a).lastSampleMs ?? -1) - (now(b).lastSampleMs ?? -1) || byName(a, b));
  }
}

function linkRank(link: FleetLink | undefined): number {
  return link ? LINK_RANK[link.state] : 4;
}

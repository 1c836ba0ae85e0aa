/**
 * The one vocabulary of metric series names, shared by the runtime and the control center:
 * the control center's own-host sampler, its ingest of a runtime's StreamMetrics, its
 * metric store, its alert rules and its pages all name a series the same way.
 *
 * A series name is a family (`cpu.percent`) or, for a family with one series per core,
 * filesystem, GPU or instance, the family and a key joined by the first colon
 * (`filesystem.used_bytes:/var/lib`, `process.rss_bytes:agent-1`). A family never holds a
 * colon, so the first colon splits a name without doubt, whatever the key holds.
 *
 * This file is pure data and string functions and imports nothing: the control center's
 * contract, which the renderer bundles, imports it directly (the one file of the runtime
 * scripts/lint/layer-boundaries.mjs lets the contract reach), so the names are written once.
 * The names stored before this vocabulary (cpu.percent, memory.used_bytes, load.1m,
 * net.*_bytes_per_s, disk.*_bytes_per_s) are kept as they were, so stored series read on.
 */

/** What a keyed family's key is. */
export type SeriesKeyKind = 'core' | 'mount' | 'gpu' | 'instance';

export interface SeriesFamily {
  /** null: one series per host; else one per core, mount, GPU or instance. */
  readonly keyedBy: SeriesKeyKind | null;
  readonly unit: 'percent' | 'bytes' | 'bytes_per_second' | 'load' | 'count' | 'celsius' | 'boolean';
  /** The runtime's Prometheus family (agents-runtime/src/metrics/prometheus-exposition.ts) carrying the same reading; null where the exposition has none. */
  readonly prometheus: string | null;
  /** Labels that pick this family's series out of a Prometheus family it shares (the restarts counter's `reason`). */
  readonly prometheusLabels?: Readonly<Record<string, string>>;
}

/** Host series with one value per host. */
export const HOST_SERIES = {
  cpuPercent: 'cpu.percent',
  load1: 'load.1m',
  load5: 'load.5m',
  load15: 'load.15m',
  memoryUsedBytes: 'memory.used_bytes',
  memoryTotalBytes: 'memory.total_bytes',
  memoryUsedPercent: 'memory.used_percent',
  swapUsedBytes: 'swap.used_bytes',
  swapTotalBytes: 'swap.total_bytes',
  diskReadBytesPerSec: 'disk.read_bytes_per_s',
  diskWriteBytesPerSec: 'disk.write_bytes_per_s',
  netRxBytesPerSec: 'net.rx_bytes_per_s',
  netTxBytesPerSec: 'net.tx_bytes_per_s',
} as const;

/** Host families with one series per core, mounted filesystem or GPU. */
export const HOST_KEYED_SERIES = {
  /** Key: the core's index in /proc/stat order (0, 1, ...). */
  cpuCorePercent: 'cpu.core_percent',
  /** Key: the mount point, e.g. /. */
  filesystemUsedBytes: 'filesystem.used_bytes',
  filesystemTotalBytes: 'filesystem.total_bytes',
  filesystemUsedPercent: 'filesystem.used_percent',
  /** Key: the GPU's index as nvidia-smi numbers it. */
  gpuUtilizationPercent: 'gpu.utilization_percent',
  gpuMemoryUsedBytes: 'gpu.memory_used_bytes',
  gpuMemoryTotalBytes: 'gpu.memory_total_bytes',
  gpuTemperatureCelsius: 'gpu.temperature_celsius',
} as const;

/** Per-process families, keyed by the instance (`<process>-<n>`, e.g. agent-1). */
export const PROCESS_SERIES = {
  cpuPercent: 'process.cpu_percent',
  rssBytes: 'process.rss_bytes',
  threads: 'process.threads',
  openFiles: 'process.open_files',
  /** Restarts after the instance exited or failed its health check: the restarts counter with reason="crash". */
  restarts: 'process.restarts',
  /** Restarts the operator asked for (RestartProcess): the restarts counter with reason="operator". */
  operatorRestarts: 'process.operator_restarts',
  /** 1 while the instance has a running process, else 0. */
  up: 'process.up',
  /**
   * Log lines of the instance that the runtime could not write (a full disk, an unwritable
   * log file): a counter the log collector keeps from its start (`logs.timestamps:
   * collector`; it starts again from 0 when the collector does, so read its increase). Absent
   * under the other stampers, which report drops only in the log's `sys` line.
   */
  logDroppedLines: 'process.log_dropped_lines',
} as const;

/**
 * Why an instance was restarted: the values of the `reason` label on the runtime's restarts
 * counter, each with the series family that carries its count. The two are counted apart so
 * that an operator's restarts never read as crashes (the restarts alert counts crashes);
 * their sum is every restart.
 */
export const RESTART_REASONS = {
  crash: PROCESS_SERIES.restarts,
  operator: PROCESS_SERIES.operatorRestarts,
} as const;
export type RestartReason = keyof typeof RESTART_REASONS;

export type HostSeriesName = (typeof HOST_SERIES)[keyof typeof HOST_SERIES];
export type HostKeyedFamily = (typeof HOST_KEYED_SERIES)[keyof typeof HOST_KEYED_SERIES];
export type ProcessFamily = (typeof PROCESS_SERIES)[keyof typeof PROCESS_SERIES];
export type SeriesFamilyName = HostSeriesName | HostKeyedFamily | ProcessFamily;

export const SERIES_FAMILIES: Readonly<Record<SeriesFamilyName, SeriesFamily>> = {
  'cpu.percent': { keyedBy: null, unit: 'percent', prometheus: 'sutazai_host_cpu_percent' },
  'load.1m': { keyedBy: null, unit: 'load', prometheus: 'sutazai_host_load1' },
  'load.5m': { keyedBy: null, unit: 'load', prometheus: 'sutazai_host_load5' },
  'load.15m': { keyedBy: null, unit: 'load', prometheus: 'sutazai_host_load15' },
  'memory.used_bytes': { keyedBy: null, unit: 'bytes', prometheus: 'sutazai_host_memory_used_bytes' },
  'memory.total_bytes': { keyedBy: null, unit: 'bytes', prometheus: 'sutazai_host_memory_total_bytes' },
  'memory.used_percent': { keyedBy: null, unit: 'percent', prometheus: null },
  'swap.used_bytes': { keyedBy: null, unit: 'bytes', prometheus: 'sutazai_host_swap_used_bytes' },
  'swap.total_bytes': { keyedBy: null, unit: 'bytes', prometheus: 'sutazai_host_swap_total_bytes' },
  'disk.read_bytes_per_s': { keyedBy: null, unit: 'bytes_per_second', prometheus: 'sutazai_host_disk_read_bytes_per_second' },
  'disk.write_bytes_per_s': { keyedBy: null, unit: 'bytes_per_second', prometheus: 'sutazai_host_disk_write_bytes_per_second' },
  'net.rx_bytes_per_s': { keyedBy: null, unit: 'bytes_per_second', prometheus: 'sutazai_host_network_receive_bytes_per_second' },
  'net.tx_bytes_per_s': { keyedBy: null, unit: 'bytes_per_second', prometheus: 'sutazai_host_network_transmit_bytes_per_second' },
  'cpu.core_percent': { keyedBy: 'core', unit: 'percent', prometheus: 'sutazai_host_cpu_core_percent' },
  'filesystem.used_bytes': { keyedBy: 'mount', unit: 'bytes', prometheus: 'sutazai_host_filesystem_used_bytes' },
  'filesystem.total_bytes': { keyedBy: 'mount', unit: 'bytes', prometheus: 'sutazai_host_filesystem_size_bytes' },
  'filesystem.used_percent': { keyedBy: 'mount', unit: 'percent', prometheus: null },
  'gpu.utilization_percent': { keyedBy: 'gpu', unit: 'percent', prometheus: 'sutazai_gpu_utilization_percent' },
  'gpu.memory_used_bytes': { keyedBy: 'gpu', unit: 'bytes', prometheus: 'sutazai_gpu_memory_used_bytes' },
  'gpu.memory_total_bytes': { keyedBy: 'gpu', unit: 'bytes', prometheus: 'sutazai_gpu_memory_total_bytes' },
  'gpu.temperature_celsius': { keyedBy: 'gpu', unit: 'celsius', prometheus: 'sutazai_gpu_temperature_celsius' },
  'process.cpu_percent': { keyedBy: 'instance', unit: 'percent', prometheus: 'sutazai_process_cpu_percent' },
  'process.rss_bytes': { keyedBy: 'instance', unit: 'bytes', prometheus: 'sutazai_process_rss_bytes' },
  'process.threads': { keyedBy: 'instance', unit: 'count', prometheus: 'sutazai_process_threads' },
  'process.open_files': { keyedBy: 'instance', unit: 'count', prometheus: 'sutazai_process_open_fds' },
  'process.restarts': {
    keyedBy: 'instance',
    unit: 'count',
    prometheus: 'sutazai_process_restarts_total',
    prometheusLabels: { reason: 'crash' },
  },
  'process.operator_restarts': {
    keyedBy: 'instance',
    unit: 'count',
    prometheus: 'sutazai_process_restarts_total',
    prometheusLabels: { reason: 'operator' },
  },
  'process.up': { keyedBy: 'instance', unit: 'boolean', prometheus: 'sutazai_process_up' },
  'process.log_dropped_lines': { keyedBy: 'instance', unit: 'count', prometheus: 'sutazai_process_log_dropped_lines_total' },
};

/** Longest series name accepted: a family and a key (a mount path or an instance) with room to spare. */
export const MAX_SERIES_NAME_LENGTH = 512;

/** The name of one series of a keyed family: `family:key`. */
export function seriesName(family: HostKeyedFamily | ProcessFamily, key: string | number): string {
  return `${family}:${key}`;
}

export interface ParsedSeriesName {
  readonly family: SeriesFamilyName;
  /** null for a host series; the core, mount, GPU or instance otherwise. */
  readonly key: string | null;
}

function isFamilyName(text: string): text is SeriesFamilyName {
  return Object.prototype.hasOwnProperty.call(SERIES_FAMILIES, text);
}

/**
 * A series name split into family and key; null for a name outside the vocabulary: an
 * unknown family, a keyed family without its key (or a host series with one), a key with
 * control characters, or a name over MAX_SERIES_NAME_LENGTH.
 */
export function parseSeriesName(name: string): ParsedSeriesName | null {
  if (name.length === 0 || name.length > MAX_SERIES_NAME_LENGTH) return null;
  const colon = name.indexOf(':');
  const family = colon === -1 ? name : name.slice(0, colon);
  if (!isFamilyName(family)) return null;
  const keyed = SERIES_FAMILIES[family].keyedBy !== null;
  if (colon === -1) return keyed ? null : { family, key: null };
  const key = name.slice(colon + 1);
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (!keyed || key.length === 0 || /[\u0000-\u001f\u007f]/.test(key)) return null;
  return { family, key };
}

export function isSeriesName(name: string): boolean {
  return parseSeriesName(name) !== null;
}

/** Whether a series is a process's (and so keyed by an instance). */
export function isProcessSeries(name: string): boolean {
  return parseSeriesName(name)?.family.startsWith('process.') === true;
}

/** One tick of the sampler: the host and every instance (what streamMetrics, the ring buffer and /metrics carry). */
/** A mounted local filesystem (agents-runtime/src/metrics/proc-readers.ts says which count). */
export interface FilesystemMetrics {
  mount: string;
  usedBytes: number;
  totalBytes: number;
}

/** An NVIDIA GPU as nvidia-smi reports it; null where it reports "[N/A]" or "[Not Supported]". */
export interface GpuMetrics {
  index: number;
  name: string;
  utilizationPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  temperatureC: number | null;
}

/** The host at one tick (agents-runtime/src/metrics/host-sampler.ts). Rates are per second over the last interval. */
export interface HostMetrics {
  /** Busy share of all cores together, 0..100. */
  cpuPercent: number;
  /** Busy share of each core, 0..100, cpu0 first. */
  perCorePercent: number[];
  loadOneMinute: number;
  loadFiveMinutes: number;
  loadFifteenMinutes: number;
  /** MemTotal - MemAvailable. */
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  swapUsedBytes: number;
  swapTotalBytes: number;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
  filesystems: FilesystemMetrics[];
  /** Empty when there is no NVIDIA GPU or nvidia-smi is not answering. */
  gpus: GpuMetrics[];
}

/** One instance at one tick, summed over its process group (agents-runtime/src/metrics/process-sampler.ts). */
export interface InstanceMetrics {
  instance: string;
  /** The manifest process, e.g. agent. */
  process: string;
  /** null when not running; then cpuPercent, rssBytes and threads are 0 and openFiles is null. */
  pid: number | null;
  /** Percent of ONE core, as top counts it: two busy cores read 200. */
  cpuPercent: number;
  rssBytes: number;
  threads: number;
  /** null when /proc/<pid>/fd cannot be read (another user's process) or not running. */
  openFiles: number | null;
  /** Restarts after a crash (exit or failed health check): the restarts counter's reason="crash". */
  restarts: number;
  /** Restarts the operator asked for: reason="operator". */
  operatorRestarts: number;
  /** null when not running. */
  uptimeMs: number | null;
  /** Log lines the log collector could not write (series-names.ts PROCESS_SERIES.logDroppedLines); absent under the other stampers. */
  logDroppedLines?: number;
}

export interface MetricSample {
  atMs: number;
  host: HostMetrics;
  instances: InstanceMetrics[];
}

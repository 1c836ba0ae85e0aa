/**
 * What the daemon implements for the gRPC server, in plain TypeScript (numbers, string
 * unions, null), and the one place where these types meet the generated message types.
 * The server never hands generated types to the daemon nor plain ones to the wire.
 */
import type { GetInfoResponse } from '../generated/sutazai/runtime/v1/GetInfoResponse';
import type { GpuMetrics as WireGpuMetrics } from '../generated/sutazai/runtime/v1/GpuMetrics';
import type { InstanceMetrics as WireInstanceMetrics } from '../generated/sutazai/runtime/v1/InstanceMetrics';
import type { InstanceStatus as WireInstanceStatus } from '../generated/sutazai/runtime/v1/InstanceStatus';
import type { LogLine as WireLogLine } from '../generated/sutazai/runtime/v1/LogLine';
import type { MetricSample as WireMetricSample } from '../generated/sutazai/runtime/v1/MetricSample';
import type { ProcessState__Output as WireProcessState } from '../generated/sutazai/runtime/v1/ProcessState';
import type { ProcessStatus as WireProcessStatus } from '../generated/sutazai/runtime/v1/ProcessStatus';
import type { RuntimeErrorInfo } from '../generated/sutazai/runtime/v1/RuntimeErrorInfo';
import type { RuntimeEvent as WireRuntimeEvent } from '../generated/sutazai/runtime/v1/RuntimeEvent';
import type { RuntimeErrorCode } from '../runtime-error';

/** The supervisor's states (agents-runtime/src/supervisor/states.ts). */
export type ProcessState = 'stopped' | 'starting' | 'running' | 'backoff' | 'stopping' | 'exited' | 'crash-loop';

export interface ErrorInfo {
  code: RuntimeErrorCode;
  message: string;
  remedy: string;
}

export interface HostFacts {
  hostname: string;
  platform: string;
  osRelease: string;
  arch: string;
  cpuCount: number;
  memoryTotalBytes: number;
  nodeVersion: string;
}

export interface RuntimeInfo {
  runtimeVersion: string;
  startedAtMs: number;
  uptimeMs: number;
  /** null when no manifest is loaded. */
  manifestVersion: string | null;
  /** null when the runtime was not installed from a release bundle. */
  bundleVersion: string | null;
  host: HostFacts;
}

export interface InstanceStatus {
  /** `<process>-<n>`, e.g. agent-1. */
  instance: string;
  state: ProcessState;
  pid: number | null;
  restarts: number;
  startedAtMs: number | null;
  exitCode: number | null;
  lastError: ErrorInfo | null;
}

export interface ProcessStatus {
  name: string;
  replicas: number;
  instances: InstanceStatus[];
}

export interface RuntimeEvent {
  atMs: number;
  /** Dotted kind, e.g. process.state, process.exit, manifest.updated. */
  kind: string;
  process: string | null;
  instance: string | null;
  /** For process.state: the state entered. */
  state: ProcessState | null;
  message: string;
  error: ErrorInfo | null;
}

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
  restarts: number;
  /** null when not running. */
  uptimeMs: number | null;
}

export interface MetricSample {
  atMs: number;
  host: HostMetrics;
  instances: InstanceMetrics[];
}

export interface LogLine {
  atMs: number;
  instance: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Stops a subscription; safe to call more than once. */
export type Unsubscribe = () => void;

/**
 * Implemented by the daemon. Methods throw (or reject with) RuntimeError; the server turns
 * the code into a gRPC status (see grpc-status.ts). Subscriptions throw synchronously when
 * they cannot start (e.g. PROCESS_NOT_FOUND for tailLogs).
 */
export interface RuntimeApi {
  info(): RuntimeInfo;
  listProcesses(): ProcessStatus[];
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  scale(name: string, replicas: number): Promise<void>;
  updateManifest(yaml: string): Promise<void>;
  watchEvents(onEvent: (event: RuntimeEvent) => void): Unsubscribe;
  /** Samples at or after `sinceMs` still in the ring buffer first, then live ones. 0: live only. */
  streamMetrics(sinceMs: number, onSample: (sample: MetricSample) => void): Unsubscribe;
  /**
   * The last `lines` lines, then (with `follow`) new ones. `onEnd` ends the stream: without
   * `follow` once the last line is sent, or with an error when reading fails.
   */
  tailLogs(instance: string, lines: number, follow: boolean, onLine: (line: LogLine) => void, onEnd: (error?: Error) => void): Unsubscribe;
  health(): 'SERVING' | 'NOT_SERVING';
}

// ---- plain -> wire --------------------------------------------------------------------

const WIRE_STATE: Record<ProcessState, WireProcessState> = {
  stopped: 'PROCESS_STATE_STOPPED',
  starting: 'PROCESS_STATE_STARTING',
  running: 'PROCESS_STATE_RUNNING',
  backoff: 'PROCESS_STATE_BACKOFF',
  stopping: 'PROCESS_STATE_STOPPING',
  exited: 'PROCESS_STATE_EXITED',
  'crash-loop': 'PROCESS_STATE_CRASH_LOOP',
};

/** int64 travels as a decimal string (`--longs=String`). */
function long(value: number): string {
  return String(Math.trunc(value));
}

function errorInfoToWire(error: ErrorInfo | null): RuntimeErrorInfo | null {
  return error === null ? null : { code: error.code, message: error.message, remedy: error.remedy };
}

export function runtimeInfoToWire(info: RuntimeInfo): GetInfoResponse {
  return {
    runtimeVersion: info.runtimeVersion,
    startedAtMs: long(info.startedAtMs),
    uptimeMs: long(info.uptimeMs),
    manifestVersion: info.manifestVersion ?? '',
    bundleVersion: info.bundleVersion ?? '',
    host: { ...info.host, memoryTotalBytes: long(info.host.memoryTotalBytes) },
  };
}

function instanceToWire(instance: InstanceStatus): WireInstanceStatus {
  const wire: WireInstanceStatus = {
    instance: instance.instance,
    state: WIRE_STATE[instance.state],
    pid: instance.pid ?? 0,
    restarts: instance.restarts,
    startedAtMs: long(instance.startedAtMs ?? 0),
    lastError: errorInfoToWire(instance.lastError),
  };
  if (instance.exitCode !== null) wire.exitCode = instance.exitCode;
  return wire;
}

export function processStatusToWire(status: ProcessStatus): WireProcessStatus {
  return { name: status.name, replicas: status.replicas, instances: status.instances.map(instanceToWire) };
}

export function eventToWire(event: RuntimeEvent): WireRuntimeEvent {
  return {
    atMs: long(event.atMs),
    kind: event.kind,
    process: event.process ?? '',
    instance: event.instance ?? '',
    state: event.state === null ? 'PROCESS_STATE_UNSPECIFIED' : WIRE_STATE[event.state],
    message: event.message,
    error: errorInfoToWire(event.error),
  };
}

function gpuToWire(gpu: GpuMetrics): WireGpuMetrics {
  const wire: WireGpuMetrics = { index: gpu.index, name: gpu.name };
  if (gpu.utilizationPercent !== null) wire.utilizationPercent = gpu.utilizationPercent;
  if (gpu.memoryUsedBytes !== null) wire.memoryUsedBytes = long(gpu.memoryUsedBytes);
  if (gpu.memoryTotalBytes !== null) wire.memoryTotalBytes = long(gpu.memoryTotalBytes);
  if (gpu.temperatureC !== null) wire.temperatureC = gpu.temperatureC;
  return wire;
}

function instanceMetricsToWire(i: InstanceMetrics): WireInstanceMetrics {
  const wire: WireInstanceMetrics = {
    instance: i.instance,
    process: i.process,
    pid: i.pid ?? 0,
    cpuPercent: i.cpuPercent,
    rssBytes: long(i.rssBytes),
    threads: i.threads,
    restarts: i.restarts,
    uptimeMs: long(i.uptimeMs ?? 0),
  };
  if (i.openFiles !== null) wire.openFiles = i.openFiles;
  return wire;
}

export function metricSampleToWire(sample: MetricSample): WireMetricSample {
  const h = sample.host;
  return {
    atMs: long(sample.atMs),
    host: {
      cpuPercent: h.cpuPercent,
      perCorePercent: h.perCorePercent,
      memoryUsedBytes: long(h.memoryUsedBytes),
      memoryTotalBytes: long(h.memoryTotalBytes),
      loadOneMinute: h.loadOneMinute,
      loadFiveMinutes: h.loadFiveMinutes,
      loadFifteenMinutes: h.loadFifteenMinutes,
      swapUsedBytes: long(h.swapUsedBytes),
      swapTotalBytes: long(h.swapTotalBytes),
      diskReadBytesPerSec: h.diskReadBytesPerSec,
      diskWriteBytesPerSec: h.diskWriteBytesPerSec,
      netRxBytesPerSec: h.netRxBytesPerSec,
      netTxBytesPerSec: h.netTxBytesPerSec,
      filesystems: h.filesystems.map((f) => ({ mount: f.mount, usedBytes: long(f.usedBytes), totalBytes: long(f.totalBytes) })),
      gpus: h.gpus.map(gpuToWire),
    },
    instances: sample.instances.map(instanceMetricsToWire),
  };
}

export function logLineToWire(line: LogLine): WireLogLine {
  return {
    atMs: long(line.atMs),
    instance: line.instance,
    stream: line.stream === 'stdout' ? 'LOG_STREAM_STDOUT' : 'LOG_STREAM_STDERR',
    text: line.text,
  };
}

// ---- wire -> plain (request fields) ---------------------------------------------------

/** `since_ms` as it arrives (`--longs=String`); garbage or negatives count as 0 (live only). */
export function sinceMsFromWire(value: string): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * What the daemon implements for the gRPC server, over the runtime's own plain types
 * (numbers, string unions, null; each defined by the part that produces it), and the one
 * place where those meet the generated message types. The server never hands generated
 * types to the daemon nor plain ones to the wire.
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
import type { InstanceLogLine } from '../logs/instance-log-line';
import type { GpuMetrics, InstanceMetrics, MetricSample } from '../metrics/metric-sample';
import type { RuntimeEvent } from '../daemon/runtime-event';
import type { RuntimeInfo } from '../daemon/runtime-info';
import type { ErrorInfo } from '../runtime-error';
import type { InstanceStatus, ProcessStatus } from '../supervisor/process-status';
import type { State } from '../supervisor/states';

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
  /** Events from the first one raised at or after `sinceMs` still in the ring first, then live ones. 0: live only. */
  watchEvents(sinceMs: number, onEvent: (event: RuntimeEvent) => void): Unsubscribe;
  /** Samples at or after `sinceMs` still in the ring buffer first, then live ones. 0: live only. */
  streamMetrics(sinceMs: number, onSample: (sample: MetricSample) => void): Unsubscribe;
  /**
   * The last `lines` lines, then (with `follow`) new ones. `onEnd` ends the stream: without
   * `follow` once the last line is sent, or with an error when reading fails. `maxBytes`
   * above 0 without `follow`: instead of `lines`, the last whole lines within as many bytes
   * (log-tail's tailBytes, capped at TAIL_BYTES_CAP).
   */
  tailLogs(
    instance: string,
    lines: number,
    follow: boolean,
    onLine: (line: InstanceLogLine) => void,
    onEnd: (error?: Error) => void,
    maxBytes?: number,
  ): Unsubscribe;
  health(): 'SERVING' | 'NOT_SERVING';
}

// ---- plain -> wire --------------------------------------------------------------------

const WIRE_STATE: Record<State, WireProcessState> = {
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
    runStartedAtMs: long(event.runStartedAtMs),
    sequence: long(event.sequence),
    lastLines: [...event.lastLines],
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
    operatorRestarts: i.operatorRestarts,
  };
  if (i.openFiles !== null) wire.openFiles = i.openFiles;
  if (i.logDroppedLines !== undefined) wire.logDroppedLines = long(i.logDroppedLines);
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

export function logLineToWire(line: InstanceLogLine): WireLogLine {
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

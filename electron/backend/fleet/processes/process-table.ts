import type { FleetInstance, FleetProcess, FleetProcessState } from '../../../contract';
import type { InstanceMetrics__Output, InstanceStatus__Output, ProcessStatus__Output } from '../../../../agents-runtime/src/wire';

const STATES: Record<string, FleetProcessState> = {
  PROCESS_STATE_STOPPED: 'stopped',
  PROCESS_STATE_STARTING: 'starting',
  PROCESS_STATE_RUNNING: 'running',
  PROCESS_STATE_BACKOFF: 'backoff',
  PROCESS_STATE_STOPPING: 'stopping',
  PROCESS_STATE_EXITED: 'exited',
  PROCESS_STATE_CRASH_LOOP: 'crash-loop',
};

/** The runtime's process list as the live table shows it, with CPU and RSS from its latest sample where at hand. */
export function describeProcesses(
  processes: readonly ProcessStatus__Output[],
  sample: ReadonlyMap<string, InstanceMetrics__Output>,
  nowMs: number,
): FleetProcess[] {
  return processes.map((process) => ({
    name: process.name,
    replicas: process.replicas,
    instances: process.instances.map((instance) => describeInstance(process.name, instance, sample.get(instance.instance), nowMs)),
  }));
}

function describeInstance(
  processName: string,
  instance: InstanceStatus__Output,
  metrics: InstanceMetrics__Output | undefined,
  nowMs: number,
): FleetInstance {
  const state = STATES[instance.state] ?? 'unknown';
  const running = state === 'running' && instance.pid > 0;
  const startedAtMs = Number(instance.startedAtMs) > 0 ? Number(instance.startedAtMs) : null;
  const sampledUptime = metrics && metrics.pid === instance.pid ? Number(metrics.uptimeMs) : null;
  // `<process>-<n>`; a process of one replica runs as its own name.
  const replica = instance.instance.startsWith(`${processName}-`) ? Number(instance.instance.slice(processName.length + 1)) : 1;
  const lastError = instance.lastError?.code ? instance.lastError : null;
  return {
    instance: instance.instance,
    replica: Number.isInteger(replica) && replica > 0 ? replica : 1,
    state,
    health: state === 'running' ? 'healthy' : state === 'stopped' || state === 'stopping' ? 'stopped' : 'unhealthy',
    pid: instance.pid > 0 ? instance.pid : null,
    startedAtMs,
    uptimeMs: !running ? null : (sampledUptime ?? (startedAtMs !== null ? Math.max(0, nowMs - startedAtMs) : null)),
    restarts: instance.restarts,
    cpuPercent: running && metrics && metrics.pid === instance.pid ? Math.max(0, metrics.cpuPercent) : null,
    rssBytes: running && metrics && metrics.pid === instance.pid ? Number(metrics.rssBytes) : null,
    exitCode: instance.exitCode ?? null,
    lastError: lastError ? { code: lastError.code, message: lastError.message, remedy: lastError.remedy } : null,
  };
}

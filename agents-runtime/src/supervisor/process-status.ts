/** What the runtime reports of each managed process and its instances (listProcesses; the daemon builds it from the supervisor's snapshots). */
import type { ErrorInfo } from '../runtime-error';
import type { State } from './states';

export interface InstanceStatus {
  /** `<process>-<n>`, e.g. agent-1. */
  instance: string;
  state: State;
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

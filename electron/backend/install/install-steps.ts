import type { ApiErrorBody } from '../../contract';
import type { InstallMode, ServiceKind } from '../store/installs-repo';
import type { InstallRole } from './install-file';

/** Every host goes through these, in this order. */
export const STEPS = ['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record'] as const;
export type StepName = (typeof STEPS)[number];

/**
 * A step in a plan: `done` when the host (or the record) already shows its result,
 * `todo` when apply will do it, `check` for a check apply runs every time (free space,
 * health), `blocked` when apply would stop there; `detail` says what was found.
 */
export type PlannedState = 'done' | 'todo' | 'check' | 'blocked';

export interface PlannedStep {
  step: StepName;
  state: PlannedState;
  detail: string;
}

export interface HostPlan {
  host: string;
  role: InstallRole;
  gpu: boolean;
  /** Null when the host could not be reached or checked. */
  mode: InstallMode | null;
  root: string | null;
  service: ServiceKind | null;
  privilege: string | null;
  steps: PlannedStep[];
  /** Why the host cannot be installed as it is (unreachable, no space, ...). */
  error: ApiErrorBody | null;
}

export interface InstallPlan {
  install: string;
  bundle: { name: string; version: string; sha256: string; sizeBytes: number };
  /** True when every step of every host is already done. */
  upToDate: boolean;
  hosts: HostPlan[];
}

/** How a step ended in an apply. `already-done`: the host showed its result, nothing was changed. */
export type StepOutcome = 'running' | 'done' | 'already-done' | 'failed' | 'skipped';

export type InstallEvent =
  | { kind: 'step'; host: string; step: StepName; status: StepOutcome; detail: string }
  | { kind: 'upload'; host: string; bytesOnHost: number; totalBytes: number; resumedFrom: number; bytesSent: number }
  | { kind: 'host'; host: string; outcome: 'installed' | 'unchanged' | 'failed'; error: ApiErrorBody | null };

export interface HostApplyResult {
  host: string;
  outcome: 'installed' | 'unchanged' | 'failed';
  steps: Array<{ step: StepName; status: Exclude<StepOutcome, 'running'>; detail: string }>;
  upload: { resumedFrom: number; bytesSent: number } | null;
  error: ApiErrorBody | null;
}

export interface ApplyResult {
  install: string;
  bundle: { name: string; version: string };
  /** No host changed: every step of every host was already done. */
  unchanged: boolean;
  hosts: HostApplyResult[];
}

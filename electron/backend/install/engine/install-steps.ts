import type { ApiErrorBody } from '../../../contract';
import type { InstallMode, ServiceKind } from '../../store/installs-repo';
import type { InstallRole } from '../definition/install-file';

/** Every host goes through these, in this order. */
export const STEPS = ['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record'] as const;
export type StepName = (typeof STEPS)[number];

/**
 * The steps that change what runs on a host. In a rolling upgrade (some host already runs
 * another release) hosts take them one at a time, in the install file's order, while the
 * steps before them (upload, unpack, configure: a new release directory beside the running
 * one) may run ahead on several hosts; a failure among them returns the host to its
 * previous release and stops the rollout.
 */
export const SWITCH_STEPS: ReadonlySet<StepName> = new Set(['service', 'start', 'health', 'switch', 'record']);

/** How a host is brought back to a kept release: by an automatic rollback, or on request. */
export const ACTIVATE_STEPS = ['read', 'service', 'start', 'health', 'switch', 'record'] as const;
export type ActivateStep = (typeof ACTIVATE_STEPS)[number];

/** What uninstall does on a host, in this order. */
export const UNINSTALL_STEPS = ['connect', 'stop', 'remove', 'forget'] as const;
export type UninstallStep = (typeof UNINSTALL_STEPS)[number];

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
  /** The release `current` points at on the host now; null on a fresh host (or one not reached). */
  currentRelease: string | null;
  steps: PlannedStep[];
  /** Why the host cannot be installed as it is (unreachable, no space, ...). */
  error: ApiErrorBody | null;
}

export interface InstallPlan {
  install: string;
  bundle: { name: string; version: string; sha256: string; sizeBytes: number };
  /** True when every step of every host is already done. */
  upToDate: boolean;
  /**
   * A rolling upgrade: some host runs another release, so hosts are switched one at a time
   * (in the file's order), each health-gated, and a host that fails returns to its release
   * and stops the rollout.
   */
  rolling: boolean;
  /** Releases newer than the bundle that hosts run, oldest first: applying it is a downgrade, refused unless allowed. Empty when it is not one. */
  downgradeFrom: string[];
  hosts: HostPlan[];
}

/** How a step ended in an apply. `already-done`: the host showed its result, nothing was changed. */
export type StepOutcome = 'running' | 'done' | 'already-done' | 'failed' | 'skipped';

/**
 * How a host's apply ended. A failed host's error code says more: INSTALL_ROLLED_BACK when
 * the new release failed after the running one was touched and the host is back on that
 * release (healthy again), INSTALL_ROLLOUT_STOPPED when a rolling upgrade stopped at an
 * earlier host before this one switched (it still runs its release; the new one may already
 * be uploaded and unpacked beside it).
 */
export type HostOutcome = 'installed' | 'unchanged' | 'failed';

export type InstallEvent =
  | { kind: 'step'; host: string; step: StepName; status: StepOutcome; detail: string }
  | { kind: 'upload'; host: string; bytesOnHost: number; totalBytes: number; resumedFrom: number; bytesSent: number }
  | { kind: 'host'; host: string; outcome: HostOutcome; error: ApiErrorBody | null }
  /** A host being brought back to a kept release: `auto-rollback` in an apply, `rollback` on request. */
  | {
      kind: 'activate';
      host: string;
      purpose: 'auto-rollback' | 'rollback';
      version: string;
      step: ActivateStep;
      status: StepOutcome;
      detail: string;
    }
  | { kind: 'uninstall'; host: string; step: UninstallStep; status: StepOutcome; detail: string };

export interface HostApplyResult {
  host: string;
  outcome: HostOutcome;
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

export interface HostRollbackResult {
  host: string;
  /** The release that was current before, and the one asked for; null where the host was not reached. */
  from: string | null;
  to: string | null;
  /**
   * `rolled-back`: the host runs `to`, healthy, and it is current. `unchanged`: `to` was
   * already current. `returned`: `to` did not become healthy and the host is back on `from`.
   * `failed`: the host could not be brought to either. `stopped`: not tried, an earlier host failed.
   */
  outcome: 'rolled-back' | 'unchanged' | 'returned' | 'failed' | 'stopped';
  /** What runs now, as the runtime reported it; null when it was not asked. */
  health: string | null;
  error: ApiErrorBody | null;
}

export interface RollbackResult {
  install: string;
  hosts: HostRollbackResult[];
}

export interface HostUninstallResult {
  host: string;
  outcome: 'removed' | 'failed';
  /** The paths removed from the host, as the install had recorded them. */
  removed: string[];
  error: ApiErrorBody | null;
}

export interface UninstallResult {
  install: string;
  hosts: HostUninstallResult[];
  /** True when no host is left: the install's record and its CA key are gone too. */
  installRemoved: boolean;
}

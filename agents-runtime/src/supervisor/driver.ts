import type { HealthSpec, ProcessSpec } from '../manifest/manifest-schema';

/**
 * What the supervisor needs from the outside world. The policy (supervisor/) talks only to
 * these interfaces; src/process/ implements the driver with real process groups, and the
 * unit tests with an in-memory fake and a fake clock.
 */

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export interface RunningProcess {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: with the pid, names this process even after pid reuse. */
  startTime: string;
  onExit(listener: (exit: ExitInfo) => void): void;
}

export interface ProcessDriver {
  /** Spawns the instance in its own process group; throws RuntimeError('COMMAND_NOT_FOUND' | 'SPAWN_FAILED' | ...). */
  start(spec: ProcessSpec, instance: string): Promise<RunningProcess>;
  /** Signals the whole group, waits up to `graceMs`, then kills it; resolves once it is gone. */
  stop(proc: RunningProcess, signal: string, graceMs: number): Promise<void>;
  /** Re-adopts a process a previous daemon started, or null when it is gone or is someone else. */
  adopt?(instance: string, pid: number, startTime: string): RunningProcess | null;
}

export interface HealthProbe {
  /** True when healthy; false (never a throw) when not, or when `signal` aborts. */
  check(spec: HealthSpec, instance: string, signal: AbortSignal): Promise<boolean>;
}

/** Time as the supervisor sees it; the tests move it by hand. */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    // setTimeout(fn, 0) waits at least 1 ms; a zero delay (backoff initial_ms 0) runs on the next turn instead.
    if (ms <= 0) {
      const immediate = setImmediate(fn);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { RuntimeError } from '../runtime-error';
import type { ProcessSpec } from '../manifest/manifest-schema';
import type { ExitInfo, ProcessDriver, RunningProcess } from '../supervisor/driver';
import type { LogFiles } from '../logs/log-files';
import { TIMESTAMP_SHIM_SOURCE } from '../logs/timestamp-shim';
import { stopProcessGroup } from './group-stop';
import { formatStartTime, isSameProcess, processStartTime, scanProcessesByEnv, type ProcStat } from './proc-identity';
import { resolveCommand } from './resolve-command';

/** Exec-time environment markers: they let a restarted daemon find its instances, and stop find setsid escapes. */
export const RUNTIME_ID_ENV = 'SUTAZAI_RUNTIME_ID';
export const INSTANCE_ENV = 'SUTAZAI_RUNTIME_INSTANCE';

export type DriverSpec = Pick<ProcessSpec, 'name' | 'command' | 'args' | 'env' | 'cwd' | 'stop'>;

export interface LinuxProcessDriverOptions {
  logs: LogFiles;
  /** Names this runtime's processes in their environment; one per state file (two runtimes on a machine never adopt each other's). */
  runtimeId: string;
  /** 'shim' (default): lines stamped by timestamp-shim.ts; 'raw': the child writes straight to the file, no stamps, no extra process. */
  timestamps?: 'shim' | 'raw';
  /** Polling period for adopted processes (default 200 ms). */
  adoptPollMs?: number;
  /** Grace for leftovers of an instance whose leader exited on its own (default 5 s). */
  leftoverGraceMs?: number;
  /** Environment the children inherit under their spec's env (default: the daemon's). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Node binary that runs the shim (default: the daemon's own). */
  nodePath?: string;
}

/** A process found by its environment marker: a group leader carrying this runtime's id. */
export interface DiscoveredProcess {
  instance: string;
  pid: number;
  startTime: string;
}

/**
 * The real driver: each instance is its own session and process group (`detached`), its
 * stdout/stderr go to a log file the daemon opened for it (never a pipe to the daemon), and
 * it is unref'd, so a dead or restarting daemon leaves it running.
 *
 * Exit detection: our own children report through Node's 'exit' event (libuv reaps them).
 * Adopted processes are not our children, so there is no SIGCHLD and Node 20 has no pidfd
 * API: they are polled with isSameProcess (pid + start time) every adoptPollMs; their exit
 * status was collected by whoever reaps them (init), so it is reported as unknown (nulls).
 *
 * When a leader exits on its own, leftovers of its group (and marked escapees) get the
 * stop signal, then SIGKILL, before the exit is reported, so a restart never overlaps them.
 */
export class LinuxProcessDriver implements ProcessDriver {
  private readonly opts: Required<Omit<LinuxProcessDriverOptions, 'baseEnv'>> & { baseEnv: NodeJS.ProcessEnv };

  constructor(options: LinuxProcessDriverOptions) {
    this.opts = {
      timestamps: 'shim',
      adoptPollMs: 200,
      leftoverGraceMs: 5000,
      nodePath: process.execPath,
      baseEnv: process.env,
      ...options,
    };
  }

  async start(spec: DriverSpec, instance: string): Promise<RunningProcess> {
    const cwd = spec.cwd ?? process.cwd();
    if (!isDirectory(cwd)) {
      throw new RuntimeError('SPAWN_FAILED', `cannot start ${instance}: working directory ${cwd} does not exist`, 'create the directory or fix `cwd` in the manifest');
    }
    const env: NodeJS.ProcessEnv = { ...this.opts.baseEnv, ...spec.env, [RUNTIME_ID_ENV]: this.opts.runtimeId, [INSTANCE_ENV]: instance };
    const resolved = resolveCommand(spec.command, env.PATH, cwd);
    this.opts.logs.ensureWritable();
    const fd = this.opts.logs.openForChild(instance);

    let child: ChildProcess;
    try {
      const [file, argv] =
        this.opts.timestamps === 'shim' ? [this.opts.nodePath, ['-e', TIMESTAMP_SHIM_SOURCE, '--', resolved, ...spec.args]] : [resolved, spec.args];
      child = spawn(file, argv, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (cause) {
      throw new RuntimeError('SPAWN_FAILED', `cannot start ${instance}: ${(cause as Error).message}`, 'check the command, its permissions and the system limits (ulimit -u, memory)', { cause });
    } finally {
      fs.closeSync(fd); // the child holds its own copy
    }
    child.unref();
    const pid = child.pid!;
    const startTime = processStartTime(pid) ?? formatStartTime('0');
    return new OwnChild(this, instance, pid, startTime, child, spec.stop.signal);
  }

  async stop(proc: RunningProcess, signal: string, graceMs: number): Promise<void> {
    const tracked = proc instanceof TrackedProcess ? proc : undefined;
    tracked?.markStopping();
    const instance = tracked?.instance;
    const result = await stopProcessGroup({
      pgid: proc.pid,
      signal,
      graceMs,
      escapees: instance === undefined ? undefined : () => this.escapees(instance, proc.pid),
      leaderGone: () => (tracked ? tracked.leaderGone() : !isSameProcess(proc.pid, proc.startTime)),
    });
    if (result.survivors.length > 0) {
      throw new RuntimeError('INTERNAL', `processes ${result.survivors.join(', ')} of ${instance ?? proc.pid} survived SIGKILL`, 'they are likely stuck in uninterruptible I/O (state D); check `ps -o pid,stat,wchan` and the storage they use');
    }
  }

  adopt(instance: string, pid: number, startTime: string): RunningProcess | null {
    if (!isSameProcess(pid, startTime)) return null;
    return new AdoptedProcess(this, instance, pid, startTime, this.opts.adoptPollMs);
  }

  /** Group leaders carrying this runtime's marker, oldest first: what a crashed daemon left running. */
  discover(): DiscoveredProcess[] {
    return scanProcessesByEnv(RUNTIME_ID_ENV, this.opts.runtimeId)
      .filter(({ stat }) => stat.pgid === stat.pid)
      .sort((a, b) => compareTicks(a.stat.startTicks, b.stat.startTicks))
      .flatMap(({ stat, env }) => {
        const instance = env.get(INSTANCE_ENV);
        return instance === undefined ? [] : [{ instance, pid: stat.pid, startTime: formatStartTime(stat.startTicks) }];
      });
  }

  /** Marked processes of `instance` that left group `pgid` (setsid/setpgid escapes). */
  escapees(instance: string, pgid: number): ProcStat[] {
    return scanProcessesByEnv(INSTANCE_ENV, instance)
      .filter(({ stat, env }) => env.get(RUNTIME_ID_ENV) === this.opts.runtimeId && stat.pgid !== pgid)
      .map(({ stat }) => stat);
  }

  /** Called when a leader exited on its own: clears what it left behind, bounded. */
  async cleanupLeftovers(proc: TrackedProcess, signal: string): Promise<void> {
    await stopProcessGroup({
      pgid: proc.pid,
      signal,
      graceMs: this.opts.leftoverGraceMs,
      escapees: () => this.escapees(proc.instance, proc.pid),
    }).catch(() => undefined);
  }
}

abstract class TrackedProcess implements RunningProcess {
  private exit: ExitInfo | undefined;
  private readonly listeners: Array<(exit: ExitInfo) => void> = [];
  protected stopping = false;

  constructor(
    protected readonly driver: LinuxProcessDriver,
    readonly instance: string,
    readonly pid: number,
    readonly startTime: string,
  ) {}

  abstract leaderGone(): boolean;

  markStopping(): void {
    this.stopping = true;
  }

  onExit(listener: (exit: ExitInfo) => void): void {
    if (this.exit !== undefined) queueMicrotask(() => listener(this.exit!));
    else this.listeners.push(listener);
  }

  protected async finish(exit: ExitInfo, stopSignal: string): Promise<void> {
    if (!this.stopping) await this.driver.cleanupLeftovers(this, stopSignal);
    this.exit = exit;
    for (const l of this.listeners.splice(0)) l(exit);
  }
}

class OwnChild extends TrackedProcess {
  private exited = false;

  constructor(driver: LinuxProcessDriver, instance: string, pid: number, startTime: string, child: ChildProcess, stopSignal: string) {
    super(driver, instance, pid, startTime);
    child.once('exit', (code, signal) => {
      this.exited = true;
      void this.finish({ code, signal }, stopSignal);
    });
  }

  leaderGone(): boolean {
    return this.exited;
  }
}

class AdoptedProcess extends TrackedProcess {
  private gone = false;

  constructor(driver: LinuxProcessDriver, instance: string, pid: number, startTime: string, pollMs: number) {
    super(driver, instance, pid, startTime);
    const timer = setInterval(() => {
      if (isSameProcess(pid, startTime)) return;
      clearInterval(timer);
      this.gone = true;
      void this.finish({ code: null, signal: null }, 'SIGTERM');
    }, pollMs);
    timer.unref();
  }

  leaderGone(): boolean {
    return this.gone || !isSameProcess(this.pid, this.startTime);
  }
}

function compareTicks(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}


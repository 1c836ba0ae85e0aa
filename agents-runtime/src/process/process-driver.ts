import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import fs from 'node:fs';
import { RuntimeError } from '../runtime-error';
import type { ProcessSpec } from '../manifest/manifest-schema';
import type { ExitInfo, ProcessDriver, RunningProcess } from '../supervisor/driver';
import type { LogFiles } from '../logs/log-files';
import type { LogTimestamps } from '../wire/config-enums';
import { TIMESTAMP_SHIM_SOURCE } from '../logs/timestamp-shim';
import { BASH_LOG_LOOP, BASH_LOGGER_NAME, findStamperBash, loggerEnv } from '../logs/bash-stamper';
import { defaultFifoDir, findMkfifo, LogCollectorClient, type CollectorCommand } from '../logs/log-collector-client';
import { stopProcessGroup } from './group-stop';
import { Lifelines } from './lifelines';
import {
  compareTicks,
  formatStartTime,
  isSameProcess,
  processGroupMembers,
  processStartTime,
  readEnviron,
  scanProcessesByEnv,
  scanProcessesByEnvAsync,
  type ProcStat,
} from './proc-identity';
import { resolveCommand } from './resolve-command';

/** How long an exit waits for the loggers to write the last lines (normally a millisecond or two). */
const LOGGER_DRAIN_MS = 250;

/** Exec-time environment markers: they let a restarted daemon find its instances, and stop find setsid escapes. */
export const RUNTIME_ID_ENV = 'SUTAZAI_RUNTIME_ID';
export const INSTANCE_ENV = 'SUTAZAI_RUNTIME_INSTANCE';
/** One value per spawn: tells escapees of an earlier run of an instance from those of the current one. */
export const INCARNATION_ENV = 'SUTAZAI_RUNTIME_INCARNATION';

export type DriverSpec = Pick<ProcessSpec, 'name' | 'command' | 'args' | 'env' | 'cwd' | 'stop'>;

export interface LinuxProcessDriverOptions {
  logs: LogFiles;
  /** Names this runtime's processes in their environment; one per state file (two runtimes on a machine never adopt each other's). */
  runtimeId: string;
  /**
   * How lines get their timestamps. 'auto' (default): 'collector' when mkfifo is there, else
   * 'bash' when a bash 5+ is found, else 'node'.
   * 'bash': bash-stamper.ts (two forked shells per instance, the program keeps the leader pid);
   * 'node': the Node shim, timestamp-shim.ts (one Node process per instance, faster for chatty
   * programs); 'collector': one log collector process for the whole runtime reads every
   * instance's FIFOs (log-collector.ts; no process per instance); 'raw': the child writes
   * straight to the file, no stamps, no extra process.
   */
  timestamps?: LogTimestamps;
  /**
   * For 'collector': where the FIFOs and the collector's socket live (the daemon's is
   * `<state_dir>/log-fifos`; default: a directory of this runtime id under the temp dir) and
   * how to start the collector (default: log-collector-client.ts's defaultCollectorCommand);
   * onFallback is told why when the native collector cannot run after all and the Node one runs.
   */
  collector?: { fifoDir?: string; command?: CollectorCommand; onFallback?: (problem: string) => void };
  /** Where to look for a bash 5+ for 'auto' and 'bash' (default: /bin, /usr/bin, /usr/local/bin). */
  bashCandidates?: readonly string[];
  /** Where 'auto' looks for mkfifo, which the log collector needs (default: /usr/bin, /bin). */
  mkfifoCandidates?: readonly string[];
  /** Polling period for adopted processes without a lifeline (default 200 ms). */
  adoptPollMs?: number;
  /**
   * Polling period for adopted processes with a lifeline (default 1 s): only for one whose
   * lifeline a descendant still holds or that closed it (lifelines.ts).
   */
  adoptFallbackPollMs?: number;
  /** Where the instances' lifelines live (the daemon's is `<state_dir>/lifelines`); without it there are none, and adopted processes are polled. */
  lifelineDir?: string;
  /** Grace for leftovers of an instance whose leader exited on its own (default 5 s). */
  leftoverGraceMs?: number;
  /** Environment the children inherit under their spec's env (default: the daemon's). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Node binary that runs the shim (default: the daemon's own). */
  nodePath?: string;
}

/** What start() fixed for an instance's runs: reused while the supervisor passes the same spec. */
interface SpawnPlan {
  spec: DriverSpec;
  cwd: string;
  env: NodeJS.ProcessEnv;
  file: string;
  argv: string[];
  /** The program spawned but its bash stamper did not: not worth a second try. */
  stamperFailed: boolean;
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
 * API: their lifeline's end-of-file tells at once (lifelines.ts), checked with
 * isSameProcess (pid + start time), which is polled every adoptFallbackPollMs for the
 * runs whose lifeline a descendant keeps, and every adoptPollMs for runs without one. Their
 * exit status was collected by whoever reaps them (init), so it is reported as unknown
 * (nulls). One handle watches a process however often it is adopted (a manifest update
 * that keeps an instance adopts it again): the supervisor it served before stops watching.
 *
 * When a leader exits on its own, leftovers of its group get the stop signal, then SIGKILL,
 * before the exit is reported, so a restart never overlaps them. The usual case, a group
 * that is empty once the leader is reaped (the log stamper loops are not in it), is seen
 * with `kill(-pgid, 0)`, one system call, so the restart is not held up by /proc scans.
 * Marked escapees (setsid descendants) are then swept right after the exit is reported, by
 * their run's incarnation marker, which a restarted run does not share; this costs one
 * /proc environ scan that no longer sits on the restart path. Only a daemonizing program
 * can overlap its restart, for the few milliseconds before the sweep. The same holds for
 * an adopted run; one started before runs carried a marker has its escapees stopped
 * before its exit is reported, as they cannot be told from a next run's afterwards.
 */
export class LinuxProcessDriver implements ProcessDriver {
  private readonly opts: Required<
    Omit<LinuxProcessDriverOptions, 'baseEnv' | 'bashCandidates' | 'mkfifoCandidates' | 'timestamps' | 'collector' | 'lifelineDir'>
  > & {
    baseEnv: NodeJS.ProcessEnv;
  };
  /** What 'auto' resolved to, fixed for the driver's life. */
  readonly timestamps: Exclude<LogTimestamps, 'auto'>;
  private readonly bashPath: string;
  /** The runtime's log collector ('collector' only). */
  private readonly collector: LogCollectorClient | null = null;
  private spawns = 0;
  /** Escapee sweeps waiting for the next /proc scan (sweepEscapees). */
  private readonly pendingSweeps: Array<{
    instance: string;
    pgid: number;
    incarnation: string;
    signal: string;
    startTicks: string | null;
  }> = [];
  private sweeping = false;
  readonly lifelines: Lifelines;
  /** The processes being watched, by pid: an adoption of one of them gets its handle. */
  private readonly watched = new Map<number, TrackedProcess>();
  /** Per instance, how its last start spawned (see start()); dropped at a failed spawn and when the instance is released. */
  private readonly plans = new Map<string, SpawnPlan>();

  constructor(options: LinuxProcessDriverOptions) {
    const { timestamps = 'auto', bashCandidates, mkfifoCandidates, collector, lifelineDir, ...rest } = options;
    this.opts = {
      adoptPollMs: 200,
      adoptFallbackPollMs: 1000,
      leftoverGraceMs: 5000,
      nodePath: process.execPath,
      baseEnv: process.env,
      ...rest,
    };
    const mkfifo = findMkfifo(mkfifoCandidates);
    this.lifelines = new Lifelines(lifelineDir === undefined ? null : { dir: lifelineDir, mkfifo });
    const collectorAuto = timestamps === 'auto' && mkfifo !== null;
    const bash = (timestamps === 'auto' && !collectorAuto) || timestamps === 'bash' ? findStamperBash(bashCandidates) : null;
    if (timestamps === 'bash' && bash === null) {
      throw new RuntimeError(
        'CONFIG_INVALID',
        'logs.timestamps is "bash" but no bash 5.0 or newer was found in /bin, /usr/bin or /usr/local/bin',
        'install bash 5, or set logs.timestamps to "node" or "auto" in the runtime config',
      );
    }
    this.timestamps = timestamps === 'auto' ? (collectorAuto ? 'collector' : bash !== null ? 'bash' : 'node') : timestamps;
    this.bashPath = bash ?? '';
    if (this.timestamps === 'collector') {
      this.collector = new LogCollectorClient({
        fifoDir: collector?.fifoDir ?? defaultFifoDir(this.opts.runtimeId),
        logDir: this.opts.logs.dir,
        limits: this.opts.logs.limits,
        runtimeId: this.opts.runtimeId,
        command: collector?.command,
        onFallback: collector?.onFallback,
      });
      // Lines adopted instances wrote while no collector ran are read now, not at the next start.
      this.collector.ensureRunning();
    }
  }

  /** file and argv to spawn for `resolved args`: under the Node shim, or the program itself. */
  private commandLine(resolved: string, args: readonly string[]): [string, string[]] {
    return this.timestamps === 'node'
      ? [this.opts.nodePath, ['-e', TIMESTAMP_SHIM_SOURCE, '--', resolved, ...args]]
      : [resolved, [...args]];
  }

  /** One bash loop stamping what comes out of `pipe` into the log file `fd` (bash-stamper.ts). */
  private spawnLogger(tag: 'out' | 'err', pipe: Readable, fd: number, instance: string): ChildProcess {
    const logger = spawn(this.bashPath, ['-c', BASH_LOG_LOOP, BASH_LOGGER_NAME, tag], {
      cwd: '/',
      env: loggerEnv(this.opts.runtimeId, instance),
      detached: true,
      stdio: [pipe, fd, 'ignore'],
    });
    logger.unref();
    return logger;
  }

  /**
   * Spawns a run of `instance`. The first start of an instance (and the first after a failed
   * one) checks everything: the working directory, the command (COMMAND_NOT_FOUND before any
   * spawn), the log directory; later runs reuse that plan (SpawnPlan), so a restart after
   * a crash is the spawn itself, with no file system call before it (with the log collector,
   * the default; the other stampers open the log file per run, as rotation renames it). A
   * spawn that fails with a reused plan is tried once more with the checks, which then name
   * what changed.
   */
  async start(spec: DriverSpec, instance: string): Promise<RunningProcess> {
    const known = this.plans.get(instance);
    const reused = known !== undefined && known.spec === spec;
    const plan = reused ? known : this.plan(spec, instance);
    this.plans.set(instance, plan);
    try {
      return await this.launch(plan, instance);
    } catch (error) {
      if (this.plans.get(instance) === plan) this.plans.delete(instance);
      if (reused && !plan.stamperFailed) return this.start(spec, instance);
      throw error;
    }
  }

  /** Checks what a run needs (working directory, command, log directory) and fixes its command line and environment. */
  private plan(spec: DriverSpec, instance: string): SpawnPlan {
    const cwd = spec.cwd ?? process.cwd();
    if (!isDirectory(cwd)) {
      throw new RuntimeError(
        'SPAWN_FAILED',
        `cannot start ${instance}: working directory ${cwd} does not exist`,
        'create the directory or fix `cwd` in the manifest',
      );
    }
    const env: NodeJS.ProcessEnv = {
      ...this.opts.baseEnv,
      ...spec.env,
      [RUNTIME_ID_ENV]: this.opts.runtimeId,
      [INSTANCE_ENV]: instance,
      [INCARNATION_ENV]: '',
    };
    const resolved = resolveCommand(spec.command, env.PATH, cwd);
    this.opts.logs.ensureWritable();
    const [file, argv] = this.commandLine(resolved, spec.args);
    return { spec, cwd, env, file, argv, stamperFailed: false };
  }

  private async launch(plan: SpawnPlan, instance: string): Promise<RunningProcess> {
    const { spec, cwd, env, file, argv } = plan;
    // The instance's FIFOs and lifeline are made and opened once (a lookup afterwards); later runs get the same descriptors.
    const fifos = this.collector === null ? null : this.collector.fifosFor(instance);
    const lifeline = this.lifelines.fdFor(instance);
    const incarnation = `${process.pid}.${(this.spawns += 1)}.${Date.now()}`;
    // spawn() copies the environment into the child's at once: the plan's object can carry this run's marker.
    env[INCARNATION_ENV] = incarnation;
    // Without the collector the child (or its stamper loops) writes the log file itself: opened per run, as rotation renames it.
    const fd = fifos === null ? this.opts.logs.openForChild(instance) : null;

    let child: ChildProcess;
    let loggers: ChildProcess[] = [];
    try {
      const stamped = this.timestamps === 'bash';
      const stdio: StdioOptions = stamped
        ? ['ignore', 'pipe', 'pipe']
        : fifos !== null
          ? ['ignore', fifos.out, fifos.err]
          : ['ignore', fd!, fd!];
      if (lifeline !== null) stdio.push(lifeline);
      child = spawn(file, argv, { cwd, env, detached: true, stdio });
      if (stamped && child.pid !== undefined) {
        // The program runs already; its loggers take over the read ends, then ours are closed.
        loggers = [this.spawnLogger('out', child.stdout!, fd!, instance), this.spawnLogger('err', child.stderr!, fd!, instance)];
        child.stdout!.destroy();
        child.stderr!.destroy();
      }
      await Promise.all([child, ...loggers].map(spawned));
    } catch (cause) {
      if (loggers.length > 0) {
        plan.stamperFailed = true;
        killGroup(child!.pid!);
        throw new RuntimeError(
          'SPAWN_FAILED',
          `cannot start the log stamper (${this.bashPath}) for ${instance}: ${(cause as Error).message}`,
          'set logs.timestamps to "node" or "raw" in the runtime config',
          { cause },
        );
      }
      throw new RuntimeError(
        'SPAWN_FAILED',
        `cannot start ${instance}: ${(cause as Error).message}`,
        'check the command, its permissions and the system limits (ulimit -u, memory)',
        { cause },
      );
    } finally {
      if (fd !== null) fs.closeSync(fd); // the child (or its loggers) hold their own copies
    }
    child.unref();
    return this.track(new OwnChild(this, instance, child.pid!, child, spec.stop.signal, incarnation, loggers));
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
    await tracked?.drainLogs();
    // Stopped on purpose: the collector may forget the instance once its last writer is gone.
    if (instance !== undefined) {
      this.plans.delete(instance);
      this.collector?.release(instance);
      this.lifelines.release(instance);
    }
    if (result.survivors.length > 0) {
      throw new RuntimeError(
        'INTERNAL',
        `processes ${result.survivors.join(', ')} of ${instance ?? proc.pid} survived SIGKILL`,
        'they are likely stuck in uninterruptible I/O (state D); check `ps -o pid,stat,wchan` and the storage they use',
      );
    }
  }

  adopt(instance: string, pid: number, startTime: string): RunningProcess | null {
    const known = this.watched.get(pid);
    if (known !== undefined && known.instance === instance && known.startTime === startTime) return known;
    if (!isSameProcess(pid, startTime)) return null;
    // Held like an own child's, so its exit is drained through the collector and its next run reuses them.
    this.collector?.adoptFifos(instance);
    // Its run's marker: its escapees are swept after its exit is reported, and a later run of the instance is left alone.
    const incarnation = readEnviron(pid)?.get(INCARNATION_ENV);
    return this.track(new AdoptedProcess(this, instance, pid, startTime, this.opts, incarnation));
  }

  private track<T extends TrackedProcess>(proc: T): T {
    this.watched.set(proc.pid, proc);
    return proc;
  }

  /** Its exit is reported: a later adoption of the pid is another process's. */
  untrack(proc: TrackedProcess): void {
    if (this.watched.get(proc.pid) === proc) this.watched.delete(proc.pid);
  }

  /** Why the bundle's native log collector cannot run here and the Node one runs instead; null when it runs, or is not in play. */
  get collectorNativeProblem(): string | null {
    return this.collector?.command.nativeProblem ?? null;
  }

  /** Lines of `instance` the log collector could not write since it started; null when the stamper does not count them (all but 'collector'). */
  logDroppedLines(instance: string): number | null {
    return this.collector === null ? null : this.collector.droppedLines(instance);
  }

  /**
   * Lets go of the log collector ('collector' only): its connection and the FIFOs this driver
   * holds, and no restart of it after that. The collector runs on while a program writes. For a
   * driver that is done before its process ends (a test); otherwise a collector killed
   * afterwards is started again, and makes its FIFO directory again.
   */
  close(): void {
    this.collector?.close();
  }

  /** Deletes the log FIFOs ('collector' only) and the lifelines of instances not in `keep` (the runtime no longer has them). */
  removeFifosExcept(keep: ReadonlySet<string>): void {
    this.collector?.removeFifosExcept(keep);
    this.lifelines.removeExcept(keep);
    // An instance removed after its process had ended (restart never, a clean exit, crash-loop)
    // never reaches stop(): drop its spawn plan here too, with the rest of what it had.
    for (const instance of this.plans.keys()) if (!keep.has(instance)) this.plans.delete(instance);
  }

  /** Whether a spawn plan (checked command, environment) is kept for instance: for tests. */
  hasPlan(instance: string): boolean {
    return this.plans.has(instance);
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

  /** Marked processes of `instance` that left group `pgid` (setsid/setpgid escapes); of one run when `incarnation` is given. */
  escapees(instance: string, pgid: number, incarnation?: string): ProcStat[] {
    return scanProcessesByEnv(INSTANCE_ENV, instance)
      .filter((found) => this.isEscapee(found, instance, pgid, incarnation))
      .map(({ stat }) => stat);
  }

  private isEscapee(found: { stat: ProcStat; env: Map<string, string> }, instance: string, pgid: number, incarnation?: string): boolean {
    const { stat, env } = found;
    return (
      env.get(RUNTIME_ID_ENV) === this.opts.runtimeId &&
      env.get(INSTANCE_ENV) === instance &&
      stat.pgid !== pgid &&
      (incarnation === undefined || env.get(INCARNATION_ENV) === incarnation)
    );
  }

  /** Waits (bounded) until what a run of `instance` wrote is in its log: its loggers ended, or the collector wrote it. */
  drainLogs(instance: string, loggers: readonly ChildProcess[]): Promise<void> {
    return this.collector !== null ? this.collector.drain(instance, LOGGER_DRAIN_MS) : loggersDone(loggers, LOGGER_DRAIN_MS);
  }

  /**
   * Called when the leader of a run without a marker (started by an older daemon) exited on
   * its own: clears what it left behind, its group and every marked escapee of the instance
   * outside it, bounded, before the exit is reported (and so before a next run exists).
   */
  async cleanupLeftovers(proc: TrackedProcess, signal: string): Promise<void> {
    await stopProcessGroup({
      pgid: proc.pid,
      signal,
      graceMs: this.opts.leftoverGraceMs,
      escapees: () => this.escapees(proc.instance, proc.pid),
    }).catch(() => undefined);
  }

  /**
   * The same for a run with a marker (our own child, or an adopted one), fast path first (see
   * the class comment): resolves as soon as the group is empty; the escapee sweep of that run
   * is left to `sweepEscapees`.
   */
  async cleanupGroup(proc: TrackedProcess, signal: string): Promise<void> {
    for (const waitMs of [0, 1, 1, 2, 4]) {
      if (waitMs > 0) await sleep(waitMs);
      if (groupGone(proc.pid)) return;
    }
    await stopProcessGroup({ pgid: proc.pid, signal, graceMs: this.opts.leftoverGraceMs }).catch(() => undefined);
  }

  /**
   * Stops the setsid escapees of one run of an instance (after its leader is gone), off the
   * restart path: the /proc scan begins on the turn after the exit was reported (the one a
   * zero-delay restart spawns in), reads without blocking, and one scan serves every exit
   * reported meanwhile. `startTicks` is when the run's leader started (clock ticks after
   * boot), or null when unknown: only processes started since are read, as an escapee
   * forked from the run starts after it.
   */
  sweepEscapees(instance: string, pgid: number, incarnation: string, signal: string, startTicks: string | null): void {
    this.pendingSweeps.push({ instance, pgid, incarnation, signal, startTicks });
    if (this.sweeping) return;
    this.sweeping = true;
    setImmediate(() => void this.runSweeps());
  }

  private async runSweeps(): Promise<void> {
    try {
      while (this.pendingSweeps.length > 0) {
        const batch = this.pendingSweeps.splice(0);
        // The earliest run of the batch bounds the scan; one run of unknown start means every process.
        const starts = batch.map((sweep) => sweep.startTicks);
        const startedFrom = starts.includes(null) ? undefined : (starts as string[]).reduce((a, b) => (compareTicks(a, b) <= 0 ? a : b));
        const marked = await scanProcessesByEnvAsync(RUNTIME_ID_ENV, this.opts.runtimeId, startedFrom === undefined ? {} : { startedFrom });
        for (const { instance, pgid, incarnation, signal } of batch) {
          if (!marked.some((found) => this.isEscapee(found, instance, pgid, incarnation))) continue;
          void stopProcessGroup({
            pgid,
            signal,
            graceMs: this.opts.leftoverGraceMs,
            escapees: () => this.escapees(instance, pgid, incarnation),
          }).catch(() => undefined);
        }
      }
    } finally {
      this.sweeping = false;
    }
  }
}

function spawned(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Resolves when every logger has exited, or after `ms` (a descendant that escaped the group may still hold a pipe). */
function loggersDone(loggers: readonly ChildProcess[], ms: number): Promise<void> {
  const running = loggers.filter((l) => l.exitCode === null && l.signalCode === null);
  if (running.length === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    let left = running.length;
    for (const l of running) {
      l.once('exit', () => {
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/**
 * True when no live process is left in group `pgid`. `kill(-pgid, 0)` answers in one system
 * call when the group is empty (ESRCH). It also counts zombies, and the stamper loops are
 * orphans when they end: init reaps them at once on a systemd host, but a container whose
 * PID 1 does not reap leaves them as zombies, so then one /proc scan tells the living apart.
 */
function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  return processGroupMembers(pgid).length === 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

abstract class TrackedProcess implements RunningProcess {
  private exit: ExitInfo | undefined;
  private readonly listeners: Array<(exit: ExitInfo) => void> = [];
  protected stopping = false;

  constructor(
    protected readonly driver: LinuxProcessDriver,
    readonly instance: string,
    readonly pid: number,
    private identity: string | undefined,
  ) {}

  /** With the pid, names the process (proc-identity.ts); an own child's is read when first asked, not on the restart path. */
  get startTime(): string {
    this.identity ??= this.readStartTime();
    return this.identity;
  }

  protected readStartTime(): string {
    return formatStartTime('0');
  }

  /** Its start in clock ticks after boot, when known without reading /proc now (null: not read while it lived). */
  protected knownStartTicks(): string | null {
    const ticks = this.identity?.slice(this.identity.lastIndexOf(':') + 1);
    return ticks === undefined || ticks === '0' || !/^\d+$/.test(ticks) ? null : ticks;
  }

  abstract leaderGone(): boolean;

  markStopping(): void {
    this.stopping = true;
  }

  onExit(listener: (exit: ExitInfo) => void): void {
    if (this.exit !== undefined) queueMicrotask(() => listener(this.exit!));
    else this.listeners.push(listener);
  }

  protected async finish(exit: ExitInfo, stopSignal: string): Promise<void> {
    if (!this.stopping) await this.cleanup(stopSignal);
    this.driver.untrack(this);
    this.exit = exit;
    for (const l of this.listeners.splice(0)) l(exit);
    if (!this.stopping) this.afterExit(stopSignal);
  }

  /** Before the exit is reported: what the group left behind. */
  protected cleanup(stopSignal: string): Promise<void> {
    return this.driver.cleanupLeftovers(this, stopSignal);
  }

  /** After the exit is reported (off the restart path). */
  protected afterExit(_stopSignal: string): void {}

  /** Waits (bounded) until what the process wrote is in its log. */
  drainLogs(): Promise<void> {
    return Promise.resolve();
  }
}

class OwnChild extends TrackedProcess {
  private exited = false;

  constructor(
    driver: LinuxProcessDriver,
    instance: string,
    pid: number,
    child: ChildProcess,
    stopSignal: string,
    private readonly incarnation: string,
    private readonly loggers: readonly ChildProcess[],
  ) {
    super(driver, instance, pid, undefined);
    // Its start time, read on the turn after the spawn (one stat file, not on the restart
    // path): the escapee sweep after its exit then reads only processes started since.
    setImmediate(() => {
      if (!this.exited) void this.startTime;
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      void this.finish({ code, signal }, stopSignal);
    });
  }

  leaderGone(): boolean {
    return this.exited;
  }

  /** Until its exit is reported the child is not reaped, so its pid cannot have passed to another process. */
  protected override readStartTime(): string {
    return (this.exited ? null : processStartTime(this.pid)) ?? super.readStartTime();
  }

  protected override async cleanup(stopSignal: string): Promise<void> {
    await this.driver.cleanupGroup(this, stopSignal);
    // The last lines are in the log before the exit is reported (crash events quote them).
    await this.drainLogs();
  }

  override drainLogs(): Promise<void> {
    return this.driver.drainLogs(this.instance, this.loggers);
  }

  protected override afterExit(stopSignal: string): void {
    this.driver.sweepEscapees(this.instance, this.pid, this.incarnation, stopSignal, this.knownStartTicks());
  }
}

class AdoptedProcess extends TrackedProcess {
  private gone = false;
  private readonly stopPolling: () => void;
  private readonly stopWatchingLifeline: () => void;

  constructor(
    driver: LinuxProcessDriver,
    instance: string,
    pid: number,
    startTime: string,
    polls: { adoptPollMs: number; adoptFallbackPollMs: number },
    /** Its INCARNATION_ENV; undefined for a process started before runs carried one. */
    private readonly incarnation: string | undefined,
  ) {
    super(driver, instance, pid, startTime);
    const unwatch = driver.lifelines.watch(instance, () => void this.lifelineEnded());
    this.stopWatchingLifeline = unwatch ?? (() => undefined);
    const timer = setInterval(() => this.checkGone(), unwatch === null ? polls.adoptPollMs : polls.adoptFallbackPollMs);
    timer.unref();
    this.stopPolling = () => clearInterval(timer);
  }

  /** Nobody holds its lifeline: it has exited, or is exiting (its files are closed before it is a zombie), or it closed it. */
  private async lifelineEnded(): Promise<void> {
    for (const waitMs of [0, 1, 1, 2, 4, 8]) {
      if (waitMs > 0) await sleep(waitMs);
      if (this.checkGone()) return;
    }
    // Still there: it closed its descriptor 3 itself; the poll goes on.
  }

  private checkGone(): boolean {
    if (this.gone) return true;
    if (isSameProcess(this.pid, this.startTime)) return false;
    this.gone = true;
    this.stopPolling();
    this.stopWatchingLifeline();
    void this.finish({ code: null, signal: null }, 'SIGTERM');
    return true;
  }

  leaderGone(): boolean {
    return this.gone || !isSameProcess(this.pid, this.startTime);
  }

  protected override async cleanup(stopSignal: string): Promise<void> {
    // With its run's marker, as an own child: the group before the report, its escapees after
    // it (only that run's, so never a later run of the instance). Without one (a run started
    // before markers), escapees are told apart from a next run only while none runs yet.
    if (this.incarnation !== undefined) await this.driver.cleanupGroup(this, stopSignal);
    else await this.driver.cleanupLeftovers(this, stopSignal);
    // As for an own child: the last lines are in the log before the exit is reported.
    await this.drainLogs();
  }

  override drainLogs(): Promise<void> {
    return this.driver.drainLogs(this.instance, []);
  }

  protected override afterExit(stopSignal: string): void {
    if (this.incarnation !== undefined)
      this.driver.sweepEscapees(this.instance, this.pid, this.incarnation, stopSignal, this.knownStartTicks());
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

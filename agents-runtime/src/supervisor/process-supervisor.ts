import { replicaHealth } from '../manifest/dependency-order';
import type { HealthSpec, ProcessSpec } from '../manifest/manifest-schema';
import { RuntimeError, type ErrorInfo } from '../runtime-error';
import { RestartTracker, restartWanted, type RandomSource, type RestartDecision } from './backoff';
import type { Clock, ExitInfo, HealthProbe, ProcessDriver, RunningProcess } from './driver';
import { nextState, type EventKind, type State } from './states';

interface EventBase {
  at: number;
  instance: string;
  process: string;
}

export type SupervisorEvent =
  | (EventBase & {
      kind: 'state';
      from: State;
      to: State;
      event: EventKind;
      reason: string;
      exit?: ExitInfo;
      error?: ErrorInfo;
      /** Filled in by the process layer from the captured log. */
      lastLines?: string[];
    })
  | (EventBase & {
      kind: 'crash-loop';
      failures: number;
      withinMs: number;
      nextRetryAt: number;
      reason: string;
      exit?: ExitInfo;
      error?: ErrorInfo;
      lastLines?: string[];
    })
  /** It ran `backoff.reset_after_ms` without failing, or the operator started, restarted or stopped it. */
  | (EventBase & { kind: 'crash-loop-left'; reason: string })
  | (EventBase & { kind: 'health'; healthy: boolean; reason: string })
  | (EventBase & { kind: 'error' } & ErrorInfo);

export type SupervisorListener = (event: SupervisorEvent) => void;

export interface InstanceSnapshot {
  instance: string;
  process: string;
  replica: number;
  state: State;
  since: number;
  pid: number | null;
  startTime: string | null;
  /** null while unknown: no health check, or none has decided yet. */
  healthy: boolean | null;
  /** Restarts after a crash (an exit, a failed health check): what the restart policy did. */
  restarts: number;
  /** Restarts the operator asked for, counted apart (the restarts counter's reason="operator"). */
  operatorRestarts: number;
  lastExit: ExitInfo | null;
  lastError: ErrorInfo | null;
  /** When a process in backoff or crash-loop will be started again. */
  nextStartAt: number | null;
}

export interface ProcessSupervisorOptions {
  spec: ProcessSpec;
  instance: string;
  /** 1-based replica number; decides the health port and SUTAZAI_REPLICA. */
  replica: number;
  driver: ProcessDriver;
  probe: HealthProbe;
  clock: Clock;
  random?: RandomSource;
  /** A process a previous daemon started: adopted on the first start instead of spawning. */
  adopt?: { pid: number; startTime: string };
  /** Restarts counted for this instance before (by a previous daemon, or before a manifest update). */
  restarts?: number;
  /** The same for the operator's restarts. */
  operatorRestarts?: number;
}

type AfterStop = 'stopped' | 'restart' | 'failure';

const PORT_IN_USE_REMEDY =
  'another program already listens on the health-check port: stop it (see `ss -ltnp`) or change health.port in the manifest';

/**
 * Supervises one instance. Every state change goes through `nextState`, so the table in
 * states.ts is the whole story; this class only decides which event happened.
 */
export class ProcessSupervisor {
  readonly instance: string;
  readonly spec: ProcessSpec;
  readonly replica: number;

  private current: State = 'stopped';
  private since: number;
  private proc: RunningProcess | null = null;
  private spawning = false;
  private stopInFlight = false;
  private afterStop: AfterStop = 'stopped';
  private stopWaiters: Array<() => void> = [];
  private runningSince: number | null = null;
  private cancelWait: (() => void) | null = null;
  private cancelStableRun: (() => void) | null = null;
  private nextStartAt: number | null = null;
  private healthRun = 0;
  private cancelProbe: (() => void) | null = null;
  private probeAbort: AbortController | null = null;
  private healthy: boolean | null = null;
  private lastExit: ExitInfo | null = null;
  private lastError: ErrorInfo | null = null;
  private adoptInfo: { pid: number; startTime: string } | undefined;
  private disposed = false;
  private operatorRestarts: number;
  /** restart() asked for the stop in flight: the start after it is the operator's restart. */
  private restartAsked = false;
  /** Events raised while a zero-delay restart spawns, told once it has (restartNow). */
  private held: SupervisorEvent[] | null = null;
  /** The spec the driver is given for this instance; one object, so the driver can keep what it planned for it. */
  private readonly forDriver: ProcessSpec;
  private readonly tracker: RestartTracker;
  private readonly listeners = new Set<SupervisorListener>();
  private readonly driver: ProcessDriver;
  private readonly probe: HealthProbe;
  private readonly clock: Clock;
  private readonly health: HealthSpec | undefined;

  constructor(options: ProcessSupervisorOptions) {
    this.instance = options.instance;
    this.spec = options.spec;
    this.replica = options.replica;
    this.driver = options.driver;
    this.probe = options.probe;
    this.clock = options.clock;
    this.adoptInfo = options.adopt;
    this.since = this.clock.now();
    this.health = options.spec.health === undefined ? undefined : replicaHealth(options.spec.health, options.replica);
    this.tracker = new RestartTracker(options.spec.backoff, options.spec.crashLoop, options.random, options.restarts ?? 0);
    this.operatorRestarts = options.operatorRestarts ?? 0;
    this.forDriver = this.instanceSpec();
  }

  get state(): State {
    return this.current;
  }

  on(listener: SupervisorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /*
   * What the 1 Hz metrics tick reads of every instance, one field at a time: a snapshot()
   * per instance per second was a thirteen-field object and most of the tick's garbage
   * (bench:runtime, idle CPU with 100 children; the daemon is interpreted, lite mode).
   */
  /** The running process (pid and /proc start time), or null when the instance runs none. */
  get running(): RunningProcess | null {
    return this.proc;
  }

  /** When the instance entered its current state (the daemon's clock). */
  get stateSince(): number {
    return this.since;
  }

  /** Restarts after a crash (snapshot().restarts). */
  get crashRestarts(): number {
    return this.tracker.restarts;
  }

  /** Restarts the operator asked for (snapshot().operatorRestarts). */
  get operatorRestartCount(): number {
    return this.operatorRestarts;
  }

  snapshot(): InstanceSnapshot {
    return {
      instance: this.instance,
      process: this.spec.name,
      replica: this.replica,
      state: this.current,
      since: this.since,
      pid: this.proc?.pid ?? null,
      startTime: this.proc?.startTime ?? null,
      healthy: this.healthy,
      restarts: this.tracker.restarts,
      operatorRestarts: this.operatorRestarts,
      lastExit: this.lastExit,
      lastError: this.lastError,
      nextStartAt: this.nextStartAt,
    };
  }

  /** Starts the instance (a no-op when it is already starting or running). */
  start(reason = 'started by the operator'): void {
    if (this.disposed) return;
    switch (this.current) {
      case 'starting':
      case 'running':
        return;
      case 'stopping':
        // Started while a stop (or a health-check kill) is in flight: start again once it is gone.
        this.afterStop = 'restart';
        return;
      default:
        this.launchAfresh('start', reason);
    }
  }

  /** Stops the instance; resolves once it is stopped (its process group gone). */
  stop(reason = 'stopped by the operator'): Promise<void> {
    this.restartAsked = false;
    this.leaveCrashLoop(reason);
    switch (this.current) {
      case 'stopped':
        return Promise.resolve();
      case 'starting':
      case 'running':
        this.afterStop = 'stopped';
        this.transition('stop', reason);
        return this.beginStop();
      case 'stopping':
        this.afterStop = 'stopped';
        return this.waitForStop();
      default:
        this.cancelPendingStart();
        this.transition('stop', reason);
        return Promise.resolve();
    }
  }

  /** Stops (when running) and starts again, clearing the crash count. */
  restart(reason = 'restarted by the operator'): void {
    if (this.disposed) return;
    switch (this.current) {
      case 'starting':
      case 'running':
        this.afterStop = 'restart';
        this.restartAsked = true;
        this.transition('restart', reason);
        void this.beginStop();
        return;
      case 'stopping':
        this.afterStop = 'restart';
        this.restartAsked = true;
        return;
      default:
        this.operatorRestarts += 1;
        this.launchAfresh('restart', reason);
    }
  }

  /** Stops listening and cancels timers; call after `stop()` when the instance is removed. */
  dispose(): void {
    this.disposed = true;
    this.cancelStableRunWatch();
    this.cancelPendingStart();
    this.stopHealth();
    this.listeners.clear();
  }

  private transition(event: EventKind, reason: string, extra: { exit?: ExitInfo; error?: ErrorInfo } = {}): void {
    const from = this.current;
    const to = nextState(from, event);
    this.current = to;
    this.since = this.clock.now();
    this.emit({ kind: 'state', from, to, event, reason, ...extra });
  }

  private emit(event: { kind: SupervisorEvent['kind'] } & Record<string, unknown>): void {
    const full = { at: this.clock.now(), instance: this.instance, process: this.spec.name, ...event } as SupervisorEvent;
    if (this.held !== null) this.held.push(full);
    else this.deliver(full);
  }

  private deliver(event: SupervisorEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private instanceSpec(): ProcessSpec {
    const env = { ...this.spec.env, SUTAZAI_INSTANCE: this.instance, SUTAZAI_REPLICA: String(this.replica) };
    const spec: ProcessSpec = { ...this.spec, env };
    if (this.health !== undefined) spec.health = this.health;
    return spec;
  }

  /** In `starting`: adopt, or check the health port is free, then spawn. */
  /** From a state with no process: drop a pending retry, clear the crash count, and start now. */
  private launchAfresh(event: 'start' | 'restart', reason: string): void {
    this.cancelPendingStart();
    this.leaveCrashLoop(reason);
    this.tracker.reset();
    this.transition(event, reason);
    this.launch();
  }

  private launch(): void {
    this.healthy = null;
    this.runningSince = null;
    this.lastError = null;
    const adopted = this.tryAdopt();
    if (adopted !== null) {
      this.attach(adopted);
      return;
    }
    this.spawning = true;
    void this.spawn();
  }

  private tryAdopt(): RunningProcess | null {
    const info = this.adoptInfo;
    this.adoptInfo = undefined;
    if (info === undefined || this.driver.adopt === undefined) return null;
    return this.driver.adopt(this.instance, info.pid, info.startTime);
  }

  private async spawn(): Promise<void> {
    let proc: RunningProcess;
    try {
      if (this.health !== undefined && this.health.type !== 'exec' && (await this.portTaken(this.health))) {
        throw new RuntimeError(
          'HEALTH_TARGET_IN_USE',
          `${this.instance}: ${this.health.host}:${this.health.port} already accepts connections before the process started`,
          PORT_IN_USE_REMEDY,
        );
      }
      if (this.current !== 'starting') throw new StopRequested();
      proc = await this.driver.start(this.forDriver, this.instance);
    } catch (error) {
      this.spawning = false;
      if (error instanceof StopRequested || this.current === 'stopping') {
        this.finishStop();
        return;
      }
      const info = toErrorInfo(error);
      this.lastError = info;
      this.emit({ kind: 'error', ...info });
      this.fail(`could not start: ${info.code}`, { error: info }, false);
      return;
    }
    this.spawning = false;
    if (this.disposed) {
      void this.driver.stop(proc, this.spec.stop.signal, this.spec.stop.graceMs).catch(() => undefined);
      return;
    }
    this.attach(proc);
  }

  private async portTaken(health: HealthSpec): Promise<boolean> {
    const controller = new AbortController();
    const cancel = this.clock.setTimer(health.timeoutMs, () => controller.abort());
    try {
      return await this.probe.check({ ...health, type: 'tcp' } as HealthSpec, this.instance, controller.signal);
    } catch {
      return false;
    } finally {
      cancel();
    }
  }

  private attach(proc: RunningProcess): void {
    this.proc = proc;
    proc.onExit((exit) => this.onProcessExit(proc, exit));
    if (this.current === 'stopping') {
      void this.beginStop();
      return;
    }
    if (this.health === undefined) {
      this.becomeRunning('spawned (no health check)');
    } else {
      this.startHealth(this.health);
    }
  }

  private becomeRunning(reason: string): void {
    const since = this.clock.now();
    this.runningSince = since;
    this.transition('healthy', reason);
    if (this.tracker.inCrashLoop) {
      // The tracker would forgive the failures only at the next one; a run this long ends the loop now, so it is told.
      const stableMs = this.spec.backoff.resetAfterMs;
      this.cancelStableRunWatch();
      this.cancelStableRun = this.clock.setTimer(stableMs, () => {
        this.cancelStableRun = null;
        if (this.current === 'running' && this.runningSince === since) this.leaveCrashLoop(`ran for ${stableMs} ms without failing`);
      });
    }
  }

  /** Ends the crash loop (when in one) with an event saying why. */
  private leaveCrashLoop(reason: string): void {
    this.cancelStableRunWatch();
    if (!this.tracker.inCrashLoop || this.disposed) return;
    this.tracker.reset();
    this.emit({ kind: 'crash-loop-left', reason });
  }

  private cancelStableRunWatch(): void {
    this.cancelStableRun?.();
    this.cancelStableRun = null;
  }

  private onProcessExit(proc: RunningProcess, exit: ExitInfo): void {
    if (this.proc !== proc || this.disposed) return;
    this.proc = null;
    this.lastExit = exit;
    // While stopping, the driver's stop() resolving finishes the stop.
    if (this.current !== 'starting' && this.current !== 'running') return;
    this.stopHealth();
    const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
    this.fail(how, { exit }, exit.code === 0 && exit.signal === null);
  }

  /** The process is gone (or never came): the restart policy and the tracker pick the event. */
  private fail(reason: string, extra: { exit?: ExitInfo; error?: ErrorInfo }, cleanExit: boolean): void {
    this.cancelStableRunWatch();
    const runningSince = this.runningSince;
    this.runningSince = null;
    if (!restartWanted(this.spec.restart, cleanExit)) {
      this.transition('exit', `${reason}; restart policy "${this.spec.restart}" leaves it exited`, extra);
      return;
    }
    const now = this.clock.now();
    const decision = this.tracker.recordFailure(now, runningSince);
    // Only after a process that ran: a start that failed is retried on the next turn, so a
    // command that cannot start never spins the event loop in one turn.
    if (decision.delayMs <= 0 && extra.exit !== undefined) {
      this.restartNow(decision, reason, extra, now);
      return;
    }
    // The restart is scheduled before anyone hears of the failure.
    this.nextStartAt = now + decision.delayMs;
    this.cancelWait = this.clock.setTimer(decision.delayMs, () => {
      this.cancelWait = null;
      this.nextStartAt = null;
      if (this.disposed || (this.current !== 'backoff' && this.current !== 'crash-loop')) return;
      this.transition('wait-elapsed', this.current === 'backoff' ? 'backoff delay elapsed' : 'crash-loop retry interval elapsed');
      this.launch();
    });
    this.announceFailure(decision, reason, extra, now);
  }

  /**
   * A zero delay (backoff initial_ms 0; a crash loop's retry interval is never 0): the next
   * run is spawned in this turn (PM2's default), and the listeners hear
   * of the failure and of the new start after the spawn, in the order raised. A restart is
   * then the spawn and this bookkeeping only; what listeners do (the daemon's log line, the
   * event feed, a state save) never sits between the exit and the spawn.
   */
  private restartNow(decision: RestartDecision, reason: string, extra: { exit?: ExitInfo; error?: ErrorInfo }, now: number): void {
    const held: SupervisorEvent[] = [];
    this.held = held;
    try {
      this.announceFailure(decision, reason, extra, now);
      this.transition('wait-elapsed', decision.kind === 'backoff' ? 'backoff delay elapsed' : 'crash-loop retry interval elapsed');
      this.launch();
    } finally {
      this.held = null;
      for (const event of held) this.deliver(event);
    }
  }

  private announceFailure(decision: RestartDecision, reason: string, extra: { exit?: ExitInfo; error?: ErrorInfo }, now: number): void {
    if (decision.kind === 'backoff') {
      this.transition('retry', `${reason}; restarting in ${decision.delayMs} ms`, extra);
    } else {
      this.transition('crash-loop', `${reason}; crash loop, next try in ${decision.delayMs} ms`, extra);
      this.emit({
        kind: 'crash-loop',
        failures: decision.failuresInWindow,
        withinMs: this.spec.crashLoop.withinMs,
        nextRetryAt: now + decision.delayMs,
        reason,
        ...extra,
      });
    }
  }

  private cancelPendingStart(): void {
    this.cancelWait?.();
    this.cancelWait = null;
    this.nextStartAt = null;
  }

  private startHealth(health: HealthSpec): void {
    const run = ++this.healthRun;
    const startedAt = this.clock.now();
    let passes = 0;
    let failures = 0;

    // While it is starting (until healthy_threshold checks passed) and within its start
    // period, an instance is checked every startIntervalMs: an install's health gate and the
    // agents that depend on it wait for it to run, and at a 5 s interval they waited that long
    // for a program up in 300 ms.
    const schedule = (): void => {
      const early = this.current === 'starting' && this.clock.now() - startedAt < health.startPeriodMs;
      this.cancelProbe = this.clock.setTimer(early ? health.startIntervalMs : health.intervalMs, () => void probeOnce());
    };
    const probeOnce = async (): Promise<void> => {
      this.cancelProbe = null;
      const controller = new AbortController();
      this.probeAbort = controller;
      const cancelTimeout = this.clock.setTimer(health.timeoutMs, () => controller.abort());
      let ok: boolean;
      try {
        ok = await this.probe.check(health, this.instance, controller.signal);
      } catch {
        ok = false;
      }
      cancelTimeout();
      if (run !== this.healthRun || this.disposed) return;
      this.probeAbort = null;
      if (controller.signal.aborted) ok = false;
      if (ok) {
        passes += 1;
        failures = 0;
        if (this.current === 'starting' && passes >= health.healthyThreshold) {
          this.setHealthy(true, `passed ${passes} ${health.type} check(s)`);
          this.becomeRunning(`healthy: passed ${passes} ${health.type} check(s)`);
        }
      } else {
        passes = 0;
        const inStartPeriod = this.current === 'starting' && this.clock.now() - startedAt < health.startPeriodMs;
        if (!inStartPeriod) failures += 1;
        if (failures >= health.unhealthyThreshold) {
          const why = `failed ${failures} ${health.type} check(s) in a row`;
          this.setHealthy(false, why);
          this.afterStop = 'failure';
          this.transition('unhealthy', `unhealthy: ${why}`);
          void this.beginStop();
          return;
        }
      }
      schedule();
    };
    schedule();
  }

  private setHealthy(healthy: boolean, reason: string): void {
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    this.emit({ kind: 'health', healthy, reason });
  }

  private stopHealth(): void {
    this.healthRun += 1;
    this.cancelProbe?.();
    this.cancelProbe = null;
    this.probeAbort?.abort();
    this.probeAbort = null;
  }

  /** In `stopping`: signal the group and wait; a spawn still in flight finishes first. */
  private beginStop(): Promise<void> {
    const done = this.waitForStop();
    this.stopHealth();
    this.cancelPendingStart();
    if (this.stopInFlight || this.spawning) return done;
    const proc = this.proc;
    if (proc === null) {
      this.finishStop();
      return done;
    }
    this.stopInFlight = true;
    this.driver.stop(proc, this.spec.stop.signal, this.spec.stop.graceMs).then(
      () => this.finishStop(),
      (error: unknown) => {
        const info = toErrorInfo(error);
        this.lastError = info;
        this.emit({ kind: 'error', ...info });
        this.finishStop();
      },
    );
    return done;
  }

  private waitForStop(): Promise<void> {
    return new Promise((resolve) => this.stopWaiters.push(resolve));
  }

  private finishStop(): void {
    this.stopInFlight = false;
    this.proc = null;
    const restartAsked = this.restartAsked;
    this.restartAsked = false;
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    if (this.current === 'stopping' && !this.disposed) {
      const after = this.afterStop;
      this.afterStop = 'stopped';
      if (after === 'stopped') {
        this.runningSince = null;
        this.transition('stop-done', 'process group is gone');
      } else if (after === 'restart') {
        if (restartAsked) this.operatorRestarts += 1;
        this.leaveCrashLoop('restarted by the operator');
        this.tracker.reset();
        this.transition('restart-ready', 'process group is gone; starting again');
        this.launch();
      } else {
        this.fail('stopped after failing its health check', this.lastExit === null ? {} : { exit: this.lastExit }, false);
      }
    }
    for (const resolve of waiters) resolve();
  }
}

class StopRequested extends Error {}

function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof RuntimeError) return { code: error.code, message: error.message, remedy: error.remedy };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'SPAWN_FAILED', message, remedy: 'check the command, its arguments and its working directory in the manifest' };
}

import type { HealthSpec } from '../../../agents-runtime/src/manifest/manifest-schema';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';
import type { Clock, ExitInfo, HealthProbe, ProcessDriver, RunningProcess } from '../../../agents-runtime/src/supervisor/driver';
import type { ProcessSpec } from '../../../agents-runtime/src/manifest/manifest-schema';

/** Lets every pending promise callback and microtask run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** A clock that only moves when the test says so; due timers fire in order. */
export class FakeClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private timers: FakeTimer[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: FakeTimer = { at: this.t + ms, seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  /** Moves time forward by `ms`, firing each due timer at its own time and letting promises settle after it. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const due = this.timers.filter((timer) => timer.live && timer.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.live = false;
      this.t = Math.max(this.t, due.at);
      due.fn();
      await flush();
    }
    this.timers = this.timers.filter((timer) => timer.live);
    this.t = end;
    await flush();
  }

  pendingTimers(): number {
    return this.timers.filter((timer) => timer.live).length;
  }
}

export class FakeProcess implements RunningProcess {
  alive = true;
  private listeners: Array<(exit: ExitInfo) => void> = [];

  constructor(
    readonly pid: number,
    readonly instance: string,
    readonly startTime: string,
  ) {}

  onExit(listener: (exit: ExitInfo) => void): void {
    this.listeners.push(listener);
  }

  /** The process ends on its own (crash or clean exit). */
  exit(code: number | null, signal: string | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    for (const listener of this.listeners) listener({ code, signal });
  }
}

/** An in-memory ProcessDriver: records what the supervisor asked and lets the test crash processes. */
export class FakeDriver implements ProcessDriver {
  readonly starts: Array<{ instance: string; spec: ProcessSpec; at: number }> = [];
  readonly stops: Array<{ instance: string; signal: string; graceMs: number }> = [];
  readonly missingCommands = new Set<string>();
  readonly adoptable = new Map<string, FakeProcess>();
  /** When set, start() waits until `releaseStarts()` (to test a stop during spawn). */
  holdStarts = false;
  private held: Array<() => void> = [];
  private nextPid = 100;
  private readonly live = new Map<string, FakeProcess>();

  constructor(private readonly clock: Clock) {}

  async start(spec: ProcessSpec, instance: string): Promise<RunningProcess> {
    if (this.holdStarts) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.missingCommands.has(spec.command)) {
      throw new RuntimeError(
        'COMMAND_NOT_FOUND',
        `${instance}: command "${spec.command}" not found`,
        'install it or fix command in the manifest',
      );
    }
    const proc = new FakeProcess(this.nextPid++, instance, String(this.clock.now()));
    proc.onExit(() => {
      if (this.live.get(instance) === proc) this.live.delete(instance);
    });
    this.live.set(instance, proc);
    this.starts.push({ instance, spec, at: this.clock.now() });
    return proc;
  }

  async stop(proc: RunningProcess, signal: string, graceMs: number): Promise<void> {
    const fake = proc as FakeProcess;
    this.stops.push({ instance: fake.instance, signal, graceMs });
    fake.exit(null, signal);
  }

  adopt(instance: string, pid: number, startTime: string): RunningProcess | null {
    const proc = this.adoptable.get(instance);
    if (proc === undefined || proc.pid !== pid || proc.startTime !== startTime) return null;
    this.live.set(instance, proc);
    return proc;
  }

  releaseStarts(): void {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }

  process(instance: string): FakeProcess {
    const proc = this.live.get(instance);
    if (proc === undefined) throw new Error(`no live fake process for ${instance}`);
    return proc;
  }

  isAlive(instance: string): boolean {
    return this.live.has(instance);
  }

  startsOf(instance: string): number {
    return this.starts.filter((s) => s.instance === instance).length;
  }
}

/**
 * A HealthProbe over the fake world: a live fake process is healthy unless marked sick;
 * a port in `foreignPorts` is held by someone else and always answers.
 */
export class FakeProbe implements HealthProbe {
  readonly sick = new Set<string>();
  readonly hanging = new Set<string>();
  readonly foreignPorts = new Set<number>();
  readonly calls: Array<{ instance: string; type: HealthSpec['type']; port: number | null }> = [];

  constructor(private readonly driver: FakeDriver) {}

  check(spec: HealthSpec, instance: string, signal: AbortSignal): Promise<boolean> {
    const port = spec.type === 'exec' ? null : spec.port;
    this.calls.push({ instance, type: spec.type, port });
    if (port !== null && this.foreignPorts.has(port)) return Promise.resolve(true);
    // Nothing listens for a process that is not running: refused at once, never hangs.
    if (!this.driver.isAlive(instance)) return Promise.resolve(false);
    if (this.hanging.has(instance)) {
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
    }
    return Promise.resolve(!this.sick.has(instance));
  }
}

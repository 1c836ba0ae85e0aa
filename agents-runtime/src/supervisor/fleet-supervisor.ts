import { expandReplicas, startOrder, stopOrder } from '../manifest/dependency-order';
import { MAX_REPLICAS, type Manifest, type ProcessSpec } from '../manifest/manifest-schema';
import { RuntimeError } from '../runtime-error';
import type { RandomSource } from './backoff';
import { systemClock, type Clock, type HealthProbe, type ProcessDriver } from './driver';
import { ProcessSupervisor, type InstanceSnapshot, type SupervisorEvent, type SupervisorListener } from './process-supervisor';

/**
 * What the operator asked for that the manifest does not say: processes stopped on
 * purpose and replica counts changed by `scale`. The process layer saves it to the state
 * file and hands it back on the next daemon start.
 */
export interface FleetIntent {
  stopped: string[];
  replicas: Record<string, number>;
}

export interface ProcessSnapshot {
  name: string;
  replicas: number;
  dependsOn: string[];
  stoppedOnPurpose: boolean;
  /** Dependencies not yet healthy while this process waits to start. */
  waitingFor: string[];
  instances: InstanceSnapshot[];
}

export interface FleetSnapshot {
  at: number;
  processes: ProcessSnapshot[];
}

export interface FleetSupervisorOptions {
  manifest: Manifest;
  driver: ProcessDriver;
  probe: HealthProbe;
  clock?: Clock;
  random?: RandomSource;
  intent?: FleetIntent;
  /** Processes a previous daemon started, by instance name, to re-adopt instead of spawning. */
  adopt?: Record<string, { pid: number; startTime: string }>;
  /** Restart counts carried over, by instance name (the state file, or the fleet a manifest update replaced). */
  restarts?: Record<string, number>;
  /** The same for the operator's restarts, counted apart. */
  operatorRestarts?: Record<string, number>;
  /** The most instances of all processes together that `scale` may reach (manifest_limits.max_instances). */
  maxInstances?: number;
  /** Called with the new intent after start, stop, restart or scale changed it (to save it). */
  onIntentChange?: (intent: FleetIntent) => void;
}

/**
 * Instances started before the fleet yields to the event loop: each spawn blocks the
 * thread for a moment, and a thousand in one go kept the API and /healthz from answering.
 */
export const START_BATCH = 8;

interface Group {
  spec: ProcessSpec;
  replicas: number;
  /** Should run: started by startAll/start and not stopped since. */
  wanted: boolean;
  supervisors: ProcessSupervisor[];
}

/**
 * Supervises every process of a manifest: starts them in dependency order (a dependent
 * starts once every instance of what it depends on is running, which means healthy when
 * there is a health check), stops them in reverse, and keeps the operator's intent.
 * A dependent that is already running is left alone when a dependency fails later
 * (like systemd's Wants=, not Requires=).
 */
export class FleetSupervisor {
  private readonly groups = new Map<string, Group>();
  private readonly order: string[];
  private readonly stoppedOnPurpose = new Set<string>();
  private readonly listeners = new Set<SupervisorListener>();
  private readonly adoptable: Map<string, { pid: number; startTime: string }>;
  /**
   * Counts carried over (options.restarts, options.operatorRestarts), each taken by the first
   * supervisor of its instance: an instance that a later scale removes and creates again
   * starts at zero, as it does after a daemon restart (the state file keeps only live ones).
   */
  private readonly carried: { restarts: Map<string, number>; operatorRestarts: Map<string, number> };
  private readonly clock: Clock;
  private reconcileQueued = false;
  private startedSinceYield = 0;
  private batchQueued = false;

  constructor(private readonly options: FleetSupervisorOptions) {
    this.clock = options.clock ?? systemClock;
    this.order = startOrder(options.manifest);
    this.adoptable = new Map(Object.entries(options.adopt ?? {}));
    this.carried = {
      restarts: new Map(Object.entries(options.restarts ?? {})),
      operatorRestarts: new Map(Object.entries(options.operatorRestarts ?? {})),
    };
    for (const spec of options.manifest.processes) {
      this.groups.set(spec.name, { spec, replicas: spec.replicas, wanted: false, supervisors: [] });
    }
    const intent = options.intent;
    if (intent !== undefined) {
      for (const name of intent.stopped ?? []) if (this.groups.has(name)) this.stoppedOnPurpose.add(name);
      for (const [name, count] of Object.entries(intent.replicas ?? {})) {
        const group = this.groups.get(name);
        if (group !== undefined && Number.isInteger(count) && count >= 0 && count <= MAX_REPLICAS) group.replicas = count;
      }
    }
    for (const group of this.groups.values()) {
      group.supervisors = expandReplicas(group.spec, group.replicas).map((instance, i) =>
        this.createSupervisor(group.spec, instance, i + 1),
      );
    }
  }

  on(listener: SupervisorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts every process not stopped on purpose, in dependency order. */
  startAll(): void {
    for (const group of this.groups.values()) group.wanted = !this.stoppedOnPurpose.has(group.spec.name);
    this.reconcile();
  }

  /** Stops everything, dependents first (daemon shutdown: not recorded as intent). */
  async stopAll(): Promise<void> {
    for (const group of this.groups.values()) group.wanted = false;
    for (const name of stopOrder(this.options.manifest)) {
      await Promise.all(this.group(name).supervisors.map((s) => s.stop('runtime is shutting down')));
    }
  }

  /** Starts a process (clearing "stopped on purpose"); it still waits for its dependencies. */
  start(name: string): void {
    const group = this.group(name);
    this.setStoppedOnPurpose(name, false);
    group.wanted = true;
    for (const s of group.supervisors) if (s.state !== 'stopped') s.start();
    this.reconcile();
  }

  /** Stops a process on purpose: it stays stopped across daemon restarts until started. */
  async stop(name: string): Promise<void> {
    const group = this.group(name);
    this.setStoppedOnPurpose(name, true);
    group.wanted = false;
    await Promise.all(group.supervisors.map((s) => s.stop()));
  }

  restart(name: string): void {
    const group = this.group(name);
    this.setStoppedOnPurpose(name, false);
    group.wanted = true;
    for (const s of group.supervisors) if (s.state !== 'stopped') s.restart();
    this.reconcile();
  }

  /** Changes the replica count; going between one and several renames the instances (see expandReplicas). */
  async scale(name: string, replicas: number): Promise<void> {
    const group = this.group(name);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
      throw new RuntimeError(
        'CONFIG_INVALID',
        `replicas for "${name}" must be a whole number from 0 to ${MAX_REPLICAS}, not ${replicas}`,
        `pick a count between 0 and ${MAX_REPLICAS}`,
      );
    }
    const others = [...this.groups.values()].reduce((sum, g) => (g === group ? sum : sum + g.replicas), 0);
    const maxInstances = this.options.maxInstances ?? Infinity;
    if (others + replicas > maxInstances) {
      throw new RuntimeError(
        'CONFIG_INVALID',
        `${replicas} replicas of "${name}" would make ${others + replicas} instances, more than the limit of ${maxInstances}`,
        `scale to at most ${Math.max(0, maxInstances - others)}, or raise manifest_limits.max_instances in the runtime config and restart sutazai-runtime`,
      );
    }
    const names = expandReplicas(group.spec, replicas);
    const leaving = group.supervisors.filter((s) => !names.includes(s.instance));
    const changed = group.replicas !== replicas;
    group.replicas = replicas;
    if (changed) this.options.onIntentChange?.(this.intent());
    group.supervisors = group.supervisors.filter((s) => names.includes(s.instance));
    // Stop the leaving instances first: a renamed replica 1 keeps the same health port.
    await Promise.all(leaving.map((s) => s.stop(`scaled to ${replicas}`)));
    for (const s of leaving) s.dispose();
    if (group.replicas !== replicas) return; // a later scale() took over while we waited
    const kept = new Set(group.supervisors.map((s) => s.instance));
    names.forEach((instance, i) => {
      if (!kept.has(instance)) group.supervisors.push(this.createSupervisor(group.spec, instance, i + 1));
    });
    group.supervisors.sort((a, b) => a.replica - b.replica);
    this.reconcile();
  }

  intent(): FleetIntent {
    const replicas: Record<string, number> = {};
    for (const group of this.groups.values()) if (group.replicas !== group.spec.replicas) replicas[group.spec.name] = group.replicas;
    return { stopped: this.order.filter((name) => this.stoppedOnPurpose.has(name)), replicas };
  }

  snapshot(): FleetSnapshot {
    return {
      at: this.clock.now(),
      processes: this.options.manifest.processes.map((spec) => {
        const group = this.group(spec.name);
        const waiting = group.wanted && group.supervisors.some((s) => s.state === 'stopped');
        return {
          name: spec.name,
          replicas: group.replicas,
          dependsOn: [...spec.dependsOn],
          stoppedOnPurpose: this.stoppedOnPurpose.has(spec.name),
          waitingFor: waiting ? this.unreadyDependencies(spec) : [],
          instances: group.supervisors.map((s) => s.snapshot()),
        };
      }),
    };
  }

  /**
   * Every instance's supervisor with its process's name, in manifest order, without building a
   * snapshot: the metrics tick asks for each instance's process facts once a second, and the
   * whole fleet's snapshot (arrays, dependencies, waits) for 100 instances was a tenth of an
   * idle daemon's CPU (bench:runtime, issue 13).
   */
  eachInstance(visit: (processName: string, supervisor: ProcessSupervisor) => void): void {
    // Indexed loops: the metrics tick calls this every second and the daemon is interpreted, where a for-of allocates per step.
    const specs = this.options.manifest.processes;
    for (let i = 0; i < specs.length; i += 1) {
      const name = specs[i]!.name;
      const supervisors = this.group(name).supervisors;
      for (let j = 0; j < supervisors.length; j += 1) visit(name, supervisors[j]!);
    }
  }

  /** The supervisor of one instance, for the API's per-instance calls. */
  instance(instance: string): ProcessSupervisor | undefined {
    for (const group of this.groups.values()) {
      const found = group.supervisors.find((s) => s.instance === instance);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private setStoppedOnPurpose(name: string, stopped: boolean): void {
    if (this.stoppedOnPurpose.has(name) === stopped) return;
    if (stopped) this.stoppedOnPurpose.add(name);
    else this.stoppedOnPurpose.delete(name);
    this.options.onIntentChange?.(this.intent());
  }

  private group(name: string): Group {
    const group = this.groups.get(name);
    if (group === undefined) {
      throw new RuntimeError('PROCESS_NOT_FOUND', `no process named "${name}" in the manifest`, `use one of: ${this.order.join(', ')}`);
    }
    return group;
  }

  private createSupervisor(spec: ProcessSpec, instance: string, replica: number): ProcessSupervisor {
    const adopt = this.adoptable.get(instance);
    const supervisor = new ProcessSupervisor({
      spec,
      instance,
      replica,
      driver: this.options.driver,
      probe: this.options.probe,
      clock: this.clock,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      ...(adopt === undefined ? {} : { adopt }),
      restarts: takeCount(this.carried.restarts, instance),
      operatorRestarts: takeCount(this.carried.operatorRestarts, instance),
    });
    supervisor.on((event: SupervisorEvent) => {
      for (const listener of [...this.listeners]) listener(event);
      if (event.kind === 'state') this.queueReconcile();
    });
    return supervisor;
  }

  private queueReconcile(): void {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    queueMicrotask(() => {
      this.reconcileQueued = false;
      this.reconcile();
    });
  }

  /**
   * Starts every wanted, stopped instance whose dependencies are ready, in start order,
   * at most START_BATCH of them before the rest wait for the next turn of the event loop.
   */
  private reconcile(): void {
    for (const name of this.order) {
      const group = this.group(name);
      if (!group.wanted) continue;
      const ready = this.unreadyDependencies(group.spec).length === 0;
      for (const s of group.supervisors) {
        if (s.state !== 'stopped') continue;
        if (!ready && !this.adoptable.has(s.instance)) continue;
        if (this.startedSinceYield >= START_BATCH) {
          this.queueNextBatch();
          return;
        }
        this.startedSinceYield += 1;
        const adopted = this.adoptable.delete(s.instance);
        s.start(adopted ? 'adopting the process a previous runtime started' : 'started in dependency order');
      }
    }
  }

  private queueNextBatch(): void {
    if (this.batchQueued) return;
    this.batchQueued = true;
    setImmediate(() => {
      this.batchQueued = false;
      this.startedSinceYield = 0;
      this.reconcile();
    });
  }

  private unreadyDependencies(spec: ProcessSpec): string[] {
    return spec.dependsOn.filter((dep) => {
      const group = this.group(dep);
      if (group.supervisors.length === 0) return true;
      return !group.supervisors.every((s) => {
        if (s.state === 'running') return true;
        // A one-shot dependency (restart: never) that finished with code 0 is done, not down.
        const last = s.snapshot().lastExit;
        return s.state === 'exited' && group.spec.restart === 'never' && last?.code === 0;
      });
    });
  }
}

function takeCount(counts: Map<string, number>, instance: string): number {
  const count = counts.get(instance) ?? 0;
  counts.delete(instance);
  return count;
}

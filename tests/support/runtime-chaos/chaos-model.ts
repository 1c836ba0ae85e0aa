import { expandReplicas } from '../../../agents-runtime/src/manifest/dependency-order';

/**
 * The processes of the chaos manifest (chaos-programs.ts writes their programs):
 *  - steady: a shell loop with a `sleep` child in its group (a leader kill leaves the child
 *    for the runtime to sweep; a group kill takes both);
 *  - hb: a Node HTTP server behind an http health check (SIGSTOP hangs it; the check must notice);
 *  - flood: writes ~50 MB/s of 100-byte lines in bursts;
 *  - extra: a quiet loop that manifest updates add and remove.
 */
export type ChaosProcessName = 'steady' | 'hb' | 'flood' | 'extra';

export interface ModelProcess {
  name: ChaosProcessName;
  /** The manifest's replica count. */
  replicas: number;
  /** Set by ScaleProcess; kept by a manifest update that leaves the process unchanged. */
  scaledTo: number | null;
  /** Bumped into the process's env by a manifest update: a changed spec, so its instances restart. */
  round: number;
}

/**
 * What the runtime should be running after each chaos action, and how many restarts each
 * instance should report: one per kill or hang of a process the daemon supervised, counted
 * from the instance's creation. The runtime's rules it mirrors (runtime-daemon.ts
 * applyManifest, fleet-supervisor.ts): a changed process starts over at 0; an unchanged one
 * keeps its instances, counts and scaled size; a process whose manifest replica count
 * changed keeps the instances that stay and ends at the manifest's count; an instance that
 * goes (scaled down, removed) loses its count, and one created again starts at 0.
 */
export class ChaosModel {
  private readonly processes = new Map<ChaosProcessName, ModelProcess>();
  private readonly restarts = new Map<string, number>();

  constructor(initial: ReadonlyArray<Pick<ModelProcess, 'name' | 'replicas'>>) {
    for (const p of initial) this.processes.set(p.name, { ...p, scaledTo: null, round: 0 });
  }

  /** The manifest's processes, in manifest order. */
  list(): ModelProcess[] {
    return [...this.processes.values()].map((p) => ({ ...p }));
  }

  has(name: ChaosProcessName): boolean {
    return this.processes.has(name);
  }

  process(name: ChaosProcessName): ModelProcess | undefined {
    const p = this.processes.get(name);
    return p === undefined ? undefined : { ...p };
  }

  instancesOf(name: ChaosProcessName): string[] {
    const p = this.processes.get(name);
    return p === undefined ? [] : expandReplicas({ name, replicas: p.replicas }, p.scaledTo ?? p.replicas);
  }

  /** Every instance the runtime should run, sorted. */
  expectedInstances(): string[] {
    return [...this.processes.keys()].flatMap((name) => this.instancesOf(name)).sort();
  }

  expectedRestarts(instance: string): number {
    return this.restarts.get(instance) ?? 0;
  }

  /** A kill or hang the daemon will answer with a restart. */
  countRestart(instance: string): void {
    this.restarts.set(instance, this.expectedRestarts(instance) + 1);
  }

  /** ScaleProcess. */
  scale(name: ChaosProcessName, replicas: number): void {
    this.update(name, (p) => (p.scaledTo = replicas));
  }

  /** A manifest update that changes the process's spec (its env): every instance restarts at 0, at the manifest's count. */
  changeSpec(name: ChaosProcessName): void {
    this.forget(this.instancesOf(name));
    this.update(name, (p) => {
      p.round += 1;
      p.scaledTo = null;
    });
  }

  /** A manifest update that changes only the process's replica count. */
  setManifestReplicas(name: ChaosProcessName, replicas: number): void {
    this.update(name, (p) => {
      p.replicas = replicas;
      p.scaledTo = null;
    });
  }

  add(name: ChaosProcessName, replicas: number): void {
    this.processes.set(name, { name, replicas, scaledTo: null, round: 0 });
  }

  remove(name: ChaosProcessName): void {
    this.forget(this.instancesOf(name));
    this.processes.delete(name);
  }

  private update(name: ChaosProcessName, change: (p: ModelProcess) => void): void {
    const p = this.processes.get(name);
    if (p === undefined) throw new Error(`the chaos manifest has no process ${name}`);
    const before = this.instancesOf(name);
    change(p);
    const after = new Set(this.instancesOf(name));
    this.forget(before.filter((instance) => !after.has(instance)));
  }

  private forget(instances: readonly string[]): void {
    for (const instance of instances) this.restarts.delete(instance);
  }
}

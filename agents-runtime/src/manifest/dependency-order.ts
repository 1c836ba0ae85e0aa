import { RuntimeError } from '../runtime-error';
import type { HealthSpec, Manifest, ProcessSpec } from './manifest-schema';

const CYCLE_REMEDY = 'remove one depends_on entry on the path so that the processes form a tree, then reload the manifest';
const UNKNOWN_REMEDY = 'fix the name in depends_on or add a process with that name to the manifest';

/**
 * Process names in the order to start them: every process after everything it depends on.
 * Ties keep manifest order, so the result is stable across reloads. An unknown dependency
 * or a cycle is refused with the path that forms it ("cycle: core -> agent -> core").
 */
export function startOrder(manifest: Pick<Manifest, 'processes'>): string[] {
  const byName = new Map(manifest.processes.map((p) => [p.name, p]));
  const order: string[] = [];
  const done = new Set<string>();
  const onPath: string[] = [];

  const visit = (name: string): void => {
    if (done.has(name)) return;
    const at = onPath.indexOf(name);
    if (at !== -1) {
      const path = [...onPath.slice(at), name].join(' -> ');
      throw new RuntimeError('MANIFEST_CYCLE', `cycle: ${path}`, CYCLE_REMEDY);
    }
    const spec = byName.get(name) as ProcessSpec;
    onPath.push(name);
    for (const dep of spec.dependsOn) {
      if (!byName.has(dep)) {
        throw new RuntimeError(
          'MANIFEST_CYCLE',
          `unknown dependency: ${[...onPath, dep].join(' -> ')} (no process named "${dep}")`,
          UNKNOWN_REMEDY,
        );
      }
      visit(dep);
    }
    onPath.pop();
    done.add(name);
    order.push(name);
  };

  for (const p of manifest.processes) visit(p.name);
  return order;
}

/** The reverse of `startOrder`: dependents stop before what they depend on. */
export function stopOrder(manifest: Pick<Manifest, 'processes'>): string[] {
  return startOrder(manifest).reverse();
}

/**
 * Instance names of a process: a single replica keeps the bare name (`core`), several
 * are numbered from 1 (`agent-1`, `agent-2`). Changing between one and several replicas
 * therefore renames the instances.
 */
export function expandReplicas(spec: Pick<ProcessSpec, 'name' | 'replicas'>, replicas: number = spec.replicas): string[] {
  if (replicas <= 0) return [];
  if (replicas === 1) return [spec.name];
  return Array.from({ length: replicas }, (_, i) => `${spec.name}-${i + 1}`);
}

/**
 * The health check of one replica: replica N (1-based) of a process listening on port P
 * is checked on P + N - 1; the supervisor tells each replica its number in SUTAZAI_REPLICA.
 */
export function replicaHealth(health: HealthSpec, replica: number): HealthSpec {
  if (health.type === 'exec' || replica <= 1) return health;
  return { ...health, port: health.port + replica - 1 };
}

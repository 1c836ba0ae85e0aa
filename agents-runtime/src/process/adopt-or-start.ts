import type { RunningProcess } from '../supervisor/driver';

export interface AdoptionInput {
  /** Instances the manifest and the operator's intent want running. */
  wanted: string[];
  /** `instances` of the state file. */
  saved: Record<string, { pid: number; startTime: string }>;
  adopt(instance: string, pid: number, startTime: string): RunningProcess | null;
  /** Same pid and start time still alive (proc-identity.isSameProcess). */
  isAlive(pid: number, startTime: string): boolean;
  /**
   * Group leaders that carry this runtime's marker, oldest first (LinuxProcessDriver.discover).
   * They cover the gap where a daemon died after spawning but before saving the state file.
   */
  discover?(): Array<{ instance: string; pid: number; startTime: string }>;
}

export interface AdoptionPlan {
  /** Still alive (same pid and start time): supervise these, do not start them. */
  adopted: Map<string, RunningProcess>;
  /** Wanted and not alive: start these. */
  toStart: string[];
  /** Alive but no longer wanted (removed from the manifest, scaled down): stop these. */
  unwanted: Map<string, RunningProcess>;
  /** Further leaders marked with an instance already adopted; left alone and reported (a daemonized descendant, or a duplicate). */
  extra: Array<{ instance: string; pid: number }>;
}

/**
 * Decides, after a daemon (re)start, which instances to adopt and which to start. At most
 * one process per instance is adopted: the state file's entry first, then the oldest
 * marked leader; anything else under the same name is reported, never adopted twice, and a
 * wanted instance with a live process is never started again.
 */
export function adoptOrStart(input: AdoptionInput): AdoptionPlan {
  const wanted = new Set(input.wanted);
  const candidates = new Map<string, Array<{ pid: number; startTime: string }>>();
  const add = (instance: string, pid: number, startTime: string): void => {
    const list = candidates.get(instance) ?? [];
    if (!list.some((c) => c.pid === pid && c.startTime === startTime)) list.push({ pid, startTime });
    candidates.set(instance, list);
  };
  for (const [instance, entry] of Object.entries(input.saved)) add(instance, entry.pid, entry.startTime);
  for (const found of input.discover?.() ?? []) add(found.instance, found.pid, found.startTime);

  const adopted = new Map<string, RunningProcess>();
  const unwanted = new Map<string, RunningProcess>();
  const extra: AdoptionPlan['extra'] = [];
  const claimedPids = new Set<number>();
  for (const [instance, list] of candidates) {
    let taken: RunningProcess | null = null;
    for (const c of list) {
      if (claimedPids.has(c.pid)) continue; // one process never serves two instances
      if (taken !== null) {
        if (input.isAlive(c.pid, c.startTime)) extra.push({ instance, pid: c.pid });
        continue;
      }
      taken = input.isAlive(c.pid, c.startTime) ? input.adopt(instance, c.pid, c.startTime) : null;
      if (taken !== null) claimedPids.add(c.pid);
    }
    if (taken === null) continue;
    (wanted.has(instance) ? adopted : unwanted).set(instance, taken);
  }
  const toStart = [...wanted].filter((i) => !adopted.has(i));
  return { adopted, toStart, unwanted, extra };
}

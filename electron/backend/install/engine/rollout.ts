/**
 * Scheduling an apply over many hosts. A limiter caps how many hosts are worked on at once
 * (install.upload_concurrency, or --concurrency): first come, first served, in the install
 * file's order. A rollout lets hosts take the switch steps one at a time, in that order:
 * a host's turn comes once every host before it has settled, and a host that settles as
 * failed stops the rollout for every host after it.
 */
export interface Limiter {
  /** Waits for a free slot; the function returned gives it back (once). */
  acquire(): Promise<() => void>;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    async acquire() {
      if (active < limit) active += 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      let given = false;
      return () => {
        if (given) return;
        given = true;
        // The slot passes straight to the next in line, or becomes free.
        const next = waiting.shift();
        if (next) next();
        else active -= 1;
      };
    },
  };
}

export interface Rollout {
  /** Resolves when every host before `index` has settled: the host that stopped the rollout, or null to go on. */
  turn(index: number): Promise<string | null>;
  /** The host at `index` is done with its turn (or never takes it); `stoppedBy` names it when it failed there. Idempotent. */
  settle(index: number, stoppedBy: string | null): void;
  /** The host that stopped the rollout, if any. */
  readonly stoppedBy: string | null;
}

export function createRollout(count: number): Rollout {
  const settled = Array.from({ length: count }, () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve, done: false };
  });
  let stoppedBy: string | null = null;
  return {
    async turn(index) {
      await Promise.all(settled.slice(0, index).map((s) => s.promise));
      return stoppedBy;
    },
    settle(index, by) {
      const slot = settled[index];
      if (!slot || slot.done) return;
      slot.done = true;
      if (by !== null && stoppedBy === null) stoppedBy = by;
      slot.resolve();
    },
    get stoppedBy() {
      return stoppedBy;
    },
  };
}

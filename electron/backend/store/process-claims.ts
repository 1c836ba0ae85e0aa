import { randomUUID } from 'node:crypto';
import { ownerAlive, thisProcess } from './owner-process';

/**
 * A claim recorded in the store by one process, seen by all: who holds it (the process,
 * with its start time) and the claim's own token. A claim whose process is gone, or
 * whose pid now belongs to another process, is stale and may be taken over.
 */
export interface ClaimRow {
  holder: string;
  owner_pid: number;
  owner_started: string | null;
  token: string;
  acquired_at: number;
}

/** Claims this process holds now: one an earlier backend of this same process left behind is stale. */
const heldHere = new Set<string>();

export function claimLive(row: ClaimRow): boolean {
  const me = thisProcess();
  if (row.owner_pid === me.pid && row.owner_started === me.startedAt) return heldHere.has(row.token);
  return ownerAlive({ pid: row.owner_pid, startedAt: row.owner_started });
}

/** A new claim by this process; `held` must be called once it is in the store, `dropped` when it is released. */
export function newClaim(holder: string, now: number): ClaimRow & { held(): void; dropped(): void } {
  const me = thisProcess();
  const token = randomUUID();
  return {
    holder,
    owner_pid: me.pid,
    owner_started: me.startedAt,
    token,
    acquired_at: now,
    held: () => heldHere.add(token),
    dropped: () => heldHere.delete(token),
  };
}

const HOLDERS: Record<string, string> = {
  web: 'web mode',
  desktop: 'the desktop app',
  cli: 'the sutazai command',
  restore: 'sutazai restore',
  test: 'a test backend',
};

/** "web mode (pid 4711, since 2026-12-05T09:00:00.000Z)" */
export function describeHolder(row: ClaimRow): string {
  return `${HOLDERS[row.holder] ?? row.holder} (pid ${row.owner_pid}, since ${new Date(row.acquired_at).toISOString()})`;
}

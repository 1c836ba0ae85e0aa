import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime } from './run-registry';

// Stopping what the harness started: SIGTERM, a bounded grace period, then SIGKILL.
// A process counts as gone once it is a zombie: its parent (often this very process,
// whose event loop may be blocked in an exit handler) reaps it later.

const POLL_MS = 20;
export const DEFAULT_GRACE_MS = 2_000;
const KILL_WAIT_MS = 1_000;

export function isProcessAlive(pid: number): boolean {
  return processStartTime(pid) !== undefined;
}

/** Pids of every process whose network namespace is one of the named ones (like `ip netns pids`). */
export function pidsInNamespaces(namespaces: readonly string[]): number[] {
  const inodes = new Set<string>();
  for (const ns of namespaces) {
    try {
      inodes.add(`net:[${fs.statSync(`/run/netns/${ns}`).ino}]`);
    } catch {
      // Already deleted.
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (inodes.has(fs.readlinkSync(`/proc/${entry}/ns/net`))) pids.push(pid);
    } catch {
      // Exited meanwhile, or a kernel thread.
    }
  }
  return pids;
}

/**
 * Targets are process groups (negative numbers, for daemons started with their own group)
 * and single pids. Returns the pids still alive at the end (normally none).
 */
export async function terminate(targets: readonly number[], graceMs = DEFAULT_GRACE_MS): Promise<number[]> {
  signalAll(targets, 'SIGTERM');
  if (await waitGone(targets, graceMs, (ms) => sleep(ms))) return [];
  signalAll(targets, 'SIGKILL');
  await waitGone(targets, KILL_WAIT_MS, (ms) => sleep(ms));
  return targets.map(Math.abs).filter(isProcessAlive);
}

/** terminate() for exit handlers: blocks the thread while it waits. */
export function terminateSync(targets: readonly number[], graceMs = DEFAULT_GRACE_MS): number[] {
  signalAll(targets, 'SIGTERM');
  if (waitGoneSync(targets, graceMs)) return [];
  signalAll(targets, 'SIGKILL');
  waitGoneSync(targets, KILL_WAIT_MS);
  return targets.map(Math.abs).filter(isProcessAlive);
}

function signalAll(targets: readonly number[], signal: NodeJS.Signals): void {
  for (const target of targets) {
    try {
      process.kill(target, signal);
    } catch {
      // ESRCH: already gone.
    }
  }
}

// A group is watched through its leader: the daemons' sessions live in other groups and
// are found by namespace instead.
function allGone(targets: readonly number[]): boolean {
  return targets.every((t) => !isProcessAlive(Math.abs(t)));
}

async function waitGone(targets: readonly number[], ms: number, wait: (ms: number) => Promise<unknown>): Promise<boolean> {
  for (let waited = 0; waited <= ms; waited += POLL_MS) {
    if (allGone(targets)) return true;
    await wait(POLL_MS);
  }
  return allGone(targets);
}

function waitGoneSync(targets: readonly number[], ms: number): boolean {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited <= ms; waited += POLL_MS) {
    if (allGone(targets)) return true;
    Atomics.wait(cell, 0, 0, POLL_MS);
  }
  return allGone(targets);
}

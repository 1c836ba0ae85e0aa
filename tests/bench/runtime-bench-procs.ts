/**
 * /proc helpers for the runtime benchmark (tests/bench/runtime.bench.ts): finding the
 * supervised program by its environment marker, waiting for a new instance of it with a
 * synchronous ~1 ms poll, and reading a process's RSS (CPU time and PSS: runtime-bench-footprint.ts).
 */
import fs from 'node:fs';
import { scanProcessesByEnv } from '../../agents-runtime/src/process/proc-identity';

/** Environment marker every supervised copy of the program carries: `<run tag>-<phase>`. */
export const BENCH_ENV = 'SUTAZAI_BENCH_TAG';

/**
 * The trivial program, the same for every supervisor and for the bare-spawn floor: a shell
 * that prints a line, then execs `sleep` in place (same pid). Once /proc/PID/cmdline reads
 * `sleep 1000000`, the line has been printed and the program is in its steady, idle state.
 */
export const PROGRAM = { command: '/bin/sh', args: ['-c', 'echo up; exec sleep 1000000'] } as const;
const READY_CMDLINE = 'sleep\u00001000000\u0000';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_S = 100;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` without burning CPU (the poll must not steal a core from the supervisor). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function numericPids(): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

function hasMarker(pid: number, tag: string): boolean {
  const raw = readOr(`/proc/${pid}/environ`);
  return raw !== null && raw.split('\0').includes(`${BENCH_ENV}=${tag}`);
}

/** Is `pid` the program in its ready state (exec'd into sleep) carrying `tag`? */
export function isReadyProgram(pid: number, tag: string): boolean {
  return readOr(`/proc/${pid}/cmdline`) === READY_CMDLINE && hasMarker(pid, tag);
}

/** Every ready program carrying `tag` (any parent). */
export function readyPrograms(tag: string): number[] {
  return scanProcessesByEnv(BENCH_ENV, tag)
    .map(({ stat }) => stat.pid)
    .filter((pid) => readOr(`/proc/${pid}/cmdline`) === READY_CMDLINE);
}

/** Every process carrying `tag` or any tag that starts with `prefix-` (for clean-up). */
export function markedProcesses(prefix: string): number[] {
  const out: number[] = [];
  for (const pid of numericPids()) {
    const raw = readOr(`/proc/${pid}/environ`);
    if (raw === null) continue;
    if (raw.split('\0').some((kv) => kv === `${BENCH_ENV}=${prefix}` || kv.startsWith(`${BENCH_ENV}=${prefix}-`))) out.push(pid);
  }
  return out;
}

/**
 * Polls /proc every ~1 ms (synchronously) for a ready program with `tag` whose pid was not in
 * `before`; returns its pid and the time it was seen (performance.now()), or null at `timeoutMs`.
 */
export function waitForNewProgram(before: ReadonlySet<number>, tag: string, timeoutMs: number): { pid: number; at: number } | null {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const pid of numericPids()) {
      if (!before.has(pid) && isReadyProgram(pid, tag)) return { pid, at: performance.now() };
    }
    if (performance.now() > deadline) return null;
    sleepSync(1);
  }
}

export interface MemoryUse {
  rssKb: number;
  hwmKb: number;
}

export function memoryOf(pid: number): MemoryUse | null {
  const status = readOr(`/proc/${pid}/status`);
  if (status === null) return null;
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

export function commOf(pid: number): string | null {
  return readOr(`/proc/${pid}/comm`)?.trim() ?? null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least p% of the samples at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

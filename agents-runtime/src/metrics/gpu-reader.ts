/**
 * NVIDIA GPU metrics from ONE long-lived `nvidia-smi ... -l 1` child whose CSV lines are
 * parsed as they arrive (no process per tick). A watchdog kills the child when no line came
 * for `staleMs` (a wedged driver makes nvidia-smi hang, not fail) and it is started again
 * after a capped exponential backoff, counted from the exit, so there is never more than one.
 * Without nvidia-smi on PATH the reader stays off: no GPU metrics, no child, no messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { GpuMetrics } from './metric-sample';

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu',
  '--format=csv,noheader,nounits',
  '-l',
  '1',
] as const;

const MIB = 1024 * 1024;

/** "[N/A]", "[Not Supported]", "N/A" and anything not a number read as null. */
function numberOrNull(field: string | undefined): number | null {
  if (field === undefined) return null;
  const trimmed = field.trim();
  if (trimmed === '' || trimmed.startsWith('[') || /^n\/?a$/i.test(trimmed)) return null;
  const v = Number(trimmed);
  return Number.isFinite(v) ? v : null;
}

/**
 * One CSV line of the query above: `0, NVIDIA H100 80GB HBM3, 37, 1024, 81559, 41`. The
 * name is everything between the first and the last four fields, so a comma in it is kept.
 */
export function parseNvidiaSmiLine(line: string): GpuMetrics | null {
  const fields = line.trim().split(',');
  if (fields.length < 6) return null;
  const index = numberOrNull(fields[0]);
  if (index === null || !Number.isInteger(index) || index < 0) return null;
  const tail = fields.slice(-4);
  const name = fields.slice(1, -4).join(',').trim();
  const memUsed = numberOrNull(tail[1]);
  const memTotal = numberOrNull(tail[2]);
  return {
    index,
    name,
    utilizationPercent: numberOrNull(tail[0]),
    memoryUsedBytes: memUsed === null ? null : memUsed * MIB,
    memoryTotalBytes: memTotal === null ? null : memTotal * MIB,
    temperatureC: numberOrNull(tail[3]),
  };
}

/** The executable `command` resolves to on `PATH`, or null (no spawn needed to find out). */
export function findOnPath(command: string, envPath = process.env.PATH ?? ''): string | null {
  const candidates = command.includes('/')
    ? [command]
    : envPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, command));
  for (const file of candidates) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

export type GpuReaderState = 'off' | 'absent' | 'running' | 'backoff' | 'stuck';

export interface GpuReaderOptions {
  /** Name looked up on PATH, or a path. Default `nvidia-smi`. */
  command?: string;
  /** Environment of the child and the PATH to search. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** No line for this long: the child is killed and started again. Default 5000. */
  staleMs?: number;
  /** Readings older than this are dropped from current(). Default staleMs. */
  maxAgeMs?: number;
  /** First restart delay, doubled per failure up to maxBackoffMs; reset by a good line. Default 1000. */
  initialBackoffMs?: number;
  /** Default 60000. */
  maxBackoffMs?: number;
  /** Told when the reader changes state for the worse (one message per episode, not per try). */
  log?: (message: string) => void;
  now?: () => number;
}

export interface GpuReader {
  start(): void;
  stop(): void;
  /** Fresh readings, ordered by index; [] when there is no GPU or the child is not answering. */
  current(): GpuMetrics[];
  state(): GpuReaderState;
  /** How many times the child was started (1 after a healthy start). */
  spawns(): number;
  /** pid of the child now running, or null. */
  childPid(): number | null;
}

export function createGpuReader(options: GpuReaderOptions = {}): GpuReader {
  const command = options.command ?? 'nvidia-smi';
  const env = options.env ?? process.env;
  const staleMs = options.staleMs ?? 5000;
  const maxAgeMs = options.maxAgeMs ?? staleMs;
  const initialBackoffMs = options.initialBackoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;

  let state: GpuReaderState = 'off';
  let executable: string | null = null;
  let child: ChildProcess | null = null;
  let lastLineAt = 0;
  let backoffMs = initialBackoffMs;
  let spawnCount = 0;
  let complained = false;
  let watchdog: NodeJS.Timeout | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  /**
   * Bumped by stop(): a child's late events (chunks already read from its pipe, its exit)
   * are of an earlier run once it changed, and are dropped. Checking `state === 'off'`
   * alone was not enough: a start() right after stop() let the killed child's chunks back
   * in as readings and its exit schedule a restart beside the new child.
   */
  let run = 0;
  const readings = new Map<number, { gpu: GpuMetrics; atMs: number }>();

  function complain(message: string): void {
    if (complained) return;
    complained = true;
    log(message);
  }

  function scheduleRestart(): void {
    if (state === 'off') return;
    state = 'backoff';
    const delay = backoffMs;
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    restartTimer = setTimeout(() => {
      restartTimer = null;
      launch();
    }, delay);
    restartTimer.unref();
  }

  function launch(): void {
    if (state === 'off' || executable === null) return;
    spawnCount++;
    let proc: ChildProcess;
    try {
      proc = spawn(executable, [...NVIDIA_SMI_ARGS], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      complain(`nvidia-smi could not start (${(error as Error).message}); retrying with backoff`);
      scheduleRestart();
      return;
    }
    child = proc;
    state = 'running';
    lastLineAt = now();
    const launchedIn = run;
    const stale = (): boolean => state === 'off' || launchedIn !== run;
    let ended = false;
    const onEnd = (why: string): void => {
      if (ended) return;
      ended = true;
      if (child === proc) child = null;
      if (stale()) return;
      complain(`nvidia-smi ${why}; retrying with backoff`);
      scheduleRestart();
    };
    proc.on('error', (error) => onEnd(`failed (${error.message})`));
    proc.on('exit', (code, signal) => onEnd(`exited (${signal ?? `code ${code}`})`));
    let pending = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      // Chunks already read from the pipe can still arrive after stop(): they must not
      // bring back readings that stop() cleared, even once a new run started.
      if (stale()) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const gpu = parseNvidiaSmiLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (gpu === null) continue;
        const at = now();
        readings.set(gpu.index, { gpu, atMs: at });
        lastLineAt = at;
        backoffMs = initialBackoffMs;
        complained = false;
      }
      if (pending.length > 64 * 1024) pending = ''; // not line-shaped output; do not grow without bound
    });
    // The daemon keeps itself alive; this child and its pipe must not.
    proc.unref();
    (proc.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  }

  function checkWatchdog(): void {
    if (state !== 'running' || child === null) return;
    if (now() - lastLineAt <= staleMs) return;
    const hung = child;
    complain(`nvidia-smi sent nothing for ${staleMs} ms; killing it (pid ${hung.pid})`);
    hung.kill('SIGKILL');
    // Restarted from its exit. A child in uninterruptible sleep (wedged driver) may never
    // exit; then stay stuck with one child rather than pile up more of them.
    state = 'stuck';
    lastLineAt = now();
  }

  return {
    start() {
      if (state !== 'off') return;
      executable = findOnPath(command, env.PATH ?? '');
      if (executable === null) {
        state = 'absent';
        return;
      }
      state = 'running';
      backoffMs = initialBackoffMs;
      watchdog = setInterval(checkWatchdog, Math.max(50, Math.min(1000, Math.floor(staleMs / 4))));
      watchdog.unref();
      launch();
    },
    stop() {
      state = 'off';
      run += 1;
      if (watchdog) clearInterval(watchdog);
      if (restartTimer) clearTimeout(restartTimer);
      watchdog = null;
      restartTimer = null;
      child?.kill('SIGKILL');
      child?.stdout?.destroy();
      child = null;
      readings.clear();
    },
    current() {
      const fresh: GpuMetrics[] = [];
      const cutoff = now() - maxAgeMs;
      for (const { gpu, atMs } of readings.values()) if (atMs >= cutoff) fresh.push(gpu);
      return fresh.sort((a, b) => a.index - b.index);
    },
    state: () => state,
    spawns: () => spawnCount,
    childPid: () => child?.pid ?? null,
  };
}

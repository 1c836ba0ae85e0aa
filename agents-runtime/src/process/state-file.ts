import fs from 'node:fs';
import path from 'node:path';
import * as asyncFs from '../linux/async-fs';
import { RuntimeError } from '../runtime-error';

/**
 * What must outlive the daemon: the operator's intent (instances stopped on purpose,
 * replica counts set at run time) and which pid + start time each instance had, so a
 * restarted daemon restores the intent and re-adopts instead of starting duplicates.
 */
export interface RuntimeState {
  version: 1;
  intent: { stopped: string[]; replicas: Record<string, number> };
  instances: Record<string, { pid: number; startTime: string }>;
  /** Restart counts by instance, so they survive a daemon restart (optional: older files lack it). */
  restarts?: Record<string, number>;
  /** Restarts the operator asked for, by instance, counted apart from `restarts` (optional: older files lack it). */
  operatorRestarts?: Record<string, number>;
}

export function emptyState(): RuntimeState {
  return { version: 1, intent: { stopped: [], replicas: {} }, instances: {} };
}

/** Validates parsed JSON; returns the problem as text, or the state. */
export function validateState(value: unknown): RuntimeState | string {
  if (!isObject(value)) return 'not a JSON object';
  if (value.version !== 1) return `unsupported version ${JSON.stringify(value.version)}`;
  const intent = value.intent;
  if (!isObject(intent)) return 'intent is missing';
  if (!Array.isArray(intent.stopped) || !intent.stopped.every((s) => typeof s === 'string'))
    return 'intent.stopped must be a list of names';
  if (!isObject(intent.replicas)) return 'intent.replicas must be an object';
  for (const [name, n] of Object.entries(intent.replicas)) {
    if (!Number.isInteger(n) || (n as number) < 0) return `intent.replicas.${name} must be a whole number >= 0`;
  }
  if (!isObject(value.instances)) return 'instances must be an object';
  for (const [name, entry] of Object.entries(value.instances)) {
    if (!isObject(entry) || !Number.isInteger(entry.pid) || (entry.pid as number) <= 0 || typeof entry.startTime !== 'string') {
      return `instances.${name} must be { pid, startTime }`;
    }
  }
  const counts: Partial<Record<'restarts' | 'operatorRestarts', Record<string, number>>> = {};
  for (const key of ['restarts', 'operatorRestarts'] as const) {
    const given = value[key];
    if (given === undefined) continue;
    if (!isObject(given)) return `${key} must be an object`;
    const parsed: Record<string, number> = {};
    for (const [name, n] of Object.entries(given)) {
      if (!Number.isInteger(n) || (n as number) < 0) return `${key}.${name} must be a whole number >= 0`;
      parsed[name] = n as number;
    }
    counts[key] = parsed;
  }
  return {
    version: 1,
    ...counts,
    intent: { stopped: [...(intent.stopped as string[])], replicas: { ...(intent.replicas as Record<string, number>) } },
    instances: Object.fromEntries(
      Object.entries(value.instances as Record<string, { pid: number; startTime: string }>).map(([k, v]) => [
        k,
        { pid: v.pid, startTime: v.startTime },
      ]),
    ),
  };
}

export interface LoadResult {
  state: RuntimeState;
  /** Set when the file was corrupt: it was moved aside and the daemon starts fresh. */
  problem?: RuntimeError;
}

/** Loads the state file; a missing file is a fresh start, a corrupt one is moved to `.corrupt-<time>`. */
export function loadState(file: string, now: Date = new Date()): LoadResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState() };
    return {
      state: emptyState(),
      problem: invalid(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, null),
    };
  }
  let parsed: unknown;
  let why: string;
  try {
    parsed = JSON.parse(text);
    const result = validateState(parsed);
    if (typeof result !== 'string') return { state: result };
    why = result;
  } catch (error) {
    why = `is not JSON (${(error as Error).message})`;
  }
  const aside = `${file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  let moved: string | null = aside;
  try {
    fs.renameSync(file, aside);
  } catch {
    moved = null;
  }
  return { state: emptyState(), problem: invalid(file, why, moved) };
}

function invalid(file: string, why: string, aside: string | null): RuntimeError {
  return new RuntimeError(
    'STATE_FILE_INVALID',
    `the state file ${file} ${why.startsWith('is ') || why.startsWith('cannot') ? why : `is invalid: ${why}`}; starting fresh`,
    aside === null
      ? 'check the file and its permissions; stopped-on-purpose processes and replica changes were not restored'
      : `the bad file was kept as ${aside}; processes stopped on purpose and replica changes were not restored, re-apply them if needed`,
  );
}

/**
 * Atomic save: write a temp file in the same directory, fsync it, rename it over the old
 * one, fsync the directory. A crash at any point leaves either the old or the new file,
 * complete, never a mix. Asynchronous: the fsyncs take milliseconds on a busy disk, and a
 * synchronous save held up every restart that fell in that time (StateWriter coalesces
 * saves, so two never overlap on the temp file).
 */
export async function saveState(file: string, state: RuntimeState): Promise<void> {
  const dir = path.dirname(file);
  await asyncFs.mkdirs(dir, 0o750);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = await asyncFs.open(tmp, 'w', 0o600);
  try {
    await asyncFs.writeAll(fd, `${JSON.stringify(state, null, 2)}\n`);
    await asyncFs.fsync(fd);
  } catch (error) {
    await asyncFs.close(fd);
    await asyncFs.removeFile(tmp);
    throw error;
  }
  await asyncFs.close(fd);
  await asyncFs.rename(tmp, file);
  const dirFd = await asyncFs.open(dir, 'r');
  try {
    await asyncFs.fsync(dirFd);
  } finally {
    await asyncFs.close(dirFd);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What an agent does with a task. Deterministic for a given task; cancellable through the
 * signal (a stop past its grace, or a lost lease): a cancelled task rejects with the
 * signal's reason and is not reported (the core re-queues it).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunnableTask {
  kind: string;
  payload: string;
  repeat: number;
  sleepMs: number;
}

export interface TaskOutcome {
  ok: boolean;
  output: string;
}

/** Hashing yields to the event loop this often, so heartbeats go out and a cancel lands. */
const YIELD_EVERY_BYTES = 4 * 1024 * 1024;
const YIELD_EVERY_UPDATES = 10_000;

export async function runTask(task: RunnableTask, signal: AbortSignal): Promise<TaskOutcome> {
  signal.throwIfAborted();
  switch (task.kind) {
    case 'hash':
      return { ok: true, output: await hashRepeated(task.payload, task.repeat, signal) };
    case 'sleep':
      await sleep(task.sleepMs, undefined, { signal });
      return { ok: true, output: `slept ${task.sleepMs} ms` };
    case 'fail':
      return { ok: false, output: `failed on purpose: ${task.payload}` };
    default:
      return { ok: false, output: `this agent cannot run tasks of kind ${JSON.stringify(task.kind)}` };
  }
}

/** Lowercase hex sha256 of `payload` (UTF-8) repeated `repeat` times (0 counts as 1). */
export async function hashRepeated(payload: string, repeat: number, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const bytes = Buffer.from(payload, 'utf8');
  const times = Math.max(1, repeat);
  let bytesSinceYield = 0;
  let updatesSinceYield = 0;
  for (let i = 0; i < times; i += 1) {
    hash.update(bytes);
    bytesSinceYield += bytes.length;
    updatesSinceYield += 1;
    if (bytesSinceYield >= YIELD_EVERY_BYTES || updatesSinceYield >= YIELD_EVERY_UPDATES) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
      bytesSinceYield = 0;
      updatesSinceYield = 0;
    }
  }
  return hash.digest('hex');
}

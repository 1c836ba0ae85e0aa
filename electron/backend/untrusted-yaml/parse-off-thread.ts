import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApiError } from '../../contract';
import { describeTask, runYamlTask, type YamlTask, type YamlTaskResult } from './yaml-tasks';

export interface OffThreadYamlOptions {
  /** A task running longer is cut off (the worker is replaced) and refused. */
  timeoutMs?: number;
  /** Heap of the worker; a task needing more is refused. */
  maxMemoryMb?: number;
  /** How to start the worker (tests start one that cannot load). */
  startWorker?: (maxMemoryMb: number) => Worker;
}

export interface OffThreadYaml {
  run<T extends YamlTask>(task: T): Promise<YamlTaskResult<T>>;
  close(): Promise<void>;
}

export const YAML_TIMEOUT_MS = 10_000;
const MAX_MEMORY_MB = 256;
const REMEDY = 'Send a smaller, simpler YAML file: fewer keys and list items, less nesting, no aliases that repeat large parts.';

interface Pending {
  id: number;
  task: YamlTask;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Parses the YAML clients send on a worker thread, one task at a time, so that a slow or
 * hostile text (tens of thousands of keys, an alias bomb) never holds up the backend's
 * other clients. A task over its time or memory is refused with CONFIG_YAML_INVALID and
 * the worker replaced; the next task starts on a fresh one.
 */
export function createOffThreadYaml(options: OffThreadYamlOptions = {}): OffThreadYaml {
  const timeoutMs = options.timeoutMs ?? YAML_TIMEOUT_MS;
  const maxMemoryMb = options.maxMemoryMb ?? MAX_MEMORY_MB;
  const queue: Pending[] = [];
  let worker: Worker | null = null;
  let current: { pending: Pending; timer: NodeJS.Timeout } | null = null;
  let nextId = 1;

  const refuse = (pending: Pending, why: string): void =>
    pending.reject(new ApiError('CONFIG_YAML_INVALID', `${describeTask(pending.task)}: ${why}; it was not read.`, REMEDY));

  const finish = (): void => {
    if (current) clearTimeout(current.timer);
    current = null;
    pump();
  };

  const dropWorker = (): void => {
    const gone = worker;
    worker = null;
    void gone?.terminate();
  };

  // A worker that cannot even start (a packaging that cannot load it) leaves the limits of
  // read-yaml.ts as the only protection: tasks then run here rather than fail.
  let workersUnavailable = false;

  const spawn = (): Worker => {
    const created = (options.startWorker ?? startWorker)(maxMemoryMb);
    // Set by the entry's first message, once its modules have loaded.
    let online = false;
    created.on('message', (message: { ready?: true; id: number; ok: boolean; result?: unknown; error?: string }) => {
      if (message.ready) {
        online = true;
        return;
      }
      if (!current || current.pending.id !== message.id) return;
      const { pending } = current;
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(`the YAML worker failed: ${message.error}`));
      finish();
    });
    const fail = (why: string): void => {
      if (worker !== created) return;
      worker = null;
      if (current && !online) {
        workersUnavailable = true;
        const { pending } = current;
        queue.unshift(pending);
        clearTimeout(current.timer);
        current = null;
        pump();
        return;
      }
      if (current) refuse(current.pending, why);
      finish();
    };
    created.on('error', (error: Error & { code?: string }) =>
      fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `reading it needed more than ${maxMemoryMb} MB`
          : `reading it failed (${error.message})`,
      ),
    );
    created.on('exit', () => fail('the YAML reader stopped'));
    return created;
  };

  const pump = (): void => {
    if (current) return;
    const pending = queue.shift();
    if (!pending) {
      worker?.unref();
      return;
    }
    if (!workersUnavailable && worker === null) {
      try {
        worker = spawn();
      } catch {
        workersUnavailable = true;
      }
    }
    if (workersUnavailable || worker === null) {
      try {
        pending.resolve(runYamlTask(pending.task));
      } catch (error) {
        pending.reject(error);
      }
      pump();
      return;
    }
    worker.ref();
    const timer = setTimeout(() => {
      if (current?.pending !== pending) return;
      dropWorker();
      refuse(pending, `reading it took longer than ${timeoutMs / 1000} s`);
      finish();
    }, timeoutMs);
    current = { pending, timer };
    worker.postMessage({ id: pending.id, task: pending.task });
  };

  return {
    run<T extends YamlTask>(task: T): Promise<YamlTaskResult<T>> {
      return new Promise<YamlTaskResult<T>>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve: resolve as (value: unknown) => void, reject });
        pump();
      });
    },
    async close(): Promise<void> {
      for (const pending of queue.splice(0)) refuse(pending, 'the backend is stopping');
      const gone = worker;
      worker = null;
      await gone?.terminate();
    },
  };
}

let shared: OffThreadYaml | undefined;
/** The backend's one YAML worker, started on first use. */
export function sharedOffThreadYaml(): OffThreadYaml {
  shared ??= createOffThreadYaml();
  return shared;
}

/**
 * The built worker next to the bundle (dist/backend/yaml-worker.cjs); from source (tests,
 * tsx) the TypeScript entry, loaded through tsx's require hook.
 */
function startWorker(maxMemoryMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxMemoryMb };
  const built = path.join(__dirname, 'yaml-worker.cjs');
  if (existsSync(built)) return new Worker(built, { resourceLimits });
  const source = path.join(__dirname, 'yaml-worker.ts');
  const tsx = createRequire(source).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true, resourceLimits });
}

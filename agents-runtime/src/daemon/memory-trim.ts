import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Keeps the daemon's resident memory near its live size (bench:runtime's RSS target).
 *
 * Why: start-up (YAML and zod parsing, proto loading, TLS contexts, spawning every
 * instance) leaves ~15 MB of garbage in the old generation, and a daemon that wakes every
 * second for metrics never looks idle to V8, so its memory reducer does not run; the
 * garbage stays resident until the heap grows enough for a major GC, often minutes later.
 * Two full collections right after start-up cost a few milliseconds each (the live heap
 * is ~12 MB); V8's memory reducer gives the freed pages back to the system some 8 s after
 * such a collection (measured: 75 -> 68 -> 60 MB with 10 children). After that the heap is
 * looked at every 30 s and collected again only when it has grown by `growthBytes` since
 * the last collection: an idle daemon makes little garbage that outlives a scavenge, and
 * two full collections every 30 s were over a third of its idle CPU (bench:runtime, 100
 * idle children, whose target is PM2's).
 *
 * `gc` is reached the documented way for a process that was not started with
 * --expose-gc: set the flag at run time, then fetch the function from a fresh context.
 * Where that is not possible (a future Node refusing the flag), trimming is off and
 * nothing else changes.
 */
/**
 * V8 doubles the young generation (up to 16 MB a semi-space, 3 of them) whenever many
 * objects survive a scavenge, which start-up does; it then rarely shrinks it back. A
 * growth factor of 1 keeps it at its initial 1 MB: scavenges are more frequent but tiny,
 * for a daemon that allocates a few kilobytes a second. This flag, unlike
 * --max-semi-space-size, takes effect when set at run time (checked in a unit test), so
 * the daemon needs no special command line. Call it before start-up allocates.
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

export interface MemoryTrim {
  stop(): void;
}

export interface MemoryTrimOptions {
  firstAfterMs?: number;
  everyMs?: number;
  /** Growth of the used heap since the last collection that calls for another (default 4 MiB). */
  growthBytes?: number;
  /** Told after every scheduled look whether it collected (tests). */
  onCheck?: (collected: boolean) => void;
}

export function startMemoryTrim(options: MemoryTrimOptions = {}): MemoryTrim {
  const gc = exposeGc();
  if (gc === null) return { stop: () => undefined };
  const growthBytes = options.growthBytes ?? 4 * 1024 * 1024;
  let usedAfterLast = 0;
  const collect = (): void => {
    gc();
    usedAfterLast = v8.getHeapStatistics().used_heap_size;
  };
  const first = setTimeout(() => withBytecodeFlush(collect), options.firstAfterMs ?? 200);
  const every = setInterval(() => {
    const grown = v8.getHeapStatistics().used_heap_size - usedAfterLast >= growthBytes;
    if (grown) collect();
    options.onCheck?.(grown);
  }, options.everyMs ?? 30_000);
  first.unref();
  every.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}

/**
 * Runs `collect` with V8's --stress-flush-code on, so that its collection also drops the
 * bytecode of every function not running then; the flag is off again after. Why: start-up's
 * functions (config and manifest parsing, validation, spawning every instance) run once, and
 * V8 keeps bytecode until five organic major GCs have passed it by (a forced collection does
 * not age it), which an idle daemon seldom has. A function that runs again is compiled anew
 * from its source at its next call; the metrics tick's are, once. Measured on the daemon
 * with 100 children: bytecode 547 -> 128 KB, used heap about 0.5 MB less. Where the flag
 * cannot be set, the collection runs as it would without it.
 */
function withBytecodeFlush(collect: () => void): void {
  let flushing = false;
  try {
    v8.setFlagsFromString('--stress-flush-code');
    flushing = true;
  } catch {
    // an older or newer V8 without the flag: a plain collection
  }
  try {
    collect();
  } finally {
    if (flushing) v8.setFlagsFromString('--no-stress-flush-code');
  }
}

function exposeGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc !== 'function') return null;
    // Twice: the first full collection frees the objects, the second compacts and releases the pages they left.
    return () => {
      (gc as () => void)();
      (gc as () => void)();
    };
  } catch {
    return null;
  }
}

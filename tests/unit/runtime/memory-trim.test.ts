/**
 * The daemon's memory settings act in a process that was started without any flag (as the
 * daemon is): checked in a child process, since V8 flags are global to a process.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

function runTs(source: string): Record<string, number> {
  const out = execFileSync(tsx, ['-e', source], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
}

const ALLOCATE = `
  const keep = [];
  for (let round = 0; round < 20; round++) {
    const junk = [];
    for (let i = 0; i < 50000; i++) junk.push({ a: i, b: 'x' + i });
    keep.push(junk.slice(0, 2000));
  }
  const newSpace = () => require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
`;

// Each case starts fresh tsx processes (seconds apiece on a loaded machine): the unit
// project's 10 s default is for in-process work, so these get the time execFileSync allows.
const CHILD_PROCESS_CASE_MS = 130_000;

describe('daemon memory settings', () => {
  it(
    'keepYoungGenerationSmall, set at run time, keeps the young generation from growing',
    () => {
      const plain = runTs(`${ALLOCATE} console.log(JSON.stringify({ newSpace: newSpace() }));`);
      const small = runTs(`
      const { keepYoungGenerationSmall } = require('./agents-runtime/src/daemon/memory-trim.ts');
      keepYoungGenerationSmall();
      ${ALLOCATE} console.log(JSON.stringify({ newSpace: newSpace() }));`);
      expect(small.newSpace!).toBeLessThanOrEqual(4 * 1024 * 1024);
      expect(plain.newSpace!).toBeGreaterThan(small.newSpace! * 2);
    },
    CHILD_PROCESS_CASE_MS,
  );

  it(
    'startMemoryTrim collects garbage on its schedule without --expose-gc, and stop() ends it',
    () => {
      const result = runTs(`
      const { startMemoryTrim } = require('./agents-runtime/src/daemon/memory-trim.ts');
      let garbage = [];
      for (let i = 0; i < 400000; i++) garbage.push({ i, s: 'y' + i });
      garbage = null;
      const before = process.memoryUsage().heapUsed;
      const trim = startMemoryTrim({ firstAfterMs: 10, everyMs: 1000 });
      setTimeout(() => {
        const after = process.memoryUsage().heapUsed;
        trim.stop();
        console.log(JSON.stringify({ before, after, exposed: typeof globalThis.gc === 'function' ? 1 : 0 }));
      }, 200);`);
      expect(result.after!).toBeLessThan(result.before! / 2);
      // gc is fetched from a fresh context, not left on the daemon's global object.
      expect(result.exposed).toBe(0);
    },
    CHILD_PROCESS_CASE_MS,
  );

  it(
    'after the first collection, a scheduled look collects only once the heap has grown by growthBytes',
    () => {
      const result = runTs(`
      const { startMemoryTrim } = require('./agents-runtime/src/daemon/memory-trim.ts');
      const { PerformanceObserver, constants, performance } = require('node:perf_hooks');
      // GC entries reach the observer some time after the collection (later still on a loaded
      // machine), so each look's count is taken at the end from the entries' own start times.
      const majorStarts = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorStarts.push(e.startTime);
      }).observe({ entryTypes: ['gc'] });
      const checks = [];
      const lookedAt = [];
      let kept = null;
      // The trim's timers are unref'd (they never keep the daemon alive): this one does, until the end.
      const alive = setInterval(() => undefined, 1000);
      const trim = startMemoryTrim({
        firstAfterMs: 10,
        everyMs: 30,
        growthBytes: 8 * 1024 * 1024,
        onCheck: (collected) => {
          checks.push(collected);
          lookedAt.push(performance.now());
          // Three quiet looks, then 16 MB of live objects, then the look that collects.
          if (checks.length === 3) {
            kept = [];
            for (let i = 0; i < 200000; i++) kept.push({ i, s: 'z' + i });
          }
          if (collected) {
            trim.stop();
            clearInterval(alive);
            // GC entries reach the observer after the collection: wait for the two of this one.
            let polls = 0;
            const report = setInterval(() => {
              if (majorStarts.length < 4 && ++polls < 400) return;
              clearInterval(report);
              const quiet = lookedAt.slice(0, 3).map((at) => majorStarts.filter((start) => start < at).length);
              console.log(JSON.stringify({ checks: checks.map(Number).join(''), quiet: quiet.join(','), majors: majorStarts.length, kept: kept.length }));
            }, 5);
          }
        },
      });`);
      // The quiet looks before the growth did not collect; the first one after it did.
      expect(String(result.checks)).toMatch(/^0001$/);
      expect(result.kept).toBe(200000);
      // The first collection was two full GCs and the quiet looks added none; the look after the growth
      // two more (allocating 16 MB may make V8 collect once on its own besides).
      expect(String(result.quiet)).toBe('2,2,2');
      expect(result.majors).toBeGreaterThanOrEqual(4);
    },
    CHILD_PROCESS_CASE_MS,
  );

  it(
    "the first collection drops the bytecode of start-up's functions (run once), and they still work when called again",
    () => {
      const result = runTs(`
      const v8 = require('node:v8');
      const { startMemoryTrim } = require('./agents-runtime/src/daemon/memory-trim.ts');
      // Two hundred functions run once, as start-up's are: their bytecode stays after forced collections.
      const fns = [];
      for (let i = 0; i < 200; i++) fns.push(new Function('a', 'let s = 0; for (let k = 0; k < a; k++) s += k * ' + i + '; return s + ' + i + ';'));
      let sum = 0;
      for (const f of fns) sum += f(10);
      const bytecode = () => v8.getHeapCodeStatistics().bytecode_and_metadata_size;
      // The control: full collections as the trim's would be without the flush.
      v8.setFlagsFromString('--expose-gc');
      const gc = require('node:vm').runInNewContext('gc');
      gc();
      gc();
      const control = bytecode();
      const trim = startMemoryTrim({ firstAfterMs: 10, everyMs: 60000 });
      setTimeout(() => {
        const after = bytecode();
        trim.stop();
        let again = 0;
        for (const f of fns) again += f(10);
        console.log(JSON.stringify({ control, after, same: again === sum ? 1 : 0 }));
      }, 300);`);
      expect(result.after!).toBeLessThan(result.control! * 0.8);
      expect(result.same).toBe(1);
    },
    CHILD_PROCESS_CASE_MS,
  );
});

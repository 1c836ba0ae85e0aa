// Preloaded (`node --expose-gc --require`) into a runtime daemon by runtime-heap.bench.ts:
// SUTAZAI_HEAP_PROBE_SETTLE_S seconds after start, full garbage collections, then the V8 heap
// and /proc/self/smaps_rollup as one line on stderr:
//   HEAP-PROBE {"heapUsed":...,"heapTotal":...,"external":...,"rss":...,"pssKb":...,"ussKb":...}
'use strict';
const fs = process.getBuiltinModule('node:fs');
const settleMs = Number(process.env.SUTAZAI_HEAP_PROBE_SETTLE_S || 20) * 1000;
setTimeout(() => {
  for (let i = 0; i < 4; i += 1) global.gc();
  // A second later, so finalizers and the sweeper of the collections above are done.
  setTimeout(() => {
    global.gc();
    const memory = process.memoryUsage();
    const rollup = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
    const line = {
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      rss: memory.rss,
      pssKb: kb('Pss'),
      ussKb: kb('Private_Clean') + kb('Private_Dirty'),
    };
    process.stderr.write(`HEAP-PROBE ${JSON.stringify(line)}\n`);
  }, 1000).unref();
}, settleMs).unref();

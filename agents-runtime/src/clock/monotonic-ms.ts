/**
 * Milliseconds on a monotonic clock, for durations and rates only (its zero is arbitrary).
 *
 * Why not `performance.now()`: in Node 20 the first read of the global `performance` loads
 * `node:perf_hooks` and its timing classes, some 0.2 MB more memory for a daemon that needs
 * one clock (issue 13's footprint target). `process.hrtime()` reads the same clock
 * (CLOCK_MONOTONIC) with nothing to load.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

// A host whose clock is off: imported first (`node --import <this file> ...`), it shifts
// the process's wall clock, Date.now, by SUTAZAI_TEST_CLOCK_OFFSET_MS (negative: behind).
// Timers and the monotonic clock are untouched, as they are on a host with a wrong clock.
const offsetMs = Number(process.env.SUTAZAI_TEST_CLOCK_OFFSET_MS ?? 0);
if (!Number.isFinite(offsetMs))
  throw new Error(`SUTAZAI_TEST_CLOCK_OFFSET_MS must be a number of ms, got ${process.env.SUTAZAI_TEST_CLOCK_OFFSET_MS}`);
const realNow = Date.now;
Date.now = () => realNow() + offsetMs;

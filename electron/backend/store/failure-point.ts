/**
 * Steps where a test stops or kills this process to prove a multi-step change leaves a
 * whole state behind at each (`SUTAZAI_TEST_FAILURE_POINT=NAME:SIGKILL` or `NAME:SIGSTOP`:
 * the process signals itself there). Only a process run under tests (VITEST set, or
 * NODE_ENV=test) heeds it: in a real run a stray variable must never kill a restore midway.
 */
export function failurePoint(name: string): void {
  const wanted = process.env.SUTAZAI_TEST_FAILURE_POINT;
  if (wanted === undefined || !underTests()) return;
  const [point, signal] = wanted.split(':');
  if (point !== name || (signal !== 'SIGKILL' && signal !== 'SIGSTOP')) return;
  process.kill(process.pid, signal);
}

function underTests(): boolean {
  return process.env.NODE_ENV === 'test' || (process.env.VITEST ?? '') !== '';
}

/**
 * A step where a test interrupts this process as Ctrl+C or `kill` would
 * (`SUTAZAI_TEST_FAILURE_POINT=NAME:SIGTERM` or `NAME:SIGINT`): the process signals itself and
 * returns once its own listeners for that signal have run, so the step after it meets the
 * interruption in a known order rather than whenever the event loop delivers it. Only under
 * tests, as failurePoint.
 */
export async function interruptionPoint(name: string): Promise<void> {
  const wanted = process.env.SUTAZAI_TEST_FAILURE_POINT;
  if (wanted === undefined || !underTests()) return;
  const [point, signal] = wanted.split(':');
  if (point !== name || (signal !== 'SIGTERM' && signal !== 'SIGINT')) return;
  // Only with a listener of the process's own: without one the signal would kill it outright.
  if (process.listenerCount(signal) === 0) return;
  // Signal handles do not keep Node's loop alive: with nothing else pending it would end
  // (exit 0) before the signal is delivered.
  const keepAlive = setInterval(() => undefined, 60_000);
  const delivered = new Promise<void>((resolve) => process.once(signal, () => resolve()));
  process.kill(process.pid, signal);
  try {
    await delivered;
  } finally {
    clearInterval(keepAlive);
  }
}

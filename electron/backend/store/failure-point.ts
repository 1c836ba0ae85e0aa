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

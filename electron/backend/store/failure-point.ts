/**
 * Steps where a test stops or kills this process to prove a multi-step change leaves a
 * whole state behind at each (`SUTAZAI_TEST_FAILURE_POINT=NAME:SIGKILL` or `NAME:SIGSTOP`:
 * the process signals itself there). Unset, as in every real run, nothing happens.
 */
export function failurePoint(name: string): void {
  const wanted = process.env.SUTAZAI_TEST_FAILURE_POINT;
  if (wanted === undefined) return;
  const [point, signal] = wanted.split(':');
  if (point !== name || (signal !== 'SIGKILL' && signal !== 'SIGSTOP')) return;
  process.kill(process.pid, signal);
}

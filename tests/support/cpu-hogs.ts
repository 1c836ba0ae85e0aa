import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export interface CpuHogs {
  readonly count: number;
  /** Ends every hog; idempotent. */
  stop(): void;
}

/**
 * A loaded machine for a test: `count` busy processes (`yes` into /dev/null, two per CPU by
 * default), each under `timeout` so that none outlives `maxSeconds` even if stop() never runs
 * (timeout passes the TERM from stop() on to its `yes`).
 */
export function startCpuHogs(count = os.cpus().length * 2, maxSeconds = 900): CpuHogs {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < count; i += 1) {
    const hog = spawn('timeout', [String(maxSeconds), 'yes'], { stdio: 'ignore' });
    hog.on('error', () => undefined);
    hogs.push(hog);
  }
  return {
    count,
    stop() {
      for (const hog of hogs.splice(0)) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGTERM');
    },
  };
}

/**
 * The CPU hog of bench:runtime's loaded pass (issue 13: hosts that run agents are busy by
 * nature): one busy loop per core, the same for all three supervisors, started before a
 * measurement and stopped after it. Each loop carries the run's environment marker, so the
 * benchmark's clean-up finds it by marker like every other process it starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { BENCH_ENV, killQuietly, sleep } from './runtime-bench-procs';

export type LoadPass = 'quiet' | 'loaded';

export interface Hog {
  stop(): Promise<void>;
}

/** Starts one busy loop per core (`/bin/sh` spinning on a builtin: no allocation, no syscalls to speak of). */
export async function startHog(tag: string, cores = os.cpus().length): Promise<Hog> {
  const loops: ChildProcess[] = [];
  for (let i = 0; i < cores; i += 1) {
    const child = spawn('/bin/sh', ['-c', 'while :; do :; done'], { env: { ...process.env, [BENCH_ENV]: tag }, stdio: 'ignore' });
    child.on('error', () => undefined);
    loops.push(child);
  }
  // Long enough for the scheduler to have them all running before the measurement starts.
  await sleep(500);
  return {
    async stop() {
      for (const child of loops) if (child.pid !== undefined) killQuietly(child.pid);
      await Promise.all(loops.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    },
  };
}

/** Runs `measure` in `pass`: under the hog for 'loaded' (started before, stopped after, whatever happens). */
export async function inPass<T>(pass: LoadPass, tag: string, measure: () => Promise<T>): Promise<T> {
  if (pass === 'quiet') return measure();
  const hog = await startHog(tag);
  try {
    return await measure();
  } finally {
    await hog.stop();
  }
}

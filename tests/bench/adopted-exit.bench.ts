/**
 * How long a daemon takes to notice that a process an earlier daemon started has exited
 * (issue 13, item 2): from the kill -9 to the exit's report, through the process's lifeline
 * (lifelines.ts) and, for comparison, by the poll alone (every 200 ms, what adopted processes
 * without a lifeline get). The runs are started here as an earlier daemon would have (own
 * group, markers, the lifeline as fd 3, which is then let go of, as that daemon's death
 * would), then adopted by a driver and killed one at a time; the driver's own children
 * (exit reported by the kernel) give the floor on this machine.
 * Usage: npm run bench:adopted-exit -- [--processes 20]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogFiles } from '../../agents-runtime/src/logs/log-files';
import { findMkfifo } from '../../agents-runtime/src/logs/log-collector-client';
import { Lifelines } from '../../agents-runtime/src/process/lifelines';
import { INCARNATION_ENV, INSTANCE_ENV, LinuxProcessDriver, RUNTIME_ID_ENV } from '../../agents-runtime/src/process/process-driver';
import { processStartTime } from '../../agents-runtime/src/process/proc-identity';

const count = Number(process.argv[process.argv.indexOf('--processes') + 1] || 20);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-adopted-exit-'));
const runtimeId = `adopted-exit-bench-${process.pid}`;
const logs = new LogFiles(path.join(dir, 'logs'));
const lifelineDir = path.join(dir, 'lifelines');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A run as an earlier daemon leaves it: its own group, the runtime's markers, its lifeline as fd 3 (let go of here). */
function startOrphan(lifelines: Lifelines, instance: string): { pid: number; startTime: string } {
  const fd = lifelines.fdFor(instance);
  const env = { ...process.env, [RUNTIME_ID_ENV]: runtimeId, [INSTANCE_ENV]: instance, [INCARNATION_ENV]: `bench.${instance}` };
  const child = spawn('sleep', ['300'], { detached: true, env, stdio: ['ignore', 'ignore', 'ignore', ...(fd === null ? [] : [fd])] });
  child.unref();
  lifelines.release(instance);
  return { pid: child.pid!, startTime: processStartTime(child.pid!)! };
}

async function measure(mode: 'own child' | 'lifeline' | 'poll'): Promise<number[]> {
  if (mode === 'own child') return measureOwn();
  const earlier = new Lifelines({ dir: lifelineDir, mkfifo: findMkfifo() });
  const orphans = Array.from({ length: count }, (_, i) => startOrphan(earlier, `${mode}-${i}`));
  const driver = new LinuxProcessDriver({ logs, runtimeId, timestamps: 'raw', ...(mode === 'lifeline' ? { lifelineDir } : {}) });
  const delays: number[] = [];
  for (let i = 0; i < count; i++) {
    const adopted = driver.adopt(`${mode}-${i}`, orphans[i]!.pid, orphans[i]!.startTime)!;
    const reported = new Promise<number>((resolve) => adopted.onExit(() => resolve(performance.now())));
    const killedAt = performance.now();
    process.kill(adopted.pid, 'SIGKILL');
    delays.push((await reported) - killedAt);
  }
  return delays.sort((a, b) => a - b);
}

/** The floor on this machine: the driver's own children, whose exit the kernel reports (SIGCHLD). */
async function measureOwn(): Promise<number[]> {
  const driver = new LinuxProcessDriver({ logs, runtimeId, timestamps: 'raw' });
  const delays: number[] = [];
  for (let i = 0; i < count; i++) {
    const own = await driver.start(
      { name: 'own', command: 'sleep', args: ['300'], env: {}, stop: { signal: 'SIGTERM', graceMs: 1000 } },
      `own-${i}`,
    );
    const reported = new Promise<number>((resolve) => own.onExit(() => resolve(performance.now())));
    const killedAt = performance.now();
    process.kill(own.pid, 'SIGKILL');
    delays.push((await reported) - killedAt);
  }
  return delays.sort((a, b) => a - b);
}

// The poll's timers do not hold the event loop (as in the daemon, whose server does).
const keepAlive = setInterval(() => undefined, 1000);
try {
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${count} adopted processes per mode, killed one at a time`,
  );
  for (const mode of ['own child', 'lifeline', 'poll'] as const) {
    const d = await measure(mode);
    const f = (ms: number): string => ms.toFixed(1);
    console.log(
      `${mode.padEnd(9)} kill -9 to exit reported (ms): p50 ${f(percentile(d, 50))}  p95 ${f(percentile(d, 95))}  max ${f(d.at(-1)!)}`,
    );
  }
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} catch (error) {
  console.error(error);
} finally {
  clearInterval(keepAlive);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

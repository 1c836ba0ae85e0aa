/**
 * What one log collector sustains on this host (issue 13, item 1), beside the bash loops:
 *  - throughput: N instances each flooding 100-byte lines (`yes`), for S seconds; the
 *    lines per second that reach the log files (all instances together), and the CPU the
 *    stamping processes used (the collector; for bash, the 2N loops);
 *  - delay: one probe instance writing its own clock (200 lines a second) into each line;
 *    the log's stamp minus that time, quiet and while the flood runs (p50, p95, max).
 * Modes: `native` (the native collector, agents-runtime/native/log-collector.c, what the runtime
 * bundle runs; built into the bench's directory), `collector` (the Node collector), `bash`.
 * Usage: npx tsx tests/bench/log-collector.bench.ts [--instances 10] [--seconds 5] [--modes native,collector,bash]
 * Logs go to /dev/shm (memory), so the figures are the stamping's, not the disk's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOGGER_ENV_KEY } from '../../agents-runtime/src/logs/bash-stamper';
import { COLLECTOR_ENV_KEY } from '../../agents-runtime/src/logs/log-collector';
import { nativeCollectorCommand } from '../../agents-runtime/src/logs/log-collector-client';
import { LogFiles } from '../../agents-runtime/src/logs/log-files';
import { LinuxProcessDriver } from '../../agents-runtime/src/process/process-driver';
import { listPids } from '../../agents-runtime/src/process/proc-identity';
import type { RunningProcess } from '../../agents-runtime/src/supervisor/driver';
import { buildNativeCollectorInto } from '../support/native-collector';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const instances = Number(flag('instances', '10'));
const seconds = Number(flag('seconds', '5'));
type Mode = 'native' | 'collector' | 'bash';
const modes = flag('modes', 'native,collector,bash').split(',') as Mode[];
const base = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'sutazai-log-bench-'));
const LINE = 'x'.repeat(99); // 100 bytes with the newline
const STAMPED_LINE_BYTES = '2026-01-01T00:00:00.000Z out '.length + LINE.length + 1;
const PROBE = `const t=()=>(performance.timeOrigin+performance.now()).toFixed(3);setInterval(()=>process.stdout.write('probe '+t()+'\\n'),5);`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const spec = (name: string, command: string, args: string[]) => ({
  name,
  command,
  args,
  env: {},
  stop: { signal: 'SIGKILL', graceMs: 1000 },
});

/** utime+stime in clock ticks (USER_HZ 100) of the processes carrying `key`=`value`-ish markers. */
function stamperTicks(mode: Mode, runtimeId: string): number {
  let ticks = 0;
  for (const pid of listPids()) {
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    const marked =
      mode !== 'bash' ? environ.includes(`${COLLECTOR_ENV_KEY}=${runtimeId}\0`) : environ.includes(`${LOGGER_ENV_KEY}=${runtimeId}/`);
    if (!marked) continue;
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

/**
 * Every byte in the instances' logs, rotated files too (the collector rotates at write time;
 * KEEP_ALL keeps them all). Counted by inode: a file renamed while this looks is seen under
 * two names, and counted once.
 */
function logBytes(logs: LogFiles, names: readonly string[]): number {
  const sizes = new Map<number, number>();
  for (const file of names.flatMap((n) => [logs.logPath(n), ...logs.rotatedPaths(n)])) {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st !== undefined) sizes.set(st.ino, Math.max(st.size, sizes.get(st.ino) ?? 0));
  }
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}

/** Rotation as in the runtime (10 MiB files) but nothing dropped within a run, so that every line written is counted. */
const KEEP_ALL = { keepFiles: 100, maxTotalBytes: 2 ** 40 };

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Delays (ms) of the probe's lines stamped after `fromMs`. */
function probeDelays(logs: LogFiles, name: string, fromMs: number, toMs: number): number[] {
  const text = fs.readFileSync(logs.logPath(name), 'utf8');
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) out probe (\d+\.\d+)$/.exec(line);
    if (m === null) continue;
    const written = Number(m[2]);
    if (written < fromMs || written > toMs) continue;
    out.push(Date.parse(m[1]!) - written);
  }
  return out.sort((a, b) => a - b);
}

function describeDelays(d: readonly number[]): string {
  // Stamps have millisecond resolution and are truncated: a delay may read as -1..0 ms.
  return `n=${d.length} p50=${percentile(d, 50).toFixed(1)} ms p95=${percentile(d, 95).toFixed(1)} ms max=${(d.at(-1) ?? NaN).toFixed(1)} ms`;
}

async function run(mode: Mode): Promise<void> {
  const runtimeId = `log-bench-${mode}-${process.pid}`;
  const logs = new LogFiles(path.join(base, mode, 'logs'), KEEP_ALL);
  const fifoDir = path.join(base, mode, 'fifos');
  const command = mode === 'native' ? nativeCollectorCommand(buildNativeCollectorInto(base), fifoDir, logs.dir, logs.limits) : undefined;
  const driver = new LinuxProcessDriver({
    logs,
    runtimeId,
    timestamps: mode === 'native' ? 'collector' : mode,
    collector: { fifoDir, command },
  });
  const probe = await driver.start(spec('probe', process.execPath, ['-e', PROBE]), 'probe');
  // The quiet window opens once the probe's lines reach the log (the collector runs: from source, tsx starts it in seconds on a busy host).
  while (!fs.existsSync(logs.logPath('probe')) || !fs.readFileSync(logs.logPath('probe'), 'utf8').includes(' out probe ')) await sleep(100);
  await sleep(500);
  const quietFrom = Date.now();
  await sleep(seconds * 1000);
  const quietTo = Date.now();

  const names = Array.from({ length: instances }, (_, i) => `flood-${i + 1}`);
  const floods: RunningProcess[] = [];
  for (const name of names) floods.push(await driver.start(spec(name, 'yes', [LINE]), name));
  await sleep(1000); // warm up
  const bytes0 = logBytes(logs, names);
  const ticks0 = stamperTicks(mode, runtimeId);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const bytes1 = logBytes(logs, names);
  const ticks1 = stamperTicks(mode, runtimeId);
  const t1 = Date.now();
  for (const f of floods) await driver.stop(f, 'SIGKILL', 1000);
  await driver.stop(probe, 'SIGKILL', 1000);

  const lines = (bytes1 - bytes0) / STAMPED_LINE_BYTES;
  const secondsRun = (t1 - t0) / 1000;
  const cpu = (ticks1 - ticks0) / 100 / secondsRun;
  const stampers = mode === 'bash' ? `${2 * (instances + 1)} bash loops` : `1 ${mode === 'native' ? 'native' : 'Node'} collector`;
  console.log(`\n${mode} (${stampers}), ${instances} flooding instances, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}:`);
  console.log(
    `  throughput: ${Math.round(lines / secondsRun).toLocaleString('en')} lines/s (100-byte lines), stamping CPU ${(cpu * 100).toFixed(0)}% of one core`,
  );
  console.log(`  write-to-stamp delay, quiet:    ${describeDelays(probeDelays(logs, 'probe', quietFrom, quietTo))}`);
  console.log(`  write-to-stamp delay, flooding: ${describeDelays(probeDelays(logs, 'probe', t0, t1))}`);
}

try {
  for (const mode of modes) await run(mode);
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
process.exit(0);

/**
 * Runtime benchmark: our bundled sutazai-runtime daemon against PM2 (npm) and supervisord
 * (Debian), side by side in one run, each supervising the same trivial program
 * (`/bin/sh -c 'echo up; exec sleep 1000000'`). Prints, with ours/PM2 and ours/supervisord:
 *   - restart latency after `kill -9` of the program (p50/p95 over BENCH_KILLS kills), and a
 *     bare spawn of the same program as the floor;
 *   - the daemon's RSS (VmRSS, VmHWM) with 10 children and the 1 Hz metrics on, and, apart,
 *     the extra processes our runtime adds per instance (the log stamper loops);
 *   - the daemon's CPU (utime+stime) with 100 idle children over BENCH_IDLE_S seconds.
 * Exits 0 whatever the figures are (a benchmark, not a test).
 *
 *   npm run bench:runtime     (scripts/bench-runtime.sh installs supervisor and builds the bundle)
 *   BENCH_KILLS=50 BENCH_IDLE_S=10 BENCH_RSS_S=10 npm run bench:runtime   (a quicker run)
 *   BENCH_PARTS=rss,idle npm run bench:runtime                            (some of restart, rss, idle)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIMESTAMP_SHIM_SOURCE } from '../../agents-runtime/src/logs/timestamp-shim';
import { makeTempDir } from '../support/temp-dir';
import { ours, pm2, supervisord, type Supervisor } from './runtime-bench-peers';
import {
  BENCH_ENV,
  CLOCK_TICKS_PER_S,
  commOf,
  cpuTicksOf,
  killQuietly,
  markedProcesses,
  memoryOf,
  numericPids,
  percentile,
  PROGRAM,
  readyPrograms,
  sleep,
  waitForNewProgram,
} from './runtime-bench-procs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KILLS = Math.max(1, Number(process.env['BENCH_KILLS'] ?? 60));
const WARM_UP_KILLS = 3;
const IDLE_S = Number(process.env['BENCH_IDLE_S'] ?? 60);
const RSS_S = Number(process.env['BENCH_RSS_S'] ?? 15);
const SETTLE_MS = 5_000;
/**
 * Memory is judged in steady state, the same way for all three: after this settle time,
 * the median of 1 s samples. Start-up garbage (parsing, spawning every child) sits in the
 * heap until a major GC; VmHWM in the table still shows that peak.
 */
const RSS_SETTLE_MS = Number(process.env['BENCH_RSS_SETTLE_S'] ?? 20) * 1000;
const RESTART_TIMEOUT_MS = 10_000;
/** Pause between kills, so a restart is never measured while the previous one is still settling. */
const BETWEEN_KILLS_MS = 150;
const RSS_CHILDREN = 10;
const IDLE_CHILDREN = 100;
const TARGET = { floorSlackMs: 20, rssMb: 60, cpuPercent: 1 };
/** BENCH_PARTS=restart,rss,idle picks the measurements (quicker runs while tuning); default all three. */
const PARTS = new Set((process.env['BENCH_PARTS'] ?? 'restart,rss,idle').split(',').map((p) => p.trim()));

interface Restart {
  samples: number[];
  failures: number;
}
interface Rss {
  rssMb: number;
  hwmMb: number;
  extraCount: number;
  extraRssMb: number;
}
interface Idle {
  cpuPercent: number;
  rssMb: number;
  extraCount: number;
  extraRssMb: number;
  extraCpuPercent: number;
}
interface Row {
  name: string;
  restart?: Restart | Error;
  rss?: Rss | Error;
  idle?: Idle | Error;
}

const runTag = `rtb${process.pid}x${Date.now().toString(36)}`;
const tmp = makeTempDir('sutazai-bench-runtime-');
const supervisors: Supervisor[] = [];
let cleanedUp = false;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const mb = (kb: number): number => kb / 1024;

function versionOf(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').pop()?.trim() || '?';
}

/** From its package.json: any `pm2` command, `--version` included, starts a God daemon. */
function pm2Version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/pm2/package.json'), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

function bundlePath(): string {
  const given = process.env['SUTAZAI_BENCH_RUNTIME_BUNDLE'];
  if (given !== undefined && given !== '') return given;
  const outdir = path.join(tmp.path, 'runtime');
  execFileSync(process.execPath, [path.join(ROOT, 'agents-runtime/build-runtime.mjs'), '--outdir', outdir], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 120_000,
  });
  return path.join(outdir, 'sutazai-runtime.cjs');
}

function which(command: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

type FloorMode = 'bare' | 'node';

/**
 * The floor: time from spawn() of the program to its ready state, with the same detector as
 * the restarts. Our runtime spawns the program itself and its log stamper loops beside it
 * (bash-stamper.ts), so its floor is the bare spawn; 'node' starts it under the Node shim
 * (`logs.timestamps: node`), to show what that way of stamping lines costs.
 */
async function measureFloor(mode: FloorMode): Promise<Restart> {
  const tag = `${runTag}-floor-${mode}`;
  const env = { ...process.env, [BENCH_ENV]: tag };
  const [file, args]: [string, string[]] =
    mode === 'node'
      ? [process.execPath, ['-e', TIMESTAMP_SHIM_SOURCE, '--', PROGRAM.command, ...PROGRAM.args]]
      : [PROGRAM.command, [...PROGRAM.args]];
  const samples: number[] = [];
  let failures = 0;
  for (let i = 0; i < WARM_UP_KILLS + KILLS; i += 1) {
    const before = new Set(numericPids());
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: 'ignore', detached: true });
    const seen = waitForNewProgram(before, tag, RESTART_TIMEOUT_MS);
    if (seen === null) failures += 1;
    else if (i >= WARM_UP_KILLS) samples.push(seen.at - t0);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    killQuietly(-child.pid!);
    await exited;
    await sleep(BETWEEN_KILLS_MS);
  }
  return { samples, failures };
}

async function measureRestart(sup: Supervisor, key: string): Promise<Restart> {
  const tag = `${runTag}-${key}-restart`;
  await sup.start(tag, 1);
  try {
    await sleep(1_000);
    let current = readyPrograms(tag)[0];
    if (current === undefined) throw new Error('the program is not running');
    const samples: number[] = [];
    let failures = 0;
    for (let i = 0; i < WARM_UP_KILLS + KILLS; i += 1) {
      const before = new Set(numericPids());
      const t0 = performance.now();
      process.kill(current, 'SIGKILL');
      const seen = waitForNewProgram(before, tag, RESTART_TIMEOUT_MS);
      if (seen === null) {
        failures += 1;
        const again = readyPrograms(tag)[0];
        if (again === undefined)
          throw new Error(`no new program ${RESTART_TIMEOUT_MS} ms after kill -9 #${i + 1}; ${sup.name} stopped restarting it`);
        current = again;
      } else {
        if (i >= WARM_UP_KILLS) samples.push(seen.at - t0);
        current = seen.pid;
      }
      await sleep(BETWEEN_KILLS_MS);
    }
    return { samples, failures };
  } finally {
    await sup.stop();
  }
}

function sumRssKb(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (memoryOf(pid)?.rssKb ?? 0), 0);
}

async function measureRss(sup: Supervisor, key: string): Promise<Rss> {
  const tag = `${runTag}-${key}-rss`;
  await sup.start(tag, RSS_CHILDREN);
  try {
    await sleep(RSS_SETTLE_MS);
    const pid = sup.daemonPid();
    const rss: number[] = [];
    for (let s = 0; s < RSS_S; s += 1) {
      await sleep(1_000);
      const m = memoryOf(pid);
      if (m === null) throw new Error(`${sup.name}'s daemon (pid ${pid}) is gone`);
      rss.push(m.rssKb);
    }
    const last = memoryOf(pid)!;
    if (process.env['BENCH_VERBOSE'] === '1') log(`    ${sup.name} VmRSS each second (MB): ${rss.map((kb) => f1(mb(kb))).join(' ')}`);
    const extra = sup.extraPids();
    return { rssMb: mb(percentile(rss, 50)), hwmMb: mb(last.hwmKb), extraCount: extra.length, extraRssMb: mb(sumRssKb(extra)) };
  } finally {
    await sup.stop();
  }
}

async function measureIdle(sup: Supervisor, key: string): Promise<Idle> {
  const tag = `${runTag}-${key}-idle`;
  await sup.start(tag, IDLE_CHILDREN);
  try {
    await sleep(SETTLE_MS);
    const pid = sup.daemonPid();
    const extra = sup.extraPids();
    const extraTicks = (): number => extra.reduce((sum, p) => sum + (cpuTicksOf(p) ?? 0), 0);
    const t0 = performance.now();
    const ticks0 = cpuTicksOf(pid);
    const extra0 = extraTicks();
    await sleep(IDLE_S * 1000);
    const ticks1 = cpuTicksOf(pid);
    const seconds = (performance.now() - t0) / 1000;
    if (ticks0 === null || ticks1 === null) throw new Error(`${sup.name}'s daemon (pid ${pid}) is gone`);
    const pct = (ticks: number): number => (ticks / CLOCK_TICKS_PER_S / seconds) * 100;
    const programs = readyPrograms(tag).length;
    if (programs < IDLE_CHILDREN) throw new Error(`only ${programs} of ${IDLE_CHILDREN} programs were running at the end`);
    return {
      cpuPercent: pct(ticks1 - ticks0),
      rssMb: mb(memoryOf(pid)?.rssKb ?? NaN),
      extraCount: extra.length,
      extraRssMb: mb(sumRssKb(extra)),
      extraCpuPercent: pct(extraTicks() - extra0),
    };
  } finally {
    await sup.stop();
  }
}

async function attempt<T>(what: string, run: () => Promise<T>): Promise<T | Error> {
  log(`  ${what} ...`);
  try {
    return await run();
  } catch (error) {
    log(`  ${what} FAILED: ${(error as Error).message}`);
    return error as Error;
  }
}

// ---- report ----------------------------------------------------------------------------

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '?');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '?');
const ok = <T>(v: T | Error | undefined): v is T => v !== undefined && !(v instanceof Error);
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;
const verdict = (met: boolean | undefined): string => (met === undefined ? 'n/a (a measurement failed)' : met ? 'met' : 'NOT met');

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) log(`  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')}`);
}

function report(floor: Restart | Error, nodeFloor: Restart | Error, rows: Row[]): void {
  const [o, p, s] = rows as [Row, Row, Row];
  const p50 = (r: Row['restart'] | Restart | Error): number | undefined => (ok(r) ? percentile(r.samples, 50) : undefined);
  const p95 = (r: Row['restart'] | Restart | Error): number | undefined => (ok(r) ? percentile(r.samples, 95) : undefined);
  const show = (n: number | undefined, digits = 1): string => (n === undefined ? 'FAILED' : digits === 2 ? f2(n) : f1(n));
  const samples = (r: Row['restart'] | Restart | Error): string =>
    ok(r) ? `${r.samples.length}${r.failures > 0 ? ` (${r.failures} timed out)` : ''}` : 'FAILED';
  const rssOf = (r: Row): number | undefined => (ok(r.rss) ? r.rss.rssMb : undefined);
  const hwmOf = (r: Row): number | undefined => (ok(r.rss) ? r.rss.hwmMb : undefined);
  const cpuOf = (r: Row): number | undefined => (ok(r.idle) ? r.idle.cpuPercent : undefined);

  log('');
  log(
    `Restart latency after kill -9 of the program, until a new pid of it is ready (ms; ${KILLS} kills each after ${WARM_UP_KILLS} warm-up):`,
  );
  table([
    ['', 'p50', 'p95', 'max', 'samples'],
    ['bare spawn (floor)', show(p50(floor)), show(p95(floor)), ok(floor) ? f1(Math.max(...floor.samples)) : '-', samples(floor)],
    [
      'bare spawn via the Node shim (info)',
      show(p50(nodeFloor)),
      show(p95(nodeFloor)),
      ok(nodeFloor) ? f1(Math.max(...nodeFloor.samples)) : '-',
      samples(nodeFloor),
    ],
    ...rows.map((r) => [
      r.name,
      show(p50(r.restart)),
      show(p95(r.restart)),
      ok(r.restart) ? f1(Math.max(...r.restart.samples)) : '-',
      samples(r.restart),
    ]),
  ]);
  log('');
  log(
    `Daemon memory with ${RSS_CHILDREN} children, ${RSS_SETTLE_MS / 1000} s after start, over ${RSS_S} s (median VmRSS of 1 s samples; VmHWM, the peak since start; MB):`,
  );
  table([
    ['', 'VmRSS', 'VmHWM', 'extra processes', 'their RSS'],
    ...rows.map((r) => [
      r.name,
      show(rssOf(r)),
      show(hwmOf(r)),
      ok(r.rss) ? String(r.rss.extraCount) : '-',
      ok(r.rss) ? f1(r.rss.extraRssMb) : '-',
    ]),
  ]);
  log(`Daemon CPU with ${IDLE_CHILDREN} idle children over ${IDLE_S} s (% of one core; RSS at the end, MB):`);
  table([
    ['', 'CPU %', 'VmRSS', 'extra processes', 'their RSS', 'their CPU %'],
    ...rows.map((r) => [
      r.name,
      show(cpuOf(r), 2),
      ok(r.idle) ? f1(r.idle.rssMb) : '-',
      ok(r.idle) ? String(r.idle.extraCount) : '-',
      ok(r.idle) ? f1(r.idle.extraRssMb) : '-',
      ok(r.idle) ? f2(r.idle.extraCpuPercent) : '-',
    ]),
  ]);
  log('');
  log('Ratios (ours / peer):');
  table([
    ['', 'ours/PM2', 'ours/supervisord'],
    ['restart p50', ratio(p50(o.restart), p50(p.restart)), ratio(p50(o.restart), p50(s.restart))],
    ['restart p95', ratio(p95(o.restart), p95(p.restart)), ratio(p95(o.restart), p95(s.restart))],
    [`daemon VmRSS, ${RSS_CHILDREN} children`, ratio(rssOf(o), rssOf(p)), ratio(rssOf(o), rssOf(s))],
    [`daemon CPU, ${IDLE_CHILDREN} idle children`, ratio(cpuOf(o), cpuOf(p)), ratio(cpuOf(o), cpuOf(s))],
  ]);

  const oursP95 = p95(o.restart);
  const peersP95 = [p95(p.restart), p95(s.restart)].filter((v): v is number => v !== undefined);
  const floorP95 = p95(floor);
  log('');
  log('Targets:');
  table([
    ['target', 'figure', 'verdict'],
    [
      'restart p95 <= the better of PM2 and supervisord',
      oursP95 === undefined || peersP95.length === 0 ? '-' : `${f1(oursP95)} vs ${f1(Math.min(...peersP95))} ms`,
      verdict(oursP95 === undefined || peersP95.length < 2 ? undefined : oursP95 <= Math.min(...peersP95)),
    ],
    [
      `restart p95 within ${TARGET.floorSlackMs} ms of the floor's p95`,
      oursP95 === undefined || floorP95 === undefined ? '-' : `+${f1(oursP95 - floorP95)} ms`,
      verdict(oursP95 === undefined || floorP95 === undefined ? undefined : oursP95 - floorP95 <= TARGET.floorSlackMs),
    ],
    [
      `daemon VmRSS <= ${TARGET.rssMb} MB (${RSS_CHILDREN} children, 1 Hz metrics)`,
      rssOf(o) === undefined ? '-' : `${f1(rssOf(o)!)} MB`,
      verdict(rssOf(o) === undefined ? undefined : rssOf(o)! <= TARGET.rssMb),
    ],
    [
      `daemon idle CPU <= ${TARGET.cpuPercent}% of one core`,
      cpuOf(o) === undefined ? '-' : `${f2(cpuOf(o)!)}%`,
      verdict(cpuOf(o) === undefined ? undefined : cpuOf(o)! <= TARGET.cpuPercent),
    ],
  ]);
  if (ok(o.rss) && o.rss.extraCount > 0) {
    log('');
    log(
      `Not in the RSS target but part of our footprint: each instance's output is timestamped by two small bash loops ` +
        `(bash-stamper.ts; ${o.rss.extraCount} for ${RSS_CHILDREN} children: ${f1(o.rss.extraRssMb)} MB summed VmRSS, ` +
        `most of it pages shared with every other bash). PM2 and supervisord add no process per child (they sit in the pipes themselves, ` +
        `so their children depend on them to live).`,
    );
  }
}

// ---- main ------------------------------------------------------------------------------

async function cleanUp(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const sup of supervisors) await sup.stop().catch(() => undefined);
  for (const pid of markedProcesses(runTag)) killQuietly(pid);
  tmp.remove();
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  const supervisordBin = which('supervisord');
  const pm2Bin = path.join(ROOT, 'node_modules/.bin/pm2');
  if (supervisordBin === null)
    throw new Error('supervisord is not installed. Remedy: apt-get install supervisor (scripts/bench-runtime.sh does it as root)');
  if (!fs.existsSync(pm2Bin)) throw new Error('node_modules/.bin/pm2 is missing. Remedy: npm ci');

  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  log(
    `Runtime benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load at start ${load}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}`,
  );
  log(`  node ${process.version}; PM2 ${pm2Version()}; supervisord ${versionOf(supervisordBin, ['--version'])}`);
  log(`  program (all three and the floor): ${PROGRAM.command} ${PROGRAM.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`);
  log(
    "  ready = a new pid whose /proc/PID/cmdline is `sleep 1000000` (the line is printed, exec done) and carries the run's marker; /proc polled every ~1 ms",
  );
  log('  restart settings: ours restart: always, backoff initial_ms 0, factor 1, jitter 0, crash_loop after 1e9;');
  log(
    '                    PM2 autorestart, restart_delay 0, min_uptime 0, max_restarts 1e9; supervisord autorestart=true, startsecs=0, startretries=1e9',
  );

  const bundle = bundlePath();
  const oursSup = ours({ bundle, dir: path.join(tmp.path, 'ours') });
  const pm2Sup = pm2({ bin: pm2Bin, dir: path.join(tmp.path, 'pm2') });
  const svSup = supervisord({ bin: supervisordBin, dir: path.join(tmp.path, 'supervisord') });
  supervisors.push(oursSup, pm2Sup, svSup);
  const keys = ['ours', 'pm2', 'supervisord'];
  const rows: Row[] = supervisors.map((sup) => ({ name: sup.name }));

  log('');
  log('Restart latency:');
  const skipped = new Error('not measured (BENCH_PARTS)');
  const floor = PARTS.has('restart') ? await attempt('bare spawn (floor)', () => measureFloor('bare')) : skipped;
  const nodeFloor = PARTS.has('restart')
    ? await attempt('bare spawn under the Node shim (logs.timestamps: node)', () => measureFloor('node'))
    : skipped;
  if (PARTS.has('restart'))
    for (const [i, sup] of supervisors.entries()) rows[i]!.restart = await attempt(sup.name, () => measureRestart(sup, keys[i]!));
  if (PARTS.has('rss')) {
    log(`Daemon RSS with ${RSS_CHILDREN} children (${RSS_SETTLE_MS / 1000} s to settle, then ${RSS_S} s each):`);
    for (const [i, sup] of supervisors.entries()) rows[i]!.rss = await attempt(sup.name, () => measureRss(sup, keys[i]!));
  }
  if (PARTS.has('idle')) {
    log(`Daemon CPU with ${IDLE_CHILDREN} idle children (${IDLE_S} s each):`);
    for (const [i, sup] of supervisors.entries()) rows[i]!.idle = await attempt(sup.name, () => measureIdle(sup, keys[i]!));
  }

  report(floor, nodeFloor, rows);
  const left = markedProcesses(runTag).filter((pid) => commOf(pid) !== null);
  if (left.length > 0) log(`\nnote: ${left.length} marked processes were still running before clean-up; they are killed now`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:runtime: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());

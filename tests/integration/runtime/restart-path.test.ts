// The restart path after kill -9 (issue 13, item 2), with the real supervisor and driver:
// between an exit and its respawn there is bookkeeping only, no walk of /proc and no read of
// the log; the sweep for the killed run's setsid escapees and the read of the crash's last
// lines come after the respawn, and still happen. A process an earlier daemon started is
// seen to exit through its lifeline, not by a poll; one adopted again after a manifest update
// is watched by one handle.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';
import { startRuntimeDaemon, type RuntimeDaemon } from '../../../agents-runtime/src/daemon/runtime-daemon';
import type { RuntimeEvent } from '../../../agents-runtime/src/daemon/runtime-event';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { lastLinesUntil } from '../../../agents-runtime/src/logs/log-tail';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { INSTANCE_ENV, LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import { readProcStat, scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { systemClock, type ExitInfo, type RunningProcess } from '../../../agents-runtime/src/supervisor/driver';
import { FleetSupervisor } from '../../../agents-runtime/src/supervisor/fleet-supervisor';
import { createHealthProbe } from '../../../agents-runtime/src/supervisor/health-checks';
import { killMarkedProcesses, removeDefaultFifoDir } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-restart-path-');
const runtimeId = `restart-path-test-${process.pid}-${Date.now()}`;
const runtimeIds = [runtimeId];
const standIns: ChildProcess[] = [];

afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  for (const d of standIns) d.kill('SIGKILL');
  for (const id of runtimeIds) killMarkedProcesses(id);
  for (const id of runtimeIds) removeDefaultFifoDir(id);
  tmp.remove();
});

const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 10 });

function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

const gone = (pid: number): boolean => /^(gone|Z)$/.test(readProcStat(pid)?.state ?? 'gone');

describe('restart after kill -9', () => {
  it('respawns before any walk of /proc; the killed run’s setsid escapee is swept after the respawn, the new run’s is left alone', async () => {
    const manifest = parseManifest(
      `
version: 1
processes:
  - name: forker
    command: sh
    args: ["-c", "setsid sleep 304 & exec sleep 300"]
    backoff: { initial_ms: 0, jitter: 0 }
    stop: { grace_ms: 2000 }
`,
      'restart-path.yaml',
    );
    // The default log stamping, as the daemon runs it.
    const driver = new LinuxProcessDriver({ logs: new LogFiles(path.join(tmp.path, 'logs')), runtimeId });
    const fleet = new FleetSupervisor({ manifest, driver, probe: createHealthProbe(), clock: systemClock });
    const escapeeOf = (leader: number) =>
      scanProcessesByEnv(INSTANCE_ENV, 'forker').find(({ stat }) => stat.pgid !== leader && cmdlineOf(stat.pid) === 'sleep 304');
    const runningPid = (not?: number) => {
      const s = fleet.instance('forker')?.snapshot();
      return s?.state === 'running' && s.pid !== null && s.pid !== not ? s.pid : null;
    };

    fleet.startAll();
    try {
      const first = await waitFor('forker running', () => runningPid());
      const firstEscapee = await waitFor("the first run's escapee", () => escapeeOf(first));

      // From here on the test itself reads /proc only by pid (no walk) until the respawn is seen.
      const trace: string[] = [];
      fleet.on((e) => {
        if (e.kind === 'state' && e.exit !== undefined) trace.push('exit');
      });
      const start = driver.start.bind(driver);
      vi.spyOn(driver, 'start').mockImplementation((spec, instance) => {
        trace.push('spawn');
        return start(spec, instance);
      });
      const readdirSync = fs.readdirSync.bind(fs);
      vi.spyOn(fs, 'readdirSync').mockImplementation(((dir: fs.PathLike, ...rest: unknown[]) => {
        if (String(dir) === '/proc') trace.push('proc walk');
        return (readdirSync as (...a: unknown[]) => unknown)(dir, ...rest);
      }) as typeof fs.readdirSync);
      // The non-blocking walk lists /proc with fs's callback API (agents-runtime/src/linux/async-fs.ts).
      const readdir = fs.readdir.bind(fs);
      vi.spyOn(fs, 'readdir').mockImplementation(((dir: fs.PathLike, ...rest: unknown[]) => {
        if (String(dir) === '/proc') trace.push('proc walk (non-blocking)');
        return (readdir as (...a: unknown[]) => unknown)(dir, ...rest);
      }) as typeof fs.readdir);

      process.kill(first, 'SIGKILL');
      const second = await waitFor('forker running again', () => runningPid(first));
      await waitFor("the first run's escapee to be swept", () => gone(firstEscapee.stat.pid));

      // The supervisor spawns in the turn the exit is reported and tells its listeners after.
      const spawnAt = trace.indexOf('spawn');
      expect(spawnAt).toBeGreaterThanOrEqual(0);
      expect(trace.slice(spawnAt, spawnAt + 2)).toEqual(['spawn', 'exit']);
      expect(trace.slice(0, spawnAt)).not.toContain('proc walk');
      // The sweep that stopped the escapee scanned after the respawn.
      expect(trace.slice(spawnAt + 2)).toContain('proc walk (non-blocking)');
      vi.restoreAllMocks();

      const secondEscapee = await waitFor("the second run's escapee", () => escapeeOf(second));
      expect(gone(secondEscapee.stat.pid)).toBe(false);
      expect(gone(second)).toBe(false);
    } finally {
      vi.restoreAllMocks();
      await fleet.stopAll();
    }
  });
  it('spawns with no synchronous file system call between the kill and the spawn: the working directory, command and log directory were checked at the first start', async () => {
    const manifest = parseManifest(
      `
version: 1
processes:
  - name: plain
    command: sh
    args: ["-c", "echo up; exec sleep 300"]
    backoff: { initial_ms: 0, jitter: 0 }
    stop: { grace_ms: 2000 }
`,
      'restart-path-sync.yaml',
    );
    // The default log stamping (the log collector, as the daemon runs it).
    const driver = new LinuxProcessDriver({ logs: new LogFiles(path.join(tmp.path, 'sync-logs')), runtimeId });
    expect(driver.timestamps).toBe('collector');
    const fleet = new FleetSupervisor({ manifest, driver, probe: createHealthProbe(), clock: systemClock });
    const runningPid = (not?: number) => {
      const s = fleet.instance('plain')?.snapshot();
      return s?.state === 'running' && s.pid !== null && s.pid !== not ? s.pid : null;
    };
    fleet.startAll();
    try {
      const first = await waitFor('plain running', () => runningPid());
      const trace: string[] = [];
      const start = driver.start.bind(driver);
      vi.spyOn(driver, 'start').mockImplementation((spec, instance) => {
        const started = start(spec, instance);
        // start() runs up to the spawn() call before it returns its promise.
        trace.push('spawn');
        return started;
      });
      for (const name of [
        'statSync',
        'lstatSync',
        'accessSync',
        'existsSync',
        'mkdirSync',
        'openSync',
        'readFileSync',
        'readdirSync',
        'writeFileSync',
        'closeSync',
        'rmSync',
      ] as const) {
        const real = (fs[name] as (...a: unknown[]) => unknown).bind(fs);
        vi.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
          trace.push(`fs.${name} ${String(args[0])}`);
          return real(...args);
        }) as never);
      }
      process.kill(first, 'SIGKILL');
      await waitFor('plain running again', () => runningPid(first));
      vi.restoreAllMocks();
      const spawnAt = trace.indexOf('spawn');
      expect(spawnAt).toBeGreaterThanOrEqual(0);
      expect(trace.slice(0, spawnAt)).toEqual([]);
    } finally {
      vi.restoreAllMocks();
      await fleet.stopAll();
    }
  });
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('a crash’s last lines, with the daemon', () => {
  const root = path.join(tmp.path, 'daemon');
  const logFile = path.join(root, 'logs', 'talker.log');
  const manifestOf = (extra = ''): string => `version: 1
processes:
  - name: talker
    command: sh
    args: ["-c", "echo \\"last words of $$\\"; exec sleep 300"]
    backoff: { initial_ms: 0, jitter: 0 }
    stop: { grace_ms: 2000 }
${extra}`;
  let daemon: RuntimeDaemon;
  const events: RuntimeEvent[] = [];
  const trace: string[] = [];

  const runningPid = (not?: number): number | null => {
    const i = daemon.api.listProcesses().find((p) => p.name === 'talker')?.instances[0];
    return i?.state === 'running' && i.pid !== null && i.pid !== not ? i.pid : null;
  };

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'manifest.yaml'), manifestOf());
    // No TLS material: the gRPC server retries in the background; the in-process API is enough here.
    const config = parseRuntimeConfig(
      `manifest: manifest.yaml\ntls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }\nstate_dir: ${root}/state\nlog_dir: ${root}/logs\n`,
      path.join(root, 'etc', 'runtime.yaml'),
    );
    daemon = await startRuntimeDaemon(config, { log: quiet, serverRetryMs: 60_000 });
    runtimeIds.push(daemon.runtimeId);
    daemon.api.watchEvents(0, (e) => {
      if (e.instance !== 'talker') return;
      events.push(e);
      trace.push(e.kind === 'process.state' ? `state ${e.state}` : e.kind);
    });
  });
  afterAll(async () => {
    await daemon?.close(true);
  });

  it('are read after the respawn and without blocking; the exit event carries them, before the next run’s events', async () => {
    const first = await waitFor('talker running', () => runningPid());
    await waitFor(
      'its line in the log',
      () => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes(`last words of ${first}`),
    );

    const start = LinuxProcessDriver.prototype.start;
    vi.spyOn(LinuxProcessDriver.prototype, 'start').mockImplementation(function (this: LinuxProcessDriver, spec, instance) {
      trace.push('spawn');
      return start.call(this, spec, instance);
    });
    const openSync = fs.openSync.bind(fs);
    vi.spyOn(fs, 'openSync').mockImplementation(((file: fs.PathLike, flags?: fs.OpenMode, ...rest: unknown[]) => {
      // The spawn opens the log for appending (logs.timestamps raw); only reads count here.
      if (String(file) === logFile && (flags === undefined || flags === 'r')) trace.push('blocking log read');
      return (openSync as (...a: unknown[]) => number)(file, flags, ...rest);
    }) as typeof fs.openSync);
    const open = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, 'open').mockImplementation(((file: fs.PathLike, ...rest: unknown[]) => {
      if (String(file) === logFile) trace.push('log read');
      return (open as (...a: unknown[]) => unknown)(file, ...rest);
    }) as typeof fs.promises.open);

    trace.length = 0;
    events.length = 0;
    process.kill(first, 'SIGKILL');
    await waitFor('the next run’s running event', () => trace.filter((t) => t === 'state running').length > 0);
    vi.restoreAllMocks();

    expect(trace).toEqual(['spawn', 'state backoff', 'log read', 'process.exit', 'state starting', 'state running']);
    const exit = events.find((e) => e.kind === 'process.exit')!;
    expect(exit.message).toMatch(/^talker killed by SIGKILL; now backoff\nlast log lines:\n/);
    expect(exit.lastLines.some((line) => line.endsWith(`last words of ${first}`))).toBe(true);
    expect(exit.lastLines.at(-1)).toMatch(new RegExp(`last words of ${first}$`));
    expect(runningPid(first)).not.toBeNull();
  });

  it('an instance a manifest update keeps is watched by the handle it had: its exit status is known (not that of an adopted process)', async () => {
    const before = await waitFor('talker running', () => runningPid());
    await daemon.api.updateManifest(
      manifestOf(`  - name: other
    command: sh
    args: ["-c", "exec sleep 300"]
    stop: { grace_ms: 2000 }
`),
    );
    expect(runningPid()).toBe(before);
    events.length = 0;
    process.kill(before, 'SIGKILL');
    const exit = await waitFor('the exit event', () => events.find((e) => e.kind === 'process.exit'));
    expect(exit.message).toMatch(/^talker killed by SIGKILL; now backoff/);
    await waitFor('talker running again', () => runningPid(before));
  });
});

describe('a program that writes a line and exits at once, until it crash-loops, with the daemon', () => {
  it('every run’s line is in its log, each exit event quotes the lines up to its own run’s, and the crash-loop event the last of them', async () => {
    const root = path.join(tmp.path, 'fast-exit');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    // The first run meets a collector still starting: its line waits in the FIFO, and must still be in its exit's event.
    fs.writeFileSync(
      path.join(root, 'etc', 'manifest.yaml'),
      `version: 1
processes:
  - name: quitter
    command: sh
    args: ["-c", "echo \\"cannot serve health (run $$)\\"; exit 1"]
    backoff: { initial_ms: 0, jitter: 0 }
`,
    );
    const config = parseRuntimeConfig(
      `manifest: manifest.yaml\ntls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }\nstate_dir: ${root}/state\nlog_dir: ${root}/logs\n`,
      path.join(root, 'etc', 'runtime.yaml'),
    );
    const daemon = await startRuntimeDaemon(config, { log: quiet, serverRetryMs: 60_000 });
    runtimeIds.push(daemon.runtimeId);
    const events: RuntimeEvent[] = [];
    daemon.api.watchEvents(0, (e) => {
      if (e.instance === 'quitter') events.push(e);
    });
    try {
      const loop = await waitFor('the crash-loop event', () => events.find((e) => e.kind === 'process.crash-loop'));
      const runLine = /cannot serve health \(run (\d+)\)$/;
      const logged = fs
        .readFileSync(path.join(root, 'logs', 'quitter.log'), 'utf8')
        .split('\n')
        .filter((line) => line !== '');
      const exits = events.filter((e) => e.kind === 'process.exit');
      // Five restarts allowed, the sixth failure enters crash-loop (manifest defaults): six runs, one line each.
      expect(exits).toHaveLength(6);
      expect(logged).toHaveLength(6);
      for (const line of logged) expect(line).toMatch(runLine);
      const runs = logged.map((line) => line.match(runLine)![1]);
      expect(new Set(runs).size).toBe(6);
      // Exit n quotes the lines of runs 1..n, in order, whatever the collector's pace.
      exits.forEach((exit, n) => expect(exit.lastLines).toEqual(logged.slice(0, n + 1)));
      expect(loop.lastLines).toEqual(logged);
      expect(loop.message).toContain(`last log lines:\n${logged.join('\n')}`);
    } finally {
      await daemon.close(true);
    }
  });
});

describe('crash lines up to the exit', () => {
  it('leave out what the next run wrote after the exit was reported, and keep unstamped lines', async () => {
    const logs = new LogFiles(path.join(tmp.path, 'until-logs'));
    fs.mkdirSync(logs.dir, { recursive: true });
    const at = Date.parse('2026-12-06T01:00:00.000Z');
    const line = (ms: number, text: string): string => `${new Date(ms).toISOString()} out ${text}`;
    fs.writeFileSync(
      logs.logPath('crashed'),
      [line(at - 2, 'one'), line(at - 1, 'two'), 'unstamped', line(at, 'last'), line(at + 1, 'next run'), line(at + 5, 'next run 2')].join(
        '\n',
      ) + '\n',
    );
    expect(await lastLinesUntil(logs, 'crashed', 20, at)).toEqual([
      line(at - 2, 'one'),
      line(at - 1, 'two'),
      'unstamped',
      line(at, 'last'),
    ]);
    // As many lines as asked, the next run's taking none of the places.
    expect(await lastLinesUntil(logs, 'crashed', 2, at)).toEqual(['unstamped', line(at, 'last')]);
    expect(await lastLinesUntil(logs, 'missing', 20, at)).toEqual([]);
  });
});

function exitOf(proc: RunningProcess): Promise<ExitInfo> {
  return new Promise((resolve) => proc.onExit(resolve));
}

describe('a process an earlier daemon started', () => {
  const lifelineDir = path.join(tmp.path, 'lifelines');
  const logDir = path.join(tmp.path, 'stand-in-logs');
  const standInId = `${runtimeId}-stand-in`;
  runtimeIds.push(standInId);

  /** Starts `script` under a stand-in daemon (its own process), kills that daemon -9, and returns the orphaned instance. */
  async function orphan(instance: string, script: string): Promise<{ pid: number; startTime: string }> {
    const standIn = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/support/raw-driver-daemon.ts',
        ...['--logs', logDir, '--lifelines', lifelineDir, '--id', standInId, '--instance', instance, '--script', script],
      ],
      { cwd: path.resolve(import.meta.dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    standIns.push(standIn);
    let out = '';
    standIn.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const started = await waitFor('the stand-in daemon’s started line', () => /^\{.*\}$/m.exec(out)?.[0], 30_000);
    standIn.kill('SIGKILL');
    await new Promise((resolve) => standIn.once('exit', resolve));
    return JSON.parse(started) as { pid: number; startTime: string };
  }

  const adopter = (polls: { adoptPollMs: number; adoptFallbackPollMs: number }): LinuxProcessDriver =>
    new LinuxProcessDriver({ logs: new LogFiles(logDir), runtimeId: standInId, timestamps: 'raw', lifelineDir, ...polls });

  it('is seen to exit through its lifeline, with no poll before the next hour', async () => {
    const { pid, startTime } = await orphan('lone', 'exec sleep 300');
    const adopted = adopter({ adoptPollMs: 3_600_000, adoptFallbackPollMs: 3_600_000 }).adopt('lone', pid, startTime)!;
    expect(adopted.pid).toBe(pid);
    const exited = exitOf(adopted);
    process.kill(pid, 'SIGKILL');
    expect(await exited).toEqual({ code: null, signal: null });
    expect(gone(pid)).toBe(true);
  });

  it('that keeps writing to its lifeline is still adopted, and seen to exit through it', async () => {
    // What it writes is read away (a full pipe's worth at most when adopted), never taken for an end.
    const { pid, startTime } = await orphan('chatty', 'exec yes lifeline >&3');
    const adopted = adopter({ adoptPollMs: 3_600_000, adoptFallbackPollMs: 3_600_000 }).adopt('chatty', pid, startTime)!;
    expect(adopted.pid).toBe(pid);
    const exited = exitOf(adopted);
    process.kill(pid, 'SIGKILL');
    expect(await exited).toEqual({ code: null, signal: null });
  });

  it('whose lifeline a child still holds after the leader died is seen by the fallback poll', async () => {
    const { pid, startTime } = await orphan('parent', 'sleep 303 & exec sleep 300');
    const adopted = adopter({ adoptPollMs: 3_600_000, adoptFallbackPollMs: 50 }).adopt('parent', pid, startTime)!;
    const exited = exitOf(adopted);
    process.kill(pid, 'SIGKILL');
    expect(await exited).toEqual({ code: null, signal: null });
  });

  it('is reported gone before its setsid escapee is swept (after the report, as for an own child), and the escapee is swept', async () => {
    const { pid, startTime } = await orphan('escaper', 'setsid sleep 305 & exec sleep 300');
    const escapee = await waitFor('the escapee', () =>
      scanProcessesByEnv(INSTANCE_ENV, 'escaper').find(({ stat }) => stat.pgid !== pid && cmdlineOf(stat.pid) === 'sleep 305'),
    );
    // The escapee holds the lifeline too: the fallback poll sees the leader gone.
    const adopted = adopter({ adoptPollMs: 3_600_000, adoptFallbackPollMs: 50 }).adopt('escaper', pid, startTime)!;
    const escapeeAtReport = new Promise<boolean>((resolve) => adopted.onExit(() => resolve(gone(escapee.stat.pid))));
    process.kill(pid, 'SIGKILL');
    expect(await escapeeAtReport).toBe(false);
    await waitFor('the escapee swept', () => gone(escapee.stat.pid));
  });

  it('adopted again by the same driver (a manifest update kept it) is the same handle', async () => {
    const { pid, startTime } = await orphan('kept', 'exec sleep 300');
    const driver = adopter({ adoptPollMs: 3_600_000, adoptFallbackPollMs: 3_600_000 });
    const first = driver.adopt('kept', pid, startTime)!;
    expect(driver.adopt('kept', pid, startTime)).toBe(first);
    const exited = exitOf(first);
    process.kill(pid, 'SIGKILL');
    await exited;
    // Gone and reported: no handle is left for it.
    expect(driver.adopt('kept', pid, startTime)).toBeNull();
  });
});

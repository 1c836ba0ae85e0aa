// The restart path after kill -9 (issue 13, item 2), with the real supervisor and driver:
// between an exit and its respawn there is bookkeeping only, no walk of /proc; the sweep for
// the killed run's setsid escapees comes after the respawn, and still happens.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { INSTANCE_ENV, LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import { readProcStat, scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { systemClock } from '../../../agents-runtime/src/supervisor/driver';
import { FleetSupervisor } from '../../../agents-runtime/src/supervisor/fleet-supervisor';
import { createHealthProbe } from '../../../agents-runtime/src/supervisor/health-checks';
import { killMarkedProcesses } from '../../support/kill-marked-processes';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-restart-path-');
const runtimeId = `restart-path-test-${process.pid}-${Date.now()}`;

afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  killMarkedProcesses(runtimeId);
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
      const readdir = fs.promises.readdir.bind(fs.promises);
      vi.spyOn(fs.promises, 'readdir').mockImplementation(((dir: fs.PathLike, ...rest: unknown[]) => {
        if (String(dir) === '/proc') trace.push('proc walk (non-blocking)');
        return (readdir as (...a: unknown[]) => unknown)(dir, ...rest);
      }) as typeof fs.promises.readdir);

      process.kill(first, 'SIGKILL');
      const second = await waitFor('forker running again', () => runningPid(first));
      await waitFor("the first run's escapee to be swept", () => gone(firstEscapee.stat.pid));

      const exitAt = trace.indexOf('exit');
      expect(exitAt).toBeGreaterThanOrEqual(0);
      expect(trace.slice(exitAt, exitAt + 2)).toEqual(['exit', 'spawn']);
      expect(trace.slice(0, exitAt)).not.toContain('proc walk');
      // The sweep that stopped the escapee scanned after the respawn.
      expect(trace.slice(exitAt + 2)).toContain('proc walk (non-blocking)');
      vi.restoreAllMocks();

      const secondEscapee = await waitFor("the second run's escapee", () => escapeeOf(second));
      expect(gone(secondEscapee.stat.pid)).toBe(false);
      expect(gone(second)).toBe(false);
    } finally {
      vi.restoreAllMocks();
      await fleet.stopAll();
    }
  });
});

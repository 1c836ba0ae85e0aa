/**
 * `timestamps: collector` (agents-runtime/src/logs/log-collector.ts): one collector process
 * per runtime instead of two stamper loops per instance, with what the loops protected kept:
 * the programs never depend on the collector or the daemon to live, lines written while no
 * collector runs wait in the FIFOs and are not lost, the last lines of a crash are in the log
 * when the exit is reported (for a re-adopted program too), partial lines are written after
 * silence, long lines are cut. And what keeps one collector per runtime tidy over time: a
 * collector of another protocol version is replaced, its complaints file is capped, the
 * FIFOs of instances the runtime no longer has are deleted.
 * Every case runs against both collectors: the Node one (log-collector.ts) and the native one
 * (agents-runtime/native/log-collector.c, what the runtime bundle runs), which must behave alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';
import { startRuntimeDaemon, type RuntimeDaemon } from '../../../agents-runtime/src/daemon/runtime-daemon';
import { LOGGER_ENV_KEY } from '../../../agents-runtime/src/logs/bash-stamper';
import { COLLECTOR_ENV_KEY, collectorPaths } from '../../../agents-runtime/src/logs/log-collector';
import {
  COLLECTOR_ERRORS_FILE,
  COLLECTOR_ERRORS_MAX_BYTES,
  defaultCollectorCommand,
  nativeCollectorCommand,
  type CollectorCommand,
} from '../../../agents-runtime/src/logs/log-collector-client';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { tail } from '../../../agents-runtime/src/logs/log-tail';
import { MAX_LINE_BYTES } from '../../../agents-runtime/src/logs/stamped-lines';
import type { MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import { LinuxProcessDriver } from '../../../agents-runtime/src/process/process-driver';
import {
  isSameProcess,
  processGroupMembers,
  processStartTime,
  readProcStat,
  scanProcessesByEnv,
} from '../../../agents-runtime/src/process/proc-identity';
import type { ExitInfo, RunningProcess } from '../../../agents-runtime/src/supervisor/driver';
import { killMarkedProcesses } from '../../support/kill-marked-processes';
import { collectorStats } from '../../support/runtime-chaos/chaos-observe';
import { buildNativeCollectorInto } from '../../support/native-collector';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const root = path.resolve(import.meta.dirname, '../../..');
type CollectorKind = 'node' | 'native';

/** Built once for the file, before any driver starts a collector. */
const binDir = makeTempDir('sutazai-native-collector-');
afterAll(() => binDir.remove());
const nativeBinary = buildNativeCollectorInto(binDir.path);

for (const kind of ['node', 'native'] as const) collectorSuite(kind);

function collectorSuite(kind: CollectorKind): void {
  /** The collector `kind` for a driver of these directories (undefined: the driver's default, the Node one from source). */
  const commandFor = (fifos: string, files: LogFiles): CollectorCommand | undefined =>
    kind === 'native' ? nativeCollectorCommand(nativeBinary, fifos, files.dir, files.limits) : undefined;
  const tmp = makeTempDir(`sutazai-log-collector-${kind}-`);
  const runtimeId = `collector-test-${kind}-${process.pid}-${Date.now()}`;
  const logs = new LogFiles(path.join(tmp.path, 'logs'));
  const fifoDir = path.join(tmp.path, 'fifos');
  /** Every driver the suite makes, closed first in afterAll (LinuxProcessDriver.close says why). */
  const drivers: LinuxProcessDriver[] = [];
  /** A driver of runtime `id` whose collector (`kind`) reads the FIFOs in `fifos` into `files`. */
  const collectorDriver = (id: string, files: LogFiles, fifos: string): LinuxProcessDriver => {
    const made = new LinuxProcessDriver({
      logs: files,
      runtimeId: id,
      timestamps: 'collector',
      collector: { fifoDir: fifos, command: commandFor(fifos, files) },
    });
    drivers.push(made);
    return made;
  };
  const driver = collectorDriver(runtimeId, logs, fifoDir);
  const daemons: ChildProcess[] = [];
  const waitFor = makeWaitFor({ timeoutMs: 15_000, pollMs: 25 });

  const spec = (name: string, script: string) => ({
    name,
    command: 'sh',
    args: ['-c', script],
    env: {},
    stop: { signal: 'SIGTERM', graceMs: 2000 },
  });

  /** Collector processes of runtime `id`; not their own children (run from source, tsx's esbuild service inherits the marker). */
  function collectorsOf(id: string): number[] {
    const marked = scanProcessesByEnv(COLLECTOR_ENV_KEY, id).map(({ stat }) => stat);
    const pids = new Set(marked.map((stat) => stat.pid));
    return marked.filter((stat) => !pids.has(stat.ppid)).map((stat) => stat.pid);
  }

  function killAll(id: string): void {
    killMarkedProcesses(id);
    for (const pid of collectorsOf(id)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /** Runtime ids of the tests that make their own driver or daemon. */
  const otherIds = ['d', 'a', 'v', 'e'].map((suffix) => `${runtimeId}-${suffix}`);
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

  /** A collector as protocol version 1 answered: stats without a version, nothing pushed. */
  const VERSION_1_COLLECTOR = `
const net = require('node:net');
net.createServer((conn) => {
  let buffered = '';
  conn.setEncoding('utf8');
  conn.on('error', () => undefined);
  conn.on('data', (text) => {
    buffered += text;
    const parts = buffered.split('\\n');
    buffered = parts.pop();
    for (const part of parts) {
      const request = JSON.parse(part);
      if (request.op === 'stats') conn.write(JSON.stringify({ id: request.id, lines: 0, bytes: 0, instances: 0 }) + '\\n');
    }
  });
}).listen(process.env.SOCKET, () => process.stdout.write('listening\\n'));
`;

  afterAll(() => {
    // First, or a driver starts the collector killed below again, in the directory removed below.
    for (const made of drivers) made.close();
    for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
    killAll(runtimeId);
    for (const id of otherIds) killAll(id);
    tmp.remove();
  });

  /** A stand-in daemon (tests/support/collector-daemon.ts) running one instance under the collector; resolves with the instance's pid. */
  async function startCollectorDaemon(id: string, logDir: string, fifoDir: string, instance: string, script: string) {
    const daemon = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/support/collector-daemon.ts',
        ...['--logs', logDir, '--fifos', fifoDir, '--id', id, '--instance', instance],
        ...['--script', script],
        ...(kind === 'native' ? ['--native', nativeBinary] : []),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    daemons.push(daemon);
    let out = '';
    daemon.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const pid = await waitFor(
      'the started line',
      () => (/"pid":(\d+)/.exec(out) ? Number(/"pid":(\d+)/.exec(out)![1]) : undefined),
      30_000,
    );
    return { daemon, pid };
  }

  /** Whether a collector listens on its socket (a bare connection: not a daemon's hello). */
  function listening(socket: string): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = net.connect(socket);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
  }

  async function killDaemon(daemon: ChildProcess): Promise<void> {
    daemon.kill('SIGKILL');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }

  function exitOf(proc: RunningProcess): Promise<ExitInfo> {
    return new Promise((resolve) => proc.onExit(resolve));
  }

  const numbers = (name: string, files = logs): number[] =>
    tail(files, name, 100_000).flatMap((l) => (l.stream === 'out' && /^n=\d+$/.test(l.text) ? [Number(l.text.slice(2))] : []));
  const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  describe(`log collector (timestamps: collector), the ${kind} one`, () => {
    it('one collector serves every instance of the runtime; it is in no instance group, and no process is started per instance', async () => {
      const names = Array.from({ length: 12 }, (_, i) => `many-${i + 1}`);
      const procs = await Promise.all(
        names.map((name) => driver.start(spec(name, 'echo "hello from $SUTAZAI_RUNTIME_INSTANCE"; exec sleep 300'), name)),
      );
      for (const name of names) await waitFor(`${name}'s line`, () => tail(logs, name, 5).find((l) => l.text === `hello from ${name}`));
      const collectors = collectorsOf(runtimeId);
      expect(collectors).toHaveLength(1);
      const collector = readProcStat(collectors[0]!)!;
      expect(collector.pgid).toBe(collector.pid); // its own session and group: signals to an instance's group never reach it
      expect(scanProcessesByEnv(LOGGER_ENV_KEY, `${runtimeId}/many-1`)).toEqual([]);
      for (const proc of procs) {
        await waitFor('the exec', () => readProcStat(proc.pid)?.comm === 'sleep');
        expect(processGroupMembers(proc.pid)).toEqual([proc.pid]);
      }
      for (const proc of procs) await driver.stop(proc, 'SIGTERM', 2000);
      expect(collectorsOf(runtimeId)).toEqual(collectors);
    });

    it('stdout and stderr stamped and marked, the last lines of a crash (a partial one too) in the log when the exit is reported', async () => {
      const proc = await driver.start(
        spec('crasher', 'i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo "n=$i"; done; echo oops >&2; printf "last words"; kill -9 $$'),
        'crasher',
      );
      const before = Date.now();
      expect(await exitOf(proc)).toEqual({ code: null, signal: 'SIGKILL' });
      const lines = tail(logs, 'crasher', 1000);
      expect(numbers('crasher')).toEqual(range(1, 500));
      expect(lines.filter((l) => l.stream !== 'out' || !/^n=/.test(l.text)).map((l) => [l.stream, l.text])).toEqual([
        ['err', 'oops'],
        ['out', 'last words'],
      ]);
      for (const l of lines) expect(Math.abs(Date.parse(l.time!) - before)).toBeLessThan(60_000);
      // The next run of the same instance uses the same FIFOs and appends to the same log.
      const again = await driver.start(spec('crasher', 'echo "n=501"'), 'crasher');
      expect(await exitOf(again)).toEqual({ code: 0, signal: null });
      expect(numbers('crasher')).toEqual(range(1, 501));
    });

    it('a partial line is written after silence while the program runs on; a long line is cut at 16 KiB', async () => {
      const prompt = await driver.start(spec('prompt', 'printf "waiting..."; exec sleep 300'), 'prompt');
      await waitFor('the partial line', () => tail(logs, 'prompt', 5).find((l) => l.text === 'waiting...'));
      expect(isSameProcess(prompt.pid, prompt.startTime)).toBe(true);
      await driver.stop(prompt, 'SIGTERM', 2000);

      const long = await driver.start(spec('long', `head -c ${MAX_LINE_BYTES * 2 + 100} /dev/zero | tr '\\0' x; echo; echo after`), 'long');
      expect(await exitOf(long)).toEqual({ code: 0, signal: null });
      expect(tail(logs, 'long', 10).map((l) => l.text.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES, 100, 5]);
    });

    it('kill -9 of the collector: the program lives on, and what it wrote while none ran reaches the log from the next one, every line once, in order', async () => {
      const go = path.join(tmp.path, 'go');
      const wrote = path.join(tmp.path, 'wrote');
      const proc = await driver.start(
        spec(
          'survivor',
          `i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "n=$i"; done; ` +
            `while [ ! -e ${go} ]; do sleep 0.02; done; ` +
            `while [ $i -lt 300 ]; do i=$((i+1)); echo "n=$i"; done; touch ${wrote}; exec sleep 300`,
        ),
        'survivor',
      );
      await waitFor('the first 100 lines', () => numbers('survivor').length === 100);
      const [first] = collectorsOf(runtimeId);
      // Stopped, then killed: the program writes its next 200 lines while no collector reads.
      process.kill(first!, 'SIGSTOP');
      const stoppedAt = Date.now();
      fs.writeFileSync(go, '');
      await waitFor('the program to write them', () => fs.existsSync(wrote));
      process.kill(first!, 'SIGKILL');
      const second = await waitFor('the next collector', () => collectorsOf(runtimeId).find((pid) => pid !== first));
      expect(second).not.toBe(first);
      await waitFor('all 300 lines', () => numbers('survivor').length >= 300);
      expect(numbers('survivor')).toEqual(range(1, 300));
      expect(isSameProcess(proc.pid, proc.startTime)).toBe(true);
      // Stamped when read: those lines carry the new collector's time, after the stop.
      const late = tail(logs, 'survivor', 200).filter((l) => Number(l.text.slice(2)) > 100);
      expect(late.every((l) => Date.parse(l.time!) >= stoppedAt - 5)).toBe(true);
      await driver.stop(proc, 'SIGTERM', 2000);
    });

    it('kill -9 of the daemon: the program and the collector live on and lines keep coming; once the program ends too, the collector exits', async () => {
      const id = `${runtimeId}-d`;
      const dLogs = new LogFiles(path.join(tmp.path, 'd-logs'));
      const { daemon, pid } = await startCollectorDaemon(
        id,
        dLogs.dir,
        path.join(tmp.path, 'd-fifos'),
        'ticker',
        'i=0; while :; do i=$((i+1)); echo "n=$i"; sleep 0.02; done',
      );
      const startTime = processStartTime(pid)!;
      await waitFor('first lines', () => numbers('ticker', dLogs).length >= 5);
      const [collector] = collectorsOf(id);
      expect(collector).toBeDefined();

      await killDaemon(daemon);
      const atDeath = numbers('ticker', dLogs).length;
      await waitFor('lines after the daemon died', () => numbers('ticker', dLogs).length >= atDeath + 20);
      expect(isSameProcess(pid, startTime)).toBe(true);
      expect(collectorsOf(id)).toEqual([collector]);
      const seen = numbers('ticker', dLogs);
      expect(seen).toEqual(range(1, seen.length));

      // Nothing writes any more and no daemon is connected: the collector has nothing to do and goes.
      process.kill(-pid, 'SIGKILL');
      await waitFor('the collector to exit', () => collectorsOf(id).length === 0);
    });

    it('a program re-adopted after kill -9 of the daemon: the last lines of its crash, a partial one too, are in the log when its exit is reported; its next run uses the same FIFOs', async () => {
      const id = `${runtimeId}-a`;
      const aLogs = new LogFiles(path.join(tmp.path, 'a-logs'));
      const aFifos = path.join(tmp.path, 'a-fifos');
      const go = path.join(tmp.path, 'a-go');
      const { daemon, pid } = await startCollectorDaemon(
        id,
        aLogs.dir,
        aFifos,
        'adoptee',
        `while [ ! -e ${go} ]; do sleep 0.02; done; i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "n=$i"; done; ` +
          'echo oops >&2; printf "last words"; kill -9 $$',
      );
      const startTime = processStartTime(pid)!;
      await killDaemon(daemon);

      // The next daemon's driver adopts it (as a daemon does from its state file); then the program writes and dies.
      const next = collectorDriver(id, aLogs, aFifos);
      const proc = next.adopt('adoptee', pid, startTime);
      expect(proc).not.toBeNull();
      const exited = exitOf(proc!);
      fs.writeFileSync(go, '');
      // Not our child: its status went to whoever reaped it.
      expect(await exited).toEqual({ code: null, signal: null });
      expect(numbers('adoptee', aLogs)).toEqual(range(1, 300));
      const others = tail(aLogs, 'adoptee', 1000).filter((l) => l.stream !== 'out' || !/^n=/.test(l.text));
      expect(others.map((l) => [l.stream, l.text])).toEqual([
        ['err', 'oops'],
        ['out', 'last words'],
      ]);
      const again = await next.start(spec('adoptee', 'echo "n=301"'), 'adoptee');
      expect(await exitOf(again)).toEqual({ code: 0, signal: null });
      expect(numbers('adoptee', aLogs)).toEqual(range(1, 301));
    });

    it('a collector that speaks another protocol version (left running by an older daemon) is told to go, and one of this version reads what waited in the FIFOs', async () => {
      const id = `${runtimeId}-v`;
      const vLogs = new LogFiles(path.join(tmp.path, 'v-logs'));
      const vFifos = path.join(tmp.path, 'v-fifos');
      fs.mkdirSync(vFifos, { recursive: true });
      const old = spawn(process.execPath, ['-e', VERSION_1_COLLECTOR], {
        env: { PATH: process.env.PATH, [COLLECTOR_ENV_KEY]: id, SOCKET: collectorPaths(vFifos).socket },
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      daemons.push(old);
      const oldExit = new Promise<NodeJS.Signals | null>((resolve) => old.once('exit', (_code, signal) => resolve(signal)));
      await new Promise((resolve) => old.stdout!.once('data', resolve));

      const vDriver = collectorDriver(id, vLogs, vFifos);
      const proc = await vDriver.start(spec('versioned', 'echo "n=1"; exec sleep 300'), 'versioned');
      expect(await oldExit).toBe('SIGTERM');
      const current = await waitFor('a collector of this version', () => collectorsOf(id).find((pid) => pid !== old.pid));
      await waitFor('the line the program wrote meanwhile', () => numbers('versioned', vLogs).length === 1);
      expect(numbers('versioned', vLogs)).toEqual([1]);
      expect(collectorsOf(id)).toEqual([current]);
      expect(isSameProcess(proc.pid, proc.startTime)).toBe(true);
      await vDriver.stop(proc, 'SIGTERM', 2000);
    });

    it.runIf(kind === 'native')(
      'a Node collector of the same protocol (left by a daemon before the native one shipped) is told to go, and the native one reads what waited in the FIFOs',
      async () => {
        const id = `${runtimeId}-u`;
        otherIds.push(id);
        const uLogs = new LogFiles(path.join(tmp.path, 'u-logs'));
        const uFifos = path.join(tmp.path, 'u-fifos');
        fs.mkdirSync(uFifos, { recursive: true });
        const nodeCommand = defaultCollectorCommand(uFifos, uLogs.dir, uLogs.limits);
        const old = spawn(nodeCommand.file, nodeCommand.args, {
          cwd: nodeCommand.cwd,
          env: { ...process.env, [COLLECTOR_ENV_KEY]: id },
          detached: true,
          stdio: 'ignore',
        });
        daemons.push(old);
        const oldExit = new Promise<number | null>((resolve) => old.once('exit', (code) => resolve(code)));
        await waitFor('the Node collector to listen', () => listening(collectorPaths(uFifos).socket));

        const uDriver = collectorDriver(id, uLogs, uFifos);
        const proc = await uDriver.start(spec('upgraded', 'echo "n=1"; exec sleep 300'), 'upgraded');
        // SIGTERM: it writes what the FIFOs hold and exits on its own.
        expect(await oldExit).toBe(0);
        const current = await waitFor('the native collector', () => collectorsOf(id).find((pid) => pid !== old.pid));
        expect(fs.readlinkSync(`/proc/${current}/exe`)).toBe(nativeBinary);
        await waitFor('the line', () => numbers('upgraded', uLogs).length === 1);
        expect(numbers('upgraded', uLogs)).toEqual([1]);
        expect(collectorsOf(id)).toEqual([current]);
        await uDriver.stop(proc, 'SIGTERM', 2000);
      },
    );

    it("the collector's complaints file is capped: past its cap the next collector start moves it to .1; under it, it is appended to", async () => {
      const id = `${runtimeId}-e`;
      const eFifos = path.join(tmp.path, 'e-fifos');
      fs.mkdirSync(eFifos, { recursive: true });
      const errors = path.join(eFifos, COLLECTOR_ERRORS_FILE);
      fs.writeFileSync(errors, 'x'.repeat(COLLECTOR_ERRORS_MAX_BYTES + 1));
      const eLogs = new LogFiles(path.join(tmp.path, 'e-logs'));
      const eDriver = collectorDriver(id, eLogs, eFifos);
      expect(eDriver.timestamps).toBe('collector');
      const socket = collectorPaths(eFifos).socket;
      await waitFor('the collector to listen', () => listening(socket));
      const [first] = collectorsOf(id);
      expect(fs.statSync(`${errors}.1`).size).toBe(COLLECTOR_ERRORS_MAX_BYTES + 1);
      expect(fs.statSync(errors).size).toBeLessThan(COLLECTOR_ERRORS_MAX_BYTES);

      fs.appendFileSync(errors, 'a complaint\n');
      expect(first).toBeDefined();
      process.kill(first!, 'SIGKILL');
      // The killed one may still answer a connect until the kernel has ended it: wait for it gone
      // first, then for the next one.
      await waitFor('the killed collector gone', () => !collectorsOf(id).includes(first!));
      await waitFor('the next collector to listen', () => listening(socket));
      expect(fs.readFileSync(errors, 'utf8')).toContain('a complaint\n');
      expect(fs.statSync(`${errors}.1`).size).toBe(COLLECTOR_ERRORS_MAX_BYTES + 1);
    });

    it('a flood is rotated at write time by the collector: no log file ever passes max_file_bytes, the newest lines are all kept, in order', async () => {
      const id = `${runtimeId}-r`;
      otherIds.push(id);
      const files = new LogFiles(path.join(tmp.path, 'rotate-logs'), { maxFileBytes: 256 * 1024, keepFiles: 2 });
      const fifos = path.join(tmp.path, 'rotate-fifos');
      const flooding = collectorDriver(id, files, fifos);
      const count = 200_000; // 18 MB of 91-byte lines, 24 MB stamped: about 95 files' worth
      const proc = await flooding.start(spec('flood', `seq -f '%090g' 1 ${count}`), 'flood');
      const paths = [files.logPath('flood'), ...[1, 2, 3].map((n) => files.rotatedPath('flood', n))];
      // Renamed away between two looks is not there (rotation runs while this looks).
      const sizeOf = (file: string): number => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      // No daemon and no periodic rotator here: only rotation at write time keeps the files small. Looked at
      // as often as the machine lets this loop run, while the flood lasts.
      let ended = false;
      const exited = exitOf(proc).finally(() => (ended = true));
      let largest = 0;
      let looks = 0;
      while (!ended) {
        for (const file of paths) largest = Math.max(largest, sizeOf(file));
        looks += 1;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(await exited).toEqual({ code: 0, signal: null });
      for (const file of paths) largest = Math.max(largest, sizeOf(file));
      expect(looks).toBeGreaterThan(0);
      expect(largest).toBeLessThanOrEqual(256 * 1024);
      expect(fs.existsSync(paths[3]!)).toBe(false); // keep_files 2
      const numbersIn = (file: string): number[] =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => Number(line.split(' ')[2]));
      const kept = [paths[2]!, paths[1]!, paths[0]!].flatMap(numbersIn);
      expect(kept).toEqual(range(count - kept.length + 1, count));
      expect(kept.length).toBeGreaterThan(2 * Math.floor((256 * 1024) / 121)); // two full rotated files and the live one
      const stats = await collectorStats(collectorPaths(fifos).socket);
      expect(stats?.protocol).toBe(3);
      expect(stats?.implementation).toBe(kind);
      expect(stats?.rotations).toBeGreaterThanOrEqual(Math.floor((count * 121) / (256 * 1024)) - 1);
    });

    // The daemon's own housekeeping, whichever collector runs: once, with the daemon's default collector.
    it.runIf(kind === 'node')(
      'the daemon deletes the FIFOs of instances it no longer has (scaled away; removed while it was down), and samples each instance with its dropped-line count',
      async () => {
        const dir = path.join(tmp.path, 'prune');
        fs.mkdirSync(path.join(dir, 'etc'), { recursive: true });
        const manifestFile = path.join(dir, 'etc', 'manifest.yaml');
        const sleeper = (name: string, replicas: number): string =>
          `  - name: ${name}\n    command: sh\n    args: ["-c", "exec sleep 300"]\n    replicas: ${replicas}\n    stop: { grace_ms: 1000 }\n`;
        fs.writeFileSync(manifestFile, `version: 1\nprocesses:\n${sleeper('pool', 3)}${sleeper('solo', 1)}`);
        // No TLS material: the gRPC server retries in the background; the in-process API is enough here.
        const config = parseRuntimeConfig(
          `manifest: manifest.yaml\ntls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }\n` +
            `state_dir: ${dir}/state\nlog_dir: ${dir}/logs\nlogs: { timestamps: collector }\n`,
          path.join(dir, 'etc', 'runtime.yaml'),
        );
        const fifoDir = path.join(dir, 'state', 'log-fifos');
        const fifosOf = (...names: string[]): string[] => names.flatMap((n) => [`${n}.err`, `${n}.out`]).sort();
        const fifos = (): string[] =>
          fs
            .readdirSync(fifoDir)
            .filter((f) => /\.(out|err)$/.test(f))
            .sort();
        const allRunning = (d: RuntimeDaemon): boolean =>
          d.api.listProcesses().every((p) => p.instances.length > 0 && p.instances.every((i) => i.state === 'running'));

        let daemon = await startRuntimeDaemon(config, { log: quiet, serverRetryMs: 60_000 });
        otherIds.push(daemon.runtimeId);
        try {
          await waitFor('every instance running', () => allRunning(daemon));
          expect(fifos()).toEqual(fifosOf('pool-1', 'pool-2', 'pool-3', 'solo'));
          // Counted by the collector (nothing dropped here): every instance's sample carries its count.
          let unsubscribe = (): void => undefined;
          const sample = await new Promise<MetricSample>((resolve) => (unsubscribe = daemon.api.streamMetrics(0, resolve)));
          unsubscribe();
          expect(sample.instances.map((i) => [i.instance, i.logDroppedLines])).toEqual(
            ['pool-1', 'pool-2', 'pool-3', 'solo'].map((instance) => [instance, 0]),
          );

          await daemon.api.scale('pool', 2);
          expect(fifos()).toEqual(fifosOf('pool-1', 'pool-2', 'solo'));

          // pool leaves the manifest while no daemon runs: the next one deletes its FIFOs as it starts. (Stopped with
          // the daemon: this process's first fleet would otherwise go on supervising them.)
          await daemon.close(true);
          expect(fifos()).toEqual(fifosOf('pool-1', 'pool-2', 'solo'));
          fs.writeFileSync(manifestFile, `version: 1\nprocesses:\n${sleeper('solo', 1)}`);
          daemon = await startRuntimeDaemon(config, { log: quiet, serverRetryMs: 60_000 });
          await waitFor('solo running', () => allRunning(daemon));
          expect(fifos()).toEqual(fifosOf('solo'));
        } finally {
          await daemon.close(true);
        }
      },
    );
  });
}

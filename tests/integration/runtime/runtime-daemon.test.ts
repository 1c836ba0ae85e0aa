// The shipped daemon end to end: the esbuild bundle in a temp dir with no node_modules,
// run by plain `node`, real processes, real TLS with certificates made by openssl, and the
// gRPC API driven with operator and viewer client certificates.
import * as grpc from '@grpc/grpc-js';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { MetricSample__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/MetricSample';
import type { LogLine__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/LogLine';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { RuntimeEvent__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/RuntimeEvent';
import { RUNTIME_ID_ENV } from '../../../agents-runtime/src/process/process-driver';
import { scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
import { freePort } from '../../support/free-ports';
import { makeRuntimeCerts, type Pem, type RuntimeCerts } from '../../support/runtime-certs';
import {
  buildRuntimeBundle,
  daemonLayout,
  instanceLeaders,
  killDaemonsAndInstances,
  runtimeClient,
  startBundledDaemon,
  writeDaemonFiles,
  type BundledDaemon,
} from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const CALL_MS = 5_000;
const tmp = makeTempDir('sutazai-daemon-');
const { bundleDir, bundle, stateDir, logDir, configFile, runtimeId } = daemonLayout(tmp.path);
let certs: RuntimeCerts | undefined;
let port = 0;
let metricsPort = 0;
const daemons: ChildProcess[] = [];
const clients: grpc.Client[] = [];

const MANIFEST = `version: 1
processes:
  - name: db
    command: sh
    args: ["-c", "echo started; exec sleep 300"]
    stop: { grace_ms: 2000 }
  - name: web
    command: sh
    args: ["-c", "echo started; exec sleep 300"]
    depends_on: [db]
    stop: { grace_ms: 2000 }
  - name: ghost
    command: /nonexistent/sutazai-ghost
    backoff: { initial_ms: 300, max_ms: 1000, jitter: 0 }
    crash_loop: { after_restarts: 1000 }
  - name: flaky
    command: sh
    args: ["-c", "echo boom-line; sleep 0.2; exit 3"]
    restart: on-failure
    backoff: { initial_ms: 500, max_ms: 500, jitter: 0 }
    crash_loop: { after_restarts: 1000 }
`;

afterAll(() => {
  for (const c of clients) c.close();
  killDaemonsAndInstances(daemons, runtimeId);
  certs?.remove();
  tmp.remove();
});

const waitFor = makeWaitFor({ timeoutMs: 15_000, pollMs: 100, retryErrors: true });

type Daemon = BundledDaemon;

function startDaemon(): Daemon {
  const d = startBundledDaemon(bundle, configFile, tmp.path);
  daemons.push(d.child);
  return d;
}

async function ready(d: Daemon): Promise<void> {
  await waitFor('the daemon to be ready', () => {
    if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}: ${JSON.stringify(d.lines)}`);
    return d.lines.some((l) => l.msg === 'sutazai-runtime ready');
  });
}

function client(pem: Pem): RuntimeClient {
  const c = runtimeClient(port, certs!.ca.certPem, pem);
  clients.push(c as unknown as grpc.Client);
  return c;
}

function unary<Res>(call: (cb: (error: grpc.ServiceError | null, value?: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value as Res))));
}

const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + CALL_MS });

async function list(c: RuntimeClient): Promise<ListProcessesResponse__Output> {
  return unary<ListProcessesResponse__Output>((cb) => c.ListProcesses({}, deadline(), cb));
}

function instanceOf(res: ListProcessesResponse__Output, name: string) {
  return res.processes.find((p) => p.name === name)?.instances[0];
}

const leaders = (): Map<string, number[]> => instanceLeaders(runtimeId);

function cli(args: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bundle, ...args], { cwd: tmp.path, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  buildRuntimeBundle(bundleDir, 60_000);
  certs = makeRuntimeCerts();
  port = await freePort();
  metricsPort = await freePort();
  writeDaemonFiles({
    configFile,
    manifest: MANIFEST,
    listenPort: port,
    stateDir,
    logDir,
    certs,
    extraConfig: [
      'logs: { max_file_bytes: 1048576, keep_files: 2, max_total_bytes: 10485760 }',
      `metrics: { listen: 127.0.0.1:${metricsPort} }`,
    ],
  });
}, 120_000);

describe('sutazai-runtime daemon (bundled, real processes, real TLS)', () => {
  let daemon: Daemon;
  let operator: RuntimeClient;

  it('ships as one file that runs without node_modules', () => {
    expect(fs.existsSync(bundle)).toBe(true);
    expect(fs.existsSync(path.join(bundleDir, 'proto/sutazai/runtime/v1/runtime.proto'))).toBe(true);
    for (let dir = bundleDir; dir !== path.dirname(dir); dir = path.dirname(dir))
      expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('sutazai-runtime run --config FILE');
  });

  it('runs the manifest; a missing command is an error event while the others keep running', async () => {
    daemon = startDaemon();
    await ready(daemon);
    operator = client(certs!.operator);

    const events: RuntimeEvent__Output[] = [];
    const stream = operator.WatchEvents({});
    stream.on('data', (e: RuntimeEvent__Output) => events.push(e));
    stream.on('error', () => undefined);

    const res = await waitFor('db and web running', async () => {
      const r = await list(operator);
      return instanceOf(r, 'db')?.state === 'PROCESS_STATE_RUNNING' && instanceOf(r, 'web')?.state === 'PROCESS_STATE_RUNNING'
        ? r
        : undefined;
    });
    const ghost = instanceOf(res, 'ghost');
    expect(ghost?.lastError?.code).toBe('COMMAND_NOT_FOUND');
    expect(ghost?.lastError?.remedy).not.toBe('');
    const error = await waitFor('a COMMAND_NOT_FOUND event', () =>
      events.find((e) => e.kind === 'process.error' && e.error?.code === 'COMMAND_NOT_FOUND'),
    );
    expect(error.instance).toBe('ghost');
    // A crash carries the last lines of the instance's log.
    const crash = await waitFor('an exit event of flaky', () => events.find((e) => e.kind === 'process.exit' && e.instance === 'flaky'));
    expect(crash.message).toContain('exited with code 3');
    expect(crash.message).toContain('boom-line');
    stream.cancel();

    const l = leaders();
    expect(l.get('db')).toEqual([instanceOf(res, 'db')!.pid]);
    expect(l.get('web')).toEqual([instanceOf(res, 'web')!.pid]);
    expect(l.has('ghost')).toBe(false);
    // The daemon's own log: structured JSON lines, the error with its code and remedy.
    expect(daemon.lines.some((line) => line.code === 'COMMAND_NOT_FOUND' && typeof line.remedy === 'string')).toBe(true);
  });

  it('streams metrics over gRPC and serves Prometheus text on the metrics port', async () => {
    const sample = await new Promise<MetricSample__Output>((resolve, reject) => {
      const s = operator.StreamMetrics({ sinceMs: '0' });
      const timer = setTimeout(() => {
        s.cancel();
        reject(new Error('no metric sample within 5 s'));
      }, 5_000);
      s.on('data', (m: MetricSample__Output) => {
        clearTimeout(timer);
        s.cancel();
        resolve(m);
      });
      s.on('error', () => undefined);
    });
    expect(sample.instances.map((i) => i.instance)).toEqual(expect.arrayContaining(['db', 'web']));
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/db/);
  });

  it('TailLogs returns what the process printed', async () => {
    const texts = await waitFor('the started line', async () => {
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = operator.TailLogs({ instance: 'db', lines: 10, follow: false }, deadline());
        s.on('data', (line: LogLine__Output) => got.push(line.text));
        s.on('end', () => resolve());
        s.on('error', reject);
      });
      return got.includes('started') ? got : undefined;
    });
    expect(texts).toContain('started');
  });

  it('RestartProcess gives a new pid; a viewer certificate may not restart', async () => {
    const before = instanceOf(await list(operator), 'web')!.pid;
    await unary((cb) => operator.RestartProcess({ name: 'web' }, deadline(), cb));
    const after = await waitFor('web running with a new pid', async () => {
      const i = instanceOf(await list(operator), 'web');
      return i?.state === 'PROCESS_STATE_RUNNING' && i.pid !== before && i.pid > 0 ? i.pid : undefined;
    });
    expect(after).not.toBe(before);
    // Counted as the operator's restart, apart from crashes, in /metrics.
    const restartsOfWeb = await waitFor("web's operator restart in /metrics", async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      const lines = text.split('\n').filter((l) => l.startsWith('sutazai_process_restarts_total{sutazai_instance="web"'));
      return lines.some((l) => l.includes('reason="operator"} 1')) ? lines : undefined;
    });
    expect(restartsOfWeb).toEqual([
      'sutazai_process_restarts_total{sutazai_instance="web",process="web",reason="crash"} 0',
      'sutazai_process_restarts_total{sutazai_instance="web",process="web",reason="operator"} 1',
    ]);

    const viewer = client(certs!.viewer);
    const denied = await unary((cb) => viewer.RestartProcess({ name: 'web' }, deadline(), cb)).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    expect(denied?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(runtimeErrorFromMetadata(denied?.metadata)?.code).toBe('PERMISSION_DENIED');
    expect(instanceOf(await list(viewer), 'web')!.pid).toBe(after);
  });

  it('a stopped process stays stopped across kill -9 of the daemon; the rest are re-adopted, not duplicated; restart counts carry over', async () => {
    await unary((cb) => operator.StopProcess({ name: 'web' }, deadline(), cb));
    const before = await list(operator);
    expect(instanceOf(before, 'web')?.state).toBe('PROCESS_STATE_STOPPED');
    const dbPid = instanceOf(before, 'db')!.pid;
    const flakyRestarts = Number(instanceOf(before, 'flaky')!.restarts);
    expect(flakyRestarts).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the state file's debounce

    daemon.child.kill('SIGKILL');
    await daemon.exited;
    expect(leaders().get('db')).toEqual([dbPid]); // the children outlive the daemon

    daemon = startDaemon();
    await ready(daemon);
    const after = await waitFor('db re-adopted', async () => {
      const r = await list(operator);
      return instanceOf(r, 'db')?.state === 'PROCESS_STATE_RUNNING' ? r : undefined;
    });
    expect(instanceOf(after, 'db')!.pid).toBe(dbPid);
    expect(Number(instanceOf(after, 'flaky')!.restarts)).toBeGreaterThanOrEqual(flakyRestarts);
    expect(instanceOf(after, 'web')?.state).toBe('PROCESS_STATE_STOPPED');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const l = leaders();
    expect(l.get('db')).toEqual([dbPid]);
    expect(l.has('web')).toBe(false);
    expect(instanceOf(await list(operator), 'web')?.state).toBe('PROCESS_STATE_STOPPED');
  });

  it('a daemon killed right after it respawned a killed process adopts the new one on its next start, never starts it twice', async () => {
    const dbPid = instanceOf(await list(operator), 'db')!.pid;
    process.kill(dbPid, 'SIGKILL');
    // Kill the daemon as soon as the new db exists: its state file is saved off the restart
    // path, so it most likely still names the dead pid, and the marker must find the new one.
    let respawned: number | undefined;
    for (const until = Date.now() + 15_000; respawned === undefined && Date.now() < until;) {
      const found = leaders().get('db') ?? [];
      if (found.length === 1 && found[0] !== dbPid) respawned = found[0];
      else await new Promise((resolve) => setImmediate(resolve));
    }
    expect(respawned).toBeDefined();
    daemon.child.kill('SIGKILL');
    await daemon.exited;

    daemon = startDaemon();
    await ready(daemon);
    const after = await waitFor('db running', async () => {
      const i = instanceOf(await list(operator), 'db');
      return i?.state === 'PROCESS_STATE_RUNNING' ? i : undefined;
    });
    expect(after.pid).toBe(respawned);
    expect(daemon.lines.some((l) => l.msg === 're-adopting processes a previous sutazai-runtime started')).toBe(true);
    expect(leaders().get('db')).toEqual([respawned]);
  });

  it('UpdateManifest (admin) starts new processes and keeps unchanged ones running, with their restart counts', async () => {
    const admin = client(certs!.admin);
    const dbPid = instanceOf(await list(operator), 'db')!.pid;
    const flakyRestarts = Number(instanceOf(await list(operator), 'flaky')!.restarts);
    expect(flakyRestarts).toBeGreaterThan(0);
    const next = `${MANIFEST}  - name: extra
    command: sh
    args: ["-c", "echo extra; exec sleep 300"]
    stop: { grace_ms: 2000 }
`;
    const denied = await unary((cb) => operator.UpdateManifest({ manifestYaml: next }, deadline(), cb)).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    expect(denied?.code).toBe(grpc.status.PERMISSION_DENIED);
    await unary((cb) => admin.UpdateManifest({ manifestYaml: next }, { deadline: Date.now() + 20_000 }, cb));
    const after = await waitFor('extra running', async () => {
      const r = await list(admin);
      return instanceOf(r, 'extra')?.state === 'PROCESS_STATE_RUNNING' ? r : undefined;
    });
    expect(instanceOf(after, 'db')!.pid).toBe(dbPid);
    expect(Number(instanceOf(after, 'flaky')!.restarts)).toBeGreaterThanOrEqual(flakyRestarts);
    expect(instanceOf(after, 'web')?.state).toBe('PROCESS_STATE_STOPPED');
    expect(leaders().get('db')).toEqual([dbPid]);
    expect(fs.readFileSync(path.join(tmp.path, 'etc', 'manifest.yaml'), 'utf8')).toBe(next);
    const bad = await unary((cb) => admin.UpdateManifest({ manifestYaml: 'version: 1\nprocesses: []\n' }, deadline(), cb)).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    expect(runtimeErrorFromMetadata(bad?.metadata)?.code).toBe('MANIFEST_INVALID');
  });

  it('UpdateManifest restarts only the processes whose settings changed, and scales one whose replica count alone did', async () => {
    const admin = client(certs!.admin);
    const EXTRA = `  - name: extra
    command: sh
    args: ["-c", "echo extra; exec sleep 300"]
    stop: { grace_ms: 2000 }
`;
    const pool = (replicas: number) => `  - name: pool
    command: sh
    args: ["-c", "exec sleep 300"]
    replicas: ${replicas}
    stop: { grace_ms: 2000 }
`;
    const pids = async (): Promise<Record<string, number>> => {
      const r = await list(admin);
      return Object.fromEntries(
        r.processes.flatMap((p) => p.instances.filter((i) => i.state === 'PROCESS_STATE_RUNNING').map((i) => [i.instance, i.pid])),
      );
    };
    const running = (names: string[]) =>
      waitFor(`${names.join(', ')} running`, async () => {
        const now = await pids();
        return names.every((n) => now[n] !== undefined) ? now : undefined;
      });
    await unary((cb) => admin.UpdateManifest({ manifestYaml: `${MANIFEST}${EXTRA}${pool(2)}` }, { deadline: Date.now() + 20_000 }, cb));
    const before = await running(['db', 'extra', 'pool-1', 'pool-2']);

    // extra's environment changes (it restarts); pool goes to 3 (its two instances stay); db is the same (it stays).
    const changedExtra = EXTRA.replace('    stop:', '    env: { LEVEL: debug }\n    stop:');
    await unary((cb) =>
      admin.UpdateManifest({ manifestYaml: `${MANIFEST}${changedExtra}${pool(3)}` }, { deadline: Date.now() + 20_000 }, cb),
    );
    const after = await running(['db', 'extra', 'pool-1', 'pool-2', 'pool-3']);
    expect([after.db, after['pool-1'], after['pool-2']]).toEqual([before.db, before['pool-1'], before['pool-2']]);
    expect(after.extra).not.toBe(before.extra);
    expect(leaders().get('extra')).toEqual([after.extra]);
    expect(leaders().get('db')).toEqual([before.db]);
    expect((await list(admin)).processes.find((p) => p.name === 'pool')?.replicas).toBe(3);

    // Back to the manifest the tests below expect: pool is removed, extra restarts on its earlier settings, db stays.
    await unary((cb) => admin.UpdateManifest({ manifestYaml: `${MANIFEST}${EXTRA}` }, { deadline: Date.now() + 20_000 }, cb));
    const back = await list(admin);
    expect(back.processes.map((p) => p.name)).toEqual(['db', 'web', 'ghost', 'flaky', 'extra']);
    expect(instanceOf(back, 'db')!.pid).toBe(before.db);
    expect([...leaders().keys()].filter((instance) => instance.startsWith('pool'))).toEqual([]);
  });

  it('a second daemon on the same state_dir refuses with a clear error', async () => {
    const second = spawnSync(process.execPath, [bundle, 'run', '--config', configFile], { encoding: 'utf8', timeout: 20_000 });
    expect(second.status).toBe(4);
    expect(second.stderr).toMatch(/CONFIG_INVALID: another sutazai-runtime \(pid \d+\) already supervises the state directory/);
    expect(second.stderr).toContain('remedy:');
    expect(daemon.child.exitCode).toBeNull();
  });

  it('`status` prints the process table over gRPC + TLS', () => {
    const r = cli(['status', '--config', configFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'INSTANCE', 'STATE', 'PID', 'RESTARTS', 'UPTIME', 'LAST ERROR']);
    const db = rows.find((row) => row[0] === 'db');
    expect(db?.slice(1, 4)).toEqual(['db', 'running', String(leaders().get('db')![0])]);
    expect(rows.find((row) => row[0] === 'web')?.[2]).toBe('stopped');
    expect(r.stdout).toContain('COMMAND_NOT_FOUND');

    const json = cli(['status', '--config', configFile, '--json']);
    expect(json.status).toBe(0);
    expect((JSON.parse(json.stdout) as { processes: unknown[] }).processes).toHaveLength(5);
  });

  it('stop-all stops every process and the daemon; nothing of the manifest is left', async () => {
    const r = cli(['stop-all', '--config', configFile], 40_000);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))])).toBe(0);
    expect(scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)).toEqual([]);
    expect(fs.existsSync(path.join(stateDir, 'sutazai-runtime.lock'))).toBe(false);
    // The operator's intent survives a stop-all: web is still stopped on purpose.
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as {
      intent: { stopped: string[] };
      instances: object;
    };
    expect(state.intent.stopped).toEqual(['web']);
    expect(state.instances).toEqual({});
  });
});

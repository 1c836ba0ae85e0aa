// The shipped daemon under test: the esbuild bundle built into a temp dir, its config and
// TLS material written there, the daemon run by plain `node`, and Runtime API clients.
import * as grpc from '@grpc/grpc-js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runtimeIdFor } from '../../agents-runtime/src/daemon/daemon-lock';
import type { RuntimeClient } from '../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { INSTANCE_ENV, RUNTIME_ID_ENV } from '../../agents-runtime/src/process/process-driver';
import { scanProcessesByEnv } from '../../agents-runtime/src/process/proc-identity';
import { loadRuntimeProtos } from '../../agents-runtime/src/wire/runtime-client-protos';
import { RUNTIME_NODE_FLAGS } from '../../agents-runtime/src/wire/launch-env';
import { killMarkedProcesses } from './kill-marked-processes';
import { freePort } from './free-ports';
import { makeRuntimeCerts, type Pem, type RuntimeCerts } from './runtime-certs';
import { makeWaitFor } from './wait-for';

export const REPO_ROOT = path.resolve(__dirname, '../..');

const runtimeProtos = loadRuntimeProtos();

/** Where a test daemon keeps everything under one temp dir: the bundle in opt/, the config in etc/. */
export interface DaemonLayout {
  bundleDir: string;
  bundle: string;
  stateDir: string;
  logDir: string;
  configFile: string;
  runtimeId: string;
}

export function daemonLayout(root: string): DaemonLayout {
  const bundleDir = path.join(root, 'opt');
  const stateDir = path.join(root, 'state');
  return {
    bundleDir,
    bundle: path.join(bundleDir, 'sutazai-runtime.cjs'),
    stateDir,
    logDir: path.join(root, 'logs'),
    configFile: path.join(root, 'etc', 'runtime.yaml'),
    runtimeId: runtimeIdFor(stateDir),
  };
}

/** Bundles the daemon (sutazai-runtime.cjs and the protos it loads) into `outdir`. */
export function buildRuntimeBundle(outdir: string, timeoutMs: number): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'agents-runtime/build-runtime.mjs'), '--outdir', outdir], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
    timeout: timeoutMs,
  });
}

/** One program that writes nothing and sleeps: a daemon with something to supervise and nothing else going on. */
export const QUIET_MANIFEST =
  'version: 1\nprocesses:\n  - name: quiet\n    command: sh\n    args: ["-c", "exec sleep 300"]\n    stop: { grace_ms: 1000 }\n';

export interface DaemonFiles {
  configFile: string;
  manifest: string;
  listenPort: number;
  stateDir: string;
  logDir: string;
  certs: RuntimeCerts;
  /** More config lines, e.g. `metrics: { listen: ... }`. */
  extraConfig?: string[];
}

/**
 * Writes the config, with the manifest and the TLS material (server, and the operator's as the
 * CLI's client certificate) beside it, named by relative paths resolved against its directory.
 */
export function writeDaemonFiles(files: DaemonFiles): void {
  const etc = path.dirname(files.configFile);
  const tls = path.join(etc, 'tls');
  fs.mkdirSync(tls, { recursive: true });
  const write = (name: string, text: string): void => fs.writeFileSync(path.join(tls, name), text, { mode: 0o600 });
  write('ca.pem', files.certs.ca.certPem);
  write('server.pem', files.certs.server.certPem);
  write('server.key', files.certs.server.keyPem);
  write('operator.pem', files.certs.operator.certPem);
  write('operator.key', files.certs.operator.keyPem);
  fs.writeFileSync(path.join(etc, 'manifest.yaml'), files.manifest);
  fs.writeFileSync(
    files.configFile,
    [
      'manifest: manifest.yaml',
      `listen: 127.0.0.1:${files.listenPort}`,
      'tls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }',
      `state_dir: ${files.stateDir}`,
      `log_dir: ${files.logDir}`,
      'client: { cert: tls/operator.pem, key: tls/operator.key }',
      ...(files.extraConfig ?? []),
      '',
    ].join('\n'),
  );
}

/**
 * Everything a test daemon needs before it starts: the bundle built into the layout, TLS
 * material, a free port for its API, and its config with `manifest`. The caller removes the
 * certificates (`certs.remove()`).
 */
export async function prepareBundledDaemon(
  layout: DaemonLayout,
  manifest: string,
  extraConfig: string[] = [],
): Promise<{ certs: RuntimeCerts; port: number }> {
  buildRuntimeBundle(layout.bundleDir, 120_000);
  const certs = makeRuntimeCerts();
  const port = await freePort();
  writeDaemonFiles({
    configFile: layout.configFile,
    manifest,
    listenPort: port,
    stateDir: layout.stateDir,
    logDir: layout.logDir,
    certs,
    extraConfig,
  });
  return { certs, port };
}

export interface BundledDaemon {
  child: ChildProcess;
  /** Its JSON log lines, in order; a line that is not JSON as `{ raw }`, stderr as `{ stderr }`. */
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `node <bundle> run --config <configFile>` in `cwd`; `options.preload` is `--require`d first, `options.env` added. */
export function startBundledDaemon(
  bundle: string,
  configFile: string,
  cwd: string,
  options: { preload?: string; env?: Record<string, string> } = {},
): BundledDaemon {
  const preload = options.preload === undefined ? [] : ['--require', options.preload];
  // Node's flags of the shipped launchers, so tests run the daemon as hosts do.
  const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, ...preload, bundle, 'run', '--config', configFile], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => lines.push({ stderr: chunk.toString('utf8') }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

/** A bounded wait (30 s) whose failure message ends with the daemon's last 20 log lines. */
export function daemonWaitFor(daemon: () => BundledDaemon | undefined): ReturnType<typeof makeWaitFor> {
  return makeWaitFor({
    timeoutMs: 30_000,
    pollMs: 100,
    retryErrors: true,
    diagnostics: () =>
      `\n--- daemon (last lines)\n${(daemon()?.lines ?? [])
        .slice(-20)
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
  });
}

/** Waits for the daemon's "ready" line; fails at once if it exits first. */
export async function daemonReady(daemon: BundledDaemon, waitFor: ReturnType<typeof makeWaitFor>): Promise<void> {
  await waitFor('the daemon to be ready', () => {
    if (daemon.child.exitCode !== null) throw new Error(`daemon exited ${daemon.child.exitCode}`);
    return daemon.lines.some((l) => l.msg === 'sutazai-runtime ready');
  });
}

/**
 * Asks a daemon started with a preloaded test script (tests/support/*-on-signal.cjs) for what
 * that script writes on SIGWINCH, and returns it: the JSON in `file`, written whole by a rename.
 */
export async function askOnSignal<T>(daemon: BundledDaemon, file: string, waitFor: ReturnType<typeof makeWaitFor>): Promise<T> {
  fs.rmSync(file, { force: true });
  daemon.child.kill('SIGWINCH');
  await waitFor(`the daemon's answer in ${path.basename(file)}`, () => fs.existsSync(file));
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** SIGKILLs the daemons still running, then every process carrying the runtime's marker. */
export function killDaemonsAndInstances(daemons: readonly ChildProcess[], runtimeId: string): void {
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  killMarkedProcesses(runtimeId);
}

/** Group leaders of each instance carrying the runtime's marker, read from /proc. */
export function instanceLeaders(runtimeId: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { stat, env } of scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)) {
    if (stat.pgid !== stat.pid) continue;
    const instance = env.get(INSTANCE_ENV) ?? '?';
    out.set(instance, [...(out.get(instance) ?? []), stat.pid]);
  }
  return out;
}

/** A Runtime API client on 127.0.0.1:`port` over TLS, presenting `pem` as its certificate. */
export function runtimeClient(port: number, caPem: string, pem: Pem): RuntimeClient {
  const creds = grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(pem.keyPem), Buffer.from(pem.certPem));
  return new runtimeProtos.sutazai.runtime.v1.Runtime(`127.0.0.1:${port}`, creds) as unknown as RuntimeClient;
}

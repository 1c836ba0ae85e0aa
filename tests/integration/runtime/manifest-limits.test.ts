// A manifest far bigger than one machine runs must not freeze the daemon that receives it:
// it is refused with MANIFEST_INVALID naming the limit (the runtime config's
// manifest_limits), the API keeps answering, and a big manifest within the limits starts
// in batches with the event loop free between them.
import * as grpc from '@grpc/grpc-js';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';
import { startRuntimeDaemon } from '../../../agents-runtime/src/daemon/runtime-daemon';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
import { START_BATCH } from '../../../agents-runtime/src/supervisor/fleet-supervisor';
import { killMarkedProcesses } from '../../support/kill-marked-processes';
import { freePort } from '../../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../../support/runtime-certs';
import {
  buildRuntimeBundle,
  daemonLayout,
  killDaemonsAndInstances,
  runtimeClient,
  startBundledDaemon,
  writeDaemonFiles,
  type BundledDaemon,
} from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-manifest-limits-');
const layout = daemonLayout(tmp.path);
const daemons: ChildProcess[] = [];
const clients: grpc.Client[] = [];
const runtimeIds = [layout.runtimeId];
let certs: RuntimeCerts;
let port = 0;
let daemon: BundledDaemon;

const waitFor = makeWaitFor({ timeoutMs: 20_000, pollMs: 100, retryErrors: true });
const SLEEPER = '    command: sh\n    args: ["-c", "exec sleep 300"]\n    stop: { grace_ms: 1000 }\n';
const manifestOf = (count: number): string =>
  `version: 1\nprocesses:\n${Array.from({ length: count }, (_, i) => `  - name: p${i}\n${SLEEPER}`).join('')}`;

function unary<Res>(call: (cb: (error: grpc.ServiceError | null, value?: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value as Res))));
}
const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 20_000 });

beforeAll(async () => {
  buildRuntimeBundle(layout.bundleDir, 60_000);
  certs = makeRuntimeCerts();
  port = await freePort();
  writeDaemonFiles({
    configFile: layout.configFile,
    manifest: manifestOf(1),
    listenPort: port,
    stateDir: layout.stateDir,
    logDir: layout.logDir,
    certs,
  });
  daemon = startBundledDaemon(layout.bundle, layout.configFile, tmp.path);
  daemons.push(daemon.child);
  await waitFor('the daemon to be ready', () => daemon.lines.some((l) => l.msg === 'sutazai-runtime ready'));
}, 120_000);

afterAll(() => {
  for (const c of clients) c.close();
  for (const id of runtimeIds) killDaemonsAndInstances(daemons, id);
  certs?.remove();
  tmp.remove();
});

describe('manifest limits', () => {
  it('refuses a 2,000-process UpdateManifest with MANIFEST_INVALID and keeps answering while and after it does', async () => {
    const admin = runtimeClient(port, certs.ca.certPem, certs.admin);
    clients.push(admin as unknown as grpc.Client);
    const update = unary((cb) => admin.UpdateManifest({ manifestYaml: manifestOf(2000) }, deadline(), cb)).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    const listed = unary<ListProcessesResponse__Output>((cb) => admin.ListProcesses({}, deadline(), cb));
    const refused = await update;
    expect(runtimeErrorFromMetadata(refused?.metadata)?.code).toBe('MANIFEST_INVALID');
    expect(refused?.details).toContain('2000 processes, more than the limit of 256');
    expect(runtimeErrorFromMetadata(refused?.metadata)?.remedy).toContain('manifest_limits.max_processes');
    expect((await listed).processes.map((p) => p.name)).toEqual(['p0']);
    // Nothing was persisted: a restart runs the manifest the daemon had.
    expect(fs.readFileSync(path.join(path.dirname(layout.configFile), 'manifest.yaml'), 'utf8')).toBe(manifestOf(1));
  });

  it('a daemon whose manifest file is over its configured limit refuses to start, naming the limit', () => {
    const root = path.join(tmp.path, 'over');
    const over = daemonLayout(root);
    runtimeIds.push(over.runtimeId);
    writeDaemonFiles({
      configFile: over.configFile,
      manifest: manifestOf(3),
      listenPort: port,
      stateDir: over.stateDir,
      logDir: over.logDir,
      certs,
      extraConfig: ['manifest_limits: { max_processes: 2 }'],
    });
    const run = spawnSync(process.execPath, [layout.bundle, 'run', '--config', over.configFile], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/MANIFEST_INVALID: .*manifest\.yaml:3:3: processes: lists 3 processes, more than the limit of 2/);
    expect(run.stderr).toContain('manifest_limits.max_processes');
  });

  it('starts a big manifest within the limits in batches: the daemon is up and answering before the last one starts', async () => {
    const root = path.join(tmp.path, 'batches');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    const count = START_BATCH * 4;
    fs.writeFileSync(path.join(root, 'etc', 'manifest.yaml'), manifestOf(count));
    // No TLS material: the gRPC server retries in the background; the in-process API is enough here.
    const config = parseRuntimeConfig(
      `manifest: manifest.yaml\ntls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }\nstate_dir: ${root}/state\nlog_dir: ${root}/logs\n`,
      path.join(root, 'etc', 'runtime.yaml'),
    );
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const inProcess = await startRuntimeDaemon(config, { log: quiet, serverRetryMs: 60_000 });
    runtimeIds.push(inProcess.runtimeId);
    try {
      const spawned = (): number => inProcess.api.listProcesses().filter((p) => p.instances[0]?.pid !== null).length;
      const firstAnswer = spawned();
      expect(firstAnswer).toBeLessThan(count);
      await waitFor('every process running', () => inProcess.api.listProcesses().every((p) => p.instances[0]?.state === 'running'));
    } finally {
      await inProcess.close(true);
      killMarkedProcesses(inProcess.runtimeId);
    }
  });
});

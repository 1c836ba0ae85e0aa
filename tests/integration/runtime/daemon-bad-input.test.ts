// The shipped daemon given bad input at run time: an expired server certificate, a
// certificate that does not match its key, an unwritable log directory. Each is reported
// with its code and remedy in the daemon's log (and as an event), supervision carries on
// with what can run, and fixing the file brings the rest up without a restart.
import * as grpc from '@grpc/grpc-js';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { runtimeIdFor } from '../../../agents-runtime/src/daemon/daemon-lock';
import { freePort } from '../../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../../support/runtime-certs';
import {
  buildRuntimeBundle,
  instanceLeaders,
  killDaemonsAndInstances,
  runtimeClient,
  startBundledDaemon,
  writeDaemonFiles,
  type BundledDaemon,
} from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-daemon-bad-');
const bundleDir = path.join(tmp.path, 'bundle');
const bundle = path.join(bundleDir, 'sutazai-runtime.cjs');
const daemons: ChildProcess[] = [];
const runtimeIds: string[] = [];
const clients: grpc.Client[] = [];
let certs: RuntimeCerts;

const MANIFEST = `version: 1
processes:
  - name: worker
    command: sh
    args: ["-c", "echo working; exec sleep 300"]
    backoff: { initial_ms: 200, max_ms: 400, jitter: 0 }
    crash_loop: { after_restarts: 1000 }
    stop: { grace_ms: 1000 }
`;

const waitFor = makeWaitFor({ timeoutMs: 15_000, pollMs: 100, retryErrors: true });

beforeAll(() => {
  buildRuntimeBundle(bundleDir, 60_000);
  certs = makeRuntimeCerts();
}, 120_000);

afterAll(() => {
  for (const c of clients) c.close();
  for (const id of runtimeIds) killDaemonsAndInstances(daemons, id);
  certs.remove();
  tmp.remove();
});

interface Setup {
  daemon: BundledDaemon;
  port: number;
  etc: string;
  runtimeId: string;
  logDir: string;
}

async function start(name: string, opts: { logDir?: string; serverCert?: string; serverKey?: string }): Promise<Setup> {
  const root = path.join(tmp.path, name);
  const etc = path.join(root, 'etc');
  const stateDir = path.join(root, 'state');
  const logDir = opts.logDir ?? path.join(root, 'logs');
  const port = await freePort();
  writeDaemonFiles({
    configFile: path.join(etc, 'runtime.yaml'),
    manifest: MANIFEST,
    listenPort: port,
    stateDir,
    logDir,
    certs,
    extraConfig: ['api_retry_ms: 300'],
  });
  if (opts.serverCert !== undefined) fs.writeFileSync(path.join(etc, 'tls/server.pem'), opts.serverCert);
  if (opts.serverKey !== undefined) fs.writeFileSync(path.join(etc, 'tls/server.key'), opts.serverKey);
  const runtimeId = runtimeIdFor(stateDir);
  runtimeIds.push(runtimeId);
  const daemon = startBundledDaemon(bundle, path.join(etc, 'runtime.yaml'), root);
  daemons.push(daemon.child);
  return { daemon, port, etc, runtimeId, logDir };
}

function list(client: RuntimeClient): Promise<ListProcessesResponse__Output> {
  return new Promise((resolve, reject) =>
    client.ListProcesses({}, { deadline: Date.now() + 3000 }, (e, v) => (e ? reject(e) : resolve(v!))),
  );
}

function client(port: number): RuntimeClient {
  const c = runtimeClient(port, certs.ca.certPem, certs.operator);
  clients.push(c as unknown as grpc.Client);
  return c;
}

const logged = (d: BundledDaemon, code: string) =>
  d.lines.find((l) => l.code === code || (l.error as { code?: string } | undefined)?.code === code);

describe('the daemon given bad input at run time', () => {
  for (const [what, pem] of [
    ['an expired server certificate', () => ({ serverCert: certs.expiredServer.certPem, serverKey: certs.expiredServer.keyPem })],
    ['a server certificate that does not match its key', () => ({ serverKey: certs.strayKeyPem })],
  ] as const) {
    it(`${what}: CERTIFICATE_INVALID with a remedy in its log, the processes run anyway, a fixed file brings the API up`, async () => {
      const s = await start(what.replace(/\W+/g, '-'), pem());
      const line = await waitFor('the certificate error in the log', () => logged(s.daemon, 'CERTIFICATE_INVALID'));
      expect(JSON.stringify(line)).toMatch(/remedy/);
      expect(s.daemon.child.exitCode).toBeNull();
      // Supervision does not wait for the API.
      await waitFor('the worker running', () => (instanceLeaders(s.runtimeId).get('worker')?.length === 1 ? true : undefined));
      await expect(list(client(s.port))).rejects.toBeDefined();
      // Put the right certificate and key in place: the next retry serves the API, same worker.
      const pid = instanceLeaders(s.runtimeId).get('worker')![0];
      fs.writeFileSync(path.join(s.etc, 'tls/server.pem'), certs.server.certPem);
      fs.writeFileSync(path.join(s.etc, 'tls/server.key'), certs.server.keyPem);
      const res = await waitFor('the API', () => list(client(s.port)));
      expect(res.processes.find((p) => p.name === 'worker')?.instances[0]).toMatchObject({ state: 'PROCESS_STATE_RUNNING', pid });
    });
  }

  it('an unwritable log directory: LOG_DIR_NOT_WRITABLE for each start, the API answers, fixing the directory starts the process', async () => {
    const blocker = path.join(tmp.path, 'not-a-directory');
    fs.writeFileSync(blocker, '');
    const s = await start('unwritable-logs', { logDir: path.join(blocker, 'logs') });
    const res = await waitFor('the start error over the API', async () => {
      const r = await list(client(s.port));
      return r.processes.find((p) => p.name === 'worker')?.instances[0]?.lastError?.code === 'LOG_DIR_NOT_WRITABLE' ? r : undefined;
    });
    expect(res.processes[0]!.instances[0]!.lastError!.remedy).not.toBe('');
    expect(logged(s.daemon, 'LOG_DIR_NOT_WRITABLE')).toBeDefined();
    expect(instanceLeaders(s.runtimeId).get('worker')).toBeUndefined();
    expect(s.daemon.child.exitCode).toBeNull();
    // Make it a directory: the next retry starts the worker, and its output lands there.
    fs.rmSync(blocker);
    fs.mkdirSync(path.join(blocker, 'logs'), { recursive: true });
    await waitFor('the worker running', async () => {
      const r = await list(client(s.port));
      return r.processes[0]?.instances[0]?.state === 'PROCESS_STATE_RUNNING' ? true : undefined;
    });
    await waitFor('its log line', () =>
      fs.readFileSync(path.join(blocker, 'logs', 'worker.log'), 'utf8').includes('working') ? true : undefined,
    );
  });
});

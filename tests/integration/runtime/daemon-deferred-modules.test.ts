/**
 * What the shipped daemon loads only when it needs it (issue 13, footprint): `node:http2`,
 * `node:tls` and `node:crypto` (and `node:http` with them) at the first connection to its
 * gRPC port (listen/deferred-server.ts; its TLS material was checked at start by a process
 * of its own, server/server-certificate.ts), `node:http` alone at the first connection to
 * its metrics port, `node:perf_hooks` never (clock/monotonic-ms.ts); its own code never
 * loads `node:fs/promises` (linux/async-fs.ts; HTTP/2 brings it along). Read from Node's
 * own record of the built-in modules a process has loaded (process.moduleLoadList), which a
 * preloaded script writes out on SIGWINCH; the daemon runs as hosts run it, from the bundle
 * with its Node flags.
 */
import type * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { RuntimeCerts } from '../../support/runtime-certs';
import {
  askOnSignal,
  daemonLayout,
  daemonReady,
  daemonWaitFor,
  killDaemonsAndInstances,
  prepareBundledDaemon,
  QUIET_MANIFEST,
  REPO_ROOT,
  runtimeClient,
  startBundledDaemon,
  type BundledDaemon,
} from '../../support/runtime-daemon-harness';
import { freePort } from '../../support/free-ports';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-deferred-modules-');
const layout = daemonLayout(tmp.path);
const { bundle, configFile, runtimeId } = layout;
const listFile = path.join(tmp.path, 'modules.json');
let certs: RuntimeCerts | undefined;
let daemon: BundledDaemon | undefined;
let client: RuntimeClient | undefined;
let metricsPort = 0;

const waitFor = daemonWaitFor(() => daemon);

/** The daemon's loaded built-ins now: asked by signal, answered by the preloaded script. */
async function loadedModules(): Promise<string[]> {
  return (await askOnSignal<string[]>(daemon!, listFile, waitFor)).filter((m) => m.startsWith('NativeModule '));
}

beforeAll(async () => {
  metricsPort = await freePort();
  const prepared = await prepareBundledDaemon(layout, QUIET_MANIFEST, [`metrics: { listen: 127.0.0.1:${metricsPort} }`]);
  certs = prepared.certs;
  daemon = startBundledDaemon(bundle, configFile, tmp.path, {
    preload: path.join(REPO_ROOT, 'tests/support/module-list-on-signal.cjs'),
    env: { SUTAZAI_TEST_MODULE_LIST: listFile },
  });
  await daemonReady(daemon, waitFor);
  client = runtimeClient(prepared.port, prepared.certs.ca.certPem, prepared.certs.viewer);
}, 180_000);

afterAll(() => {
  (client as unknown as grpc.Client | undefined)?.close();
  killDaemonsAndInstances(daemon === undefined ? [] : [daemon.child], runtimeId);
  certs?.remove();
  tmp.remove();
});

describe('the modules the daemon loads when it needs them', () => {
  it('has bound its ports and runs its programs without HTTP, HTTP/2, TLS, crypto, perf_hooks or fs/promises loaded', async () => {
    const loaded = await loadedModules();
    // The list is real: the modules the daemon does use are in it.
    expect(loaded).toEqual(expect.arrayContaining(['NativeModule child_process', 'NativeModule net']));
    const deferred = ['http2', 'tls', '_tls_wrap', 'internal/http2/core', 'crypto', 'http', '_http_server', 'perf_hooks'];
    for (const module of [...deferred, 'fs/promises', 'internal/fs/promises']) expect(loaded).not.toContain(`NativeModule ${module}`);
    // The TLS material was checked, by a process of its own: the daemon did not fall back to checking itself.
    expect(daemon!.lines.filter((l) => String(l.msg).includes('checked in the daemon itself'))).toEqual([]);
  });

  it('loads HTTP/2 and TLS at the first client, which is served over mutual TLS as before', async () => {
    const listed = await new Promise<ListProcessesResponse__Output>((resolve, reject) =>
      client!.ListProcesses({}, { deadline: Date.now() + 15_000 }, (error, value) => (error ? reject(error) : resolve(value!))),
    );
    expect(listed.processes.map((p) => p.name)).toEqual(['quiet']);
    const loaded = await loadedModules();
    expect(loaded).toEqual(expect.arrayContaining(['NativeModule http2', 'NativeModule tls', 'NativeModule crypto']));
  });

  it('loads HTTP at the first scrape of its metrics port, which answers as before', async () => {
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^# HELP /m);
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    expect(await loadedModules()).toContain('NativeModule http');
  });
});

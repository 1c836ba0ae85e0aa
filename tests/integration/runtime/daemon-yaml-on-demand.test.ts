/**
 * The shipped daemon holds the yaml library only while it reads YAML (issue 13, footprint):
 * the bundle carries it compressed, each read compiles an instance, and nothing keeps an
 * instance once the read is over (agents-runtime/src/yaml/yaml-on-demand.ts). Counted by a
 * preloaded script that follows every instance by a weak reference and, on SIGWINCH, says how
 * many were compiled and how many outlive two full collections. The daemon runs as hosts run
 * it, from the bundle with its Node flags; a manifest it is sent is read by that library,
 * errors named by line and column as before.
 */
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
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
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-yaml-on-demand-');
const layout = daemonLayout(tmp.path);
const { bundle, configFile, runtimeId } = layout;
const countFile = path.join(tmp.path, 'yaml-instances.json');
let certs: RuntimeCerts | undefined;
let daemon: BundledDaemon | undefined;
let admin: RuntimeClient | undefined;

const waitFor = daemonWaitFor(() => daemon);

/** How many yaml library instances the daemon has compiled, and how many are alive after two full collections. */
function yamlInstances(): Promise<{ compiled: number; alive: number }> {
  return askOnSignal(daemon!, countFile, waitFor);
}

function updateManifest(manifestYaml: string): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  return new Promise((resolve) =>
    admin!.UpdateManifest({ manifestYaml }, { deadline: Date.now() + 20_000 }, (error) => {
      if (error === null) return resolve({ ok: true });
      const failure = runtimeErrorFromMetadata(error.metadata);
      resolve({ ok: false, code: failure?.code ?? String(error.code), message: error.details });
    }),
  );
}

function listNames(): Promise<string[]> {
  return new Promise((resolve, reject) =>
    admin!.ListProcesses({}, { deadline: Date.now() + 15_000 }, (error, value?: ListProcessesResponse__Output) =>
      error ? reject(error) : resolve(value!.processes.map((p) => p.name)),
    ),
  );
}

beforeAll(async () => {
  const prepared = await prepareBundledDaemon(layout, QUIET_MANIFEST);
  certs = prepared.certs;
  daemon = startBundledDaemon(bundle, configFile, tmp.path, {
    preload: path.join(REPO_ROOT, 'tests/support/yaml-instances-on-signal.cjs'),
    env: { SUTAZAI_TEST_YAML_INSTANCES: countFile },
  });
  await daemonReady(daemon, waitFor);
  admin = runtimeClient(prepared.port, prepared.certs.ca.certPem, prepared.certs.admin);
}, 180_000);

afterAll(() => {
  (admin as unknown as grpc.Client | undefined)?.close();
  killDaemonsAndInstances(daemon === undefined ? [] : [daemon.child], runtimeId);
  certs?.remove();
  tmp.remove();
});

describe('the yaml library in the shipped daemon', () => {
  it('is not carried as plain source in the bundle', () => {
    const source = fs.readFileSync(bundle, 'latin1');
    // One of the library's own error codes, which any copy of its source spells out.
    expect(source.includes('BLOCK_AS_IMPLICIT_KEY')).toBe(false);
    expect(source).toMatch(/yaml-library\.cjs/);
  });

  it('was compiled for the start-up reads and is not kept once they are over', async () => {
    const counted = await yamlInstances();
    expect(counted.compiled).toBeGreaterThanOrEqual(1);
    expect(counted.alive).toBe(0);
  });

  it('reads a manifest it is sent, names a syntax error by line and column, and lets the library go again', async () => {
    const before = await yamlInstances();
    const broken = await updateManifest('version: 1\nprocesses:\n  - name: [unclosed\n');
    expect(broken).toMatchObject({ ok: false, code: 'MANIFEST_INVALID' });
    expect((broken as { message: string }).message).toMatch(/UpdateManifest:\d+:\d+: /);
    const unknownKey = await updateManifest('version: 1\nprocesses:\n  - name: a\n    command: sh\n    colour: red\n');
    expect(unknownKey).toMatchObject({ ok: false, code: 'MANIFEST_INVALID' });
    expect((unknownKey as { message: string }).message).toMatch(/UpdateManifest:5:5: processes\.0\.colour: /);
    expect(await updateManifest(QUIET_MANIFEST.replace('name: quiet', 'name: calm'))).toEqual({ ok: true });
    await waitFor('the new manifest to be applied', async () => (await listNames()).join() === 'calm');

    const after = await yamlInstances();
    expect(after.compiled).toBeGreaterThanOrEqual(before.compiled + 3);
    expect(after.alive).toBe(0);
  });
});

/**
 * The shipped daemon (sutazai-runtime.cjs as build-runtime.mjs builds it) picks its log
 * collector: the native one built beside it (sutazai-log-collector-<arch>, a process of well
 * under 1 MB instead of a second Node heap), or, when that file is missing, the Node one, with
 * the reason in its log. Either way the instance's lines reach its log.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeIdFor } from '../../../agents-runtime/src/daemon/daemon-lock';
import { COLLECTOR_ENV_KEY, collectorPaths } from '../../../agents-runtime/src/logs/log-collector';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { tail } from '../../../agents-runtime/src/logs/log-tail';
import { nativeCollectorFileName } from '../../../agents-runtime/src/logs/native-collector';
import { scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { freePort } from '../../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../../support/runtime-certs';
import { collectorStats } from '../../support/runtime-chaos/chaos-observe';
import { buildRuntimeBundle, killDaemonsAndInstances, startBundledDaemon, writeDaemonFiles } from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-bundled-collector-');
const bundleDir = path.join(tmp.path, 'bundle');
const bundle = path.join(bundleDir, 'sutazai-runtime.cjs');
const daemons: ChildProcess[] = [];
const runtimeIds: string[] = [];
let certs: RuntimeCerts;
const waitFor = makeWaitFor({ timeoutMs: 20_000, pollMs: 100, retryErrors: true });

const MANIFEST = `version: 1
processes:
  - name: worker
    command: sh
    args: ["-c", "echo working; exec sleep 300"]
    stop: { grace_ms: 1000 }
`;

beforeAll(() => {
  buildRuntimeBundle(bundleDir, 60_000);
  certs = makeRuntimeCerts();
}, 120_000);

afterAll(() => {
  for (const id of runtimeIds) {
    killDaemonsAndInstances(daemons, id);
    for (const { stat } of scanProcessesByEnv(COLLECTOR_ENV_KEY, id)) process.kill(stat.pid, 'SIGKILL');
  }
  certs.remove();
  tmp.remove();
});

async function run(name: string) {
  const root = path.join(tmp.path, name);
  const stateDir = path.join(root, 'state');
  const logDir = path.join(root, 'logs');
  const configFile = path.join(root, 'etc', 'runtime.yaml');
  writeDaemonFiles({ configFile, manifest: MANIFEST, listenPort: await freePort(), stateDir, logDir, certs });
  const runtimeId = runtimeIdFor(stateDir);
  runtimeIds.push(runtimeId);
  const daemon = startBundledDaemon(bundle, configFile, root);
  daemons.push(daemon.child);
  await waitFor("the worker's line in its log", () => tail(new LogFiles(logDir), 'worker', 5).find((l) => l.text === 'working'));
  const [collector] = scanProcessesByEnv(COLLECTOR_ENV_KEY, runtimeId).map(({ stat }) => stat.pid);
  expect(collector).toBeDefined();
  const stats = await collectorStats(collectorPaths(path.join(stateDir, 'log-fifos')).socket);
  return { daemon, collector: collector!, stats };
}

describe('the log collector the shipped daemon runs', () => {
  it('the native one built beside the bundle; without it the Node one, saying why', async () => {
    const native = path.join(bundleDir, nativeCollectorFileName());
    expect(fs.existsSync(native)).toBe(true);
    const first = await run('native');
    expect(fs.readlinkSync(`/proc/${first.collector}/exe`)).toBe(native);
    expect(first.stats).toMatchObject({ protocol: 3, implementation: 'native' });
    expect(first.daemon.lines.some((l) => /Node log collector/.test(String(l.msg)))).toBe(false);

    fs.rmSync(native);
    const second = await run('node');
    expect(fs.readlinkSync(`/proc/${second.collector}/exe`)).toBe(fs.realpathSync(process.execPath));
    expect(second.stats).toMatchObject({ protocol: 3, implementation: 'node' });
    const warned = second.daemon.lines.find((l) => /the Node log collector runs/.test(String(l.msg)));
    expect(String(warned?.msg)).toContain(`${native} cannot be opened (ENOENT)`);
  });

  it('one that passes the check but dies at its start (exit 1): the Node one, saying why, and the lines reach the log', async () => {
    const native = path.join(bundleDir, nativeCollectorFileName());
    const source = path.join(tmp.path, 'exit1.c');
    fs.writeFileSync(source, 'int main(void) { return 1; }\n');
    fs.rmSync(native, { force: true });
    expect(spawnSync('cc', ['-o', native, source]).status).toBe(0);
    const third = await run('exits');
    expect(fs.readlinkSync(`/proc/${third.collector}/exe`)).toBe(fs.realpathSync(process.execPath));
    expect(third.stats).toMatchObject({ protocol: 3, implementation: 'node' });
    const warned = third.daemon.lines.find((l) => /the Node log collector runs/.test(String(l.msg)));
    expect(String(warned?.msg)).toContain(`${native} exits at once (status 1)`);
  });
});

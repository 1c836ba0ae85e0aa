import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeIdFor } from '../../../agents-runtime/src/daemon/daemon-lock';
import { parseEnviron, scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { INSTANCE_ENV, RUNTIME_ID_ENV } from '../../../agents-runtime/src/process/process-driver';
import { RUNTIME_LAUNCH_ENV, RUNTIME_NODE_FLAGS } from '../../../agents-runtime/src/wire';
import { freePort } from '../../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../../support/runtime-certs';
import { buildRuntimeBundle, killDaemonsAndInstances, writeDaemonFiles } from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

/**
 * The launchers' malloc settings (wire/launch-env.ts) are for the daemon alone: the shipped
 * daemon, started as the systemd unit starts it (those settings and Node's flags), runs with them, and the programs it starts
 * do not inherit them; a value the manifest gives a program is still the program's.
 */
const tmp = makeTempDir('sutazai-launch-env-');
const bundleDir = path.join(tmp.path, 'bundle');
const daemons: ChildProcess[] = [];
let runtimeId = '';
let certs: RuntimeCerts;
const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 100, retryErrors: true });

beforeAll(() => {
  buildRuntimeBundle(bundleDir, 120_000);
  certs = makeRuntimeCerts();
}, 180_000);

afterAll(() => {
  if (runtimeId !== '') killDaemonsAndInstances(daemons, runtimeId);
  certs.remove();
  tmp.remove();
});

const mallocEnv = (pid: number): Record<string, string> =>
  Object.fromEntries(
    [...parseEnviron(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).entries()].filter(([key]) => key in RUNTIME_LAUNCH_ENV),
  );

describe('launch environment', () => {
  it('the daemon runs with the malloc settings; its programs get glibc’s defaults unless the manifest sets one', async () => {
    const root = path.join(tmp.path, 'run');
    const stateDir = path.join(root, 'state');
    runtimeId = runtimeIdFor(stateDir);
    const configFile = path.join(root, 'etc', 'runtime.yaml');
    writeDaemonFiles({
      configFile,
      manifest: [
        'version: 1',
        'processes:',
        '  - name: plain',
        '    command: sleep',
        '    args: ["300"]',
        '  - name: tuned',
        '    command: sleep',
        '    args: ["300"]',
        '    env: { MALLOC_ARENA_MAX: "4" }',
        '',
      ].join('\n'),
      listenPort: await freePort(),
      stateDir,
      logDir: path.join(root, 'logs'),
      certs,
    });
    const daemon = spawn(
      process.execPath,
      [...RUNTIME_NODE_FLAGS, path.join(bundleDir, 'sutazai-runtime.cjs'), 'run', '--config', configFile],
      {
        cwd: root,
        stdio: 'ignore',
        env: { ...process.env, ...RUNTIME_LAUNCH_ENV },
      },
    );
    daemons.push(daemon);
    const programs = await waitFor('both programs running', () => {
      const found = new Map(
        scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)
          .filter(({ stat }) => stat.comm === 'sleep')
          .map(({ stat, env }) => [env.get(INSTANCE_ENV) ?? String(stat.pid), stat.pid]),
      );
      return found.size === 2 ? found : undefined;
    });
    expect(mallocEnv(daemon.pid!)).toEqual(RUNTIME_LAUNCH_ENV);
    // Node's flags are on the daemon's command line, as the launchers put them, and it runs with them.
    expect(
      fs
        .readFileSync(`/proc/${daemon.pid!}/cmdline`, 'utf8')
        .split('\0')
        .slice(1, 1 + RUNTIME_NODE_FLAGS.length),
    ).toEqual([...RUNTIME_NODE_FLAGS]);
    expect([...programs.values()].map(mallocEnv).sort((a, b) => Object.keys(a).length - Object.keys(b).length)).toEqual([
      {},
      { MALLOC_ARENA_MAX: '4' },
    ]);
  }, 120_000);
});

// What a hostile neighbour on a managed host, or a hostile value in an install file, can make
// the installer do as root: nothing. Against real OpenSSH test hosts (root login):
//  - PID reuse: the runtime daemon dies (kill -9) and another user's process, under the pid
//    its lock file names, carries a crafted command line; the next apply runs no command
//    and no path from it (marker files tell), leaves that process alone and starts the
//    install's own runtime.
//  - `$(...)`, backquotes, quotes, a newline and a tab in every path value: refused by the
//    configuration check before any host is reached; and, with the check bypassed (the
//    layout handed to the steps as it is), inert in every script that reaches the host,
//    recorded only as what the steps really made, so uninstall removes nothing outside it.
//  - A step that stops after making directories (its reports never reach the store, as
//    with kill -9): uninstall still knows them, since they were recorded before the step.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { connectSsh } from '../../../electron/backend/hosts/ssh/connect-ssh';
import type { SshSession } from '../../../electron/backend/hosts/ssh/ssh-session';
import { configureReleaseScript } from '../../../electron/backend/install/steps/configure-release';
import { prepareStaging, runChangingScript, type HostLink } from '../../../electron/backend/install/remote/host-link';
import { installLayout } from '../../../electron/backend/install/definition/install-layout';
import { createRemoteShell } from '../../../electron/backend/install/remote/remote-shell';
import {
  detachedStartScriptPath,
  renderDetachedStartScript,
  renderDetachedStopScript,
} from '../../../electron/backend/install/render/render-service';
import { sh } from '../../../electron/backend/install/remote/shell-script';
import { stageFiles } from '../../../electron/backend/install/remote/stage-files';
import { switchCurrentScript } from '../../../electron/backend/install/steps/switch-current';
import { pathsToRemove, uninstallScript } from '../../../electron/backend/install/steps/uninstall-host';
import { writeServiceFiles } from '../../../electron/backend/install/steps/write-service';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { commandLine, daemonPid, hostTree, isLive, snapshotTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-hostile-');
const dataDir = path.join(tmp.path, 'data');
const waitFor = makeWaitFor({ timeoutMs: 20_000, pollMs: 100 });
const NOBODY = 65534;
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let pidHost: TestHost;
let stepHost: TestHost;
let pidTree: HostTree;
const children: ChildProcess[] = [];

function installFile(name: string, host: string, values: Record<string, string>): string {
  const file = path.join(tmp.path, `${name}.yaml`);
  fs.writeFileSync(
    file,
    [
      `name: ${name}`,
      `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
      'environment: development',
      'config:',
      '  - values: { install: { health_timeout_seconds: 90 } }',
      'hosts:',
      `  - name: ${host}`,
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(values)} } }`,
    ].join('\n'),
  );
  return file;
}

/** The lock file as the daemon writes it: its pid and `<boot id>:<start ticks>`. */
function readLock(stateDir: string): { pid: number; startTime: string } {
  return JSON.parse(fs.readFileSync(path.join(stateDir, 'sutazai-runtime.lock'), 'utf8')) as { pid: number; startTime: string };
}

function sessionTo(host: TestHost): Promise<SshSession> {
  return connectSsh(
    {
      hostId: 0,
      name: host.name,
      address: host.address,
      port: host.port,
      user: host.user,
      credentials: { method: 'key', keyPath: host.privateKeyPath },
      pinned: { keyType: host.hostKeyType, fingerprint: host.hostKeyFingerprint, trustedAt: 0 },
      jump: null,
    },
    { timeoutMs: 10_000 },
  );
}

beforeAll(async () => {
  const { lab } = labRef;
  // Other users reach the install's binaries, as on a real host (/opt is 0755).
  fs.chmodSync(tmp.path, 0o755);
  [kit, pidHost, stepHost] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'root-key' }),
  ]);
  bundle = await buildRealNodeBundle(kit, 'hostile');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, pidHost, 'pid-host');
  await addLabHost(backend, stepHost, 'step-host');
  pidTree = hostTree(path.join(tmp.path, 'pid-host'));
}, 240_000);

afterAll(async () => {
  const { lab } = labRef;
  for (const child of children) child.kill('SIGKILL');
  if (pidHost) await stopInstalledRuntime(lab, pidHost, pidTree.root).catch(() => undefined);
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe("a pid in the lock file that another user's process holds now", () => {
  it("runs nothing from that process's command line, leaves it alone, and starts the install's own runtime", async () => {
    const file = installFile('pidlab', 'pid-host', pidTree.values);
    expect((await backend.installs.apply(file)).hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    const lock = readLock(pidTree.stateDir);
    const release = path.join(pidTree.root, 'releases', bundle.manifest.version);

    // The daemon dies without releasing its lock (kill -9, the OOM killer).
    process.kill(lock.pid, 'SIGKILL');
    await waitFor('the daemon to be gone', () => !isLive(lock.pid));

    // Another user's process, running the release's own Node binary, with a command line
    // that names a "config" whose path runs a command and whose runtime/node is theirs.
    const spliced = path.join(tmp.path, 'spliced-ran');
    const theirs = path.join(tmp.path, 'their-node-ran');
    const evil = path.join(tmp.path, `evil$(touch\${IFS}${spliced})`);
    fs.mkdirSync(path.join(evil, 'runtime'), { recursive: true });
    fs.writeFileSync(path.join(evil, 'runtime', 'node'), `#!/bin/sh\ntouch '${theirs}'\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(evil, 'runtime', 'sutazai-runtime.cjs'), '');
    const attacker = spawn(
      path.join(release, 'runtime', 'node'),
      ['-e', 'setInterval(() => {}, 1000)', 'sutazai-runtime', 'run', '--config', path.join(evil, 'etc', 'runtime.yaml')],
      {
        uid: NOBODY,
        gid: NOBODY,
        cwd: '/',
        stdio: 'ignore',
      },
    );
    children.push(attacker);
    await waitFor('the process to carry its command line', () => commandLine(attacker.pid!).includes('sutazai-runtime run --config'));
    // It won the pid: the stale lock names it (with the dead daemon's start time, as pid reuse leaves it).
    fs.writeFileSync(
      path.join(pidTree.stateDir, 'sutazai-runtime.lock'),
      `${JSON.stringify({ pid: attacker.pid, startTime: lock.startTime })}\n`,
    );

    const plan = await backend.installs.plan(file);
    expect(plan.hosts[0]!.steps.find((s) => s.step === 'start')).toMatchObject({ state: 'todo', detail: 'starts the runtime' });
    const again = await backend.installs.apply(file);
    expect(again.hosts[0]).toMatchObject({ outcome: 'installed', error: null });

    expect(fs.existsSync(spliced)).toBe(false);
    expect(fs.existsSync(theirs)).toBe(false);
    expect(isLive(attacker.pid!)).toBe(true);
    const daemon = daemonPid(pidTree.stateDir);
    expect(daemon).not.toBe(attacker.pid);
    expect(fs.realpathSync(`/proc/${daemon}/exe`)).toBe(fs.realpathSync(path.join(release, 'runtime', 'node')));
  }, 420_000);
});

/** Each path value with `$(...)`, backquotes, quotes, a newline or a tab: what a value must never do is touch `ran`. */
function hostileValues(base: string, ran: string): Record<'root_dir' | 'config_dir' | 'state_dir' | 'log_dir', string> {
  return {
    root_dir: `${base}/root $(touch ${ran}) \`touch ${ran}\` it's "q"`,
    // Line by line, a script's output once read this as two `created` records, the second one
    // a directory the install never made.
    config_dir: `${base}/cfg\ncreated\t${base}/data\n`,
    state_dir: `${base}/state '$(touch ${ran})'`,
    log_dir: `${base}/log "\`touch ${ran}\`" $HOME`,
  };
}

describe('path values with $(...), backquotes, quotes, a newline and a tab', () => {
  it('are refused by the configuration check before any host is reached', async () => {
    const base = path.join(tmp.path, 'refused');
    const ran = path.join(tmp.path, 'refused-ran');
    for (const [key, value] of Object.entries(hostileValues(base, ran))) {
      const file = installFile(`refused-${key.replace('_', '-')}`, 'step-host', { [key]: value });
      await expect(backend.installs.apply(file)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(new RegExp(`:\\d+:\\d+: install\\.${key}: must be a plain path`)),
      });
    }
    expect(fs.existsSync(base)).toBe(false);
    expect(fs.existsSync(ran)).toBe(false);
  }, 60_000);

  it('stay inert in every script when they get past the check, and uninstall removes only what the steps made', async () => {
    const base = path.join(tmp.path, 'bypassed');
    const ran = path.join(tmp.path, 'bypassed-ran');
    // The operator's own directory, which the forged record named.
    fs.mkdirSync(path.join(base, 'data'), { recursive: true });
    fs.writeFileSync(path.join(base, 'data', 'keep'), 'keep me\n');
    const before = snapshotTree(base);
    const config = loadInstallConfig().config;
    const layout = installLayout({ ...config, install: { ...config.install, ...hostileValues(base, ran) } }, 'system', '/root');
    const release = layout.release('0.1.0');
    const session = await sessionTo(stepHost);
    const host: HostLink = {
      row: { name: 'step-host', user: stepHost.user },
      session,
      shell: createRemoteShell(session, 'root'),
      mode: 'system',
      service: 'detached',
      layout,
    };
    const created: string[] = [];
    try {
      created.push(...(await prepareStaging(host, 'upload')).created);
      created.push(
        ...(
          await writeServiceFiles(
            host,
            {
              kind: 'detached',
              start: renderDetachedStartScript(layout, release, 'hostile'),
              stop: renderDetachedStopScript(release, 'hostile'),
            },
            'service',
          )
        ).created,
      );
      // A release as unpack leaves it (the host shares this machine's files), then configure and switch.
      fs.mkdirSync(release.dir, { recursive: true });
      fs.writeFileSync(release.marker, `${bundle.sha256}\n`);
      const staged = await stageFiles(
        session,
        layout.staging,
        'config-0.1.0',
        ['runtime.yaml', 'manifest.yaml', 'ca.pem', 'runtime.pem', 'runtime.key', 'digest'].map((name) => ({
          name,
          content: `${name}\n`,
          mode: 0o600,
        })),
      );
      const makes = [layout.configDir, layout.stateDir, layout.logDir, layout.configLink];
      created.push(
        ...(await runChangingScript(host, 'configure', configureReleaseScript(layout, release, staged), { remedy: '-', makes })).created,
      );
      created.push(
        ...(await runChangingScript(host, 'switch', switchCurrentScript(layout, '0.1.0'), { remedy: '-', makes: [layout.current] }))
          .created,
      );
      // The start script written to the host holds the same values: run, it fails (the release has no runtime) without running them.
      expect((await host.shell.run(sh`sh ${detachedStartScriptPath(layout)}`, { asRoot: true, step: 'start' })).code).not.toBe(0);
      expect(fs.existsSync(ran)).toBe(false);
      expect(fs.readlinkSync(layout.current)).toBe('releases/0.1.0');
      expect(fs.existsSync(path.join(layout.configDir, 'runtime.yaml'))).toBe(true);
      // Only what the steps made, as whole paths: never the directory the forged line named.
      expect(created).not.toContain(path.join(base, 'data'));
      expect(created.length).toBeGreaterThanOrEqual(3);
      for (const p of created) expect(p.startsWith(`${base}/`) && !p.startsWith(`${base}/data`)).toBe(true);

      const paths = pathsToRemove(created, [release.dir], layout);
      const removed = await runChangingScript(host, 'uninstall', uninstallScript({ layout, service: 'detached', paths }), { remedy: '-' });
      expect(removed.removed.every((p) => paths.includes(p))).toBe(true);
    } finally {
      session.close();
    }
    expect(fs.existsSync(ran)).toBe(false);
    expect(fs.readFileSync(path.join(base, 'data', 'keep'), 'utf8')).toBe('keep me\n');
    // What is left beside the operator's own: the directory whose name holds a newline and a
    // tab, which is never recorded (nor, now, ever accepted by the configuration check).
    const topOfConfig = layout.configDir.slice(0, layout.configDir.indexOf('\t') + 1);
    expect(snapshotTree(base, [topOfConfig])).toEqual(before);
  }, 180_000);
});

describe('a step that stops after making directories', () => {
  it('leaves nothing uninstall does not know: what it may make is recorded before it runs', async () => {
    const tree = hostTree(path.join(tmp.path, 'step-host'));
    fs.mkdirSync(tree.base, { recursive: true });
    // log_dir is a file: configure makes config_dir and state_dir, then fails at log_dir, so
    // its own reports of what it made never reach the store (as when apply is killed).
    fs.writeFileSync(tree.logDir, 'not a directory\n');
    const before = snapshotTree(tree.base);
    const file = installFile('steplab', 'step-host', tree.values);
    const applied = await backend.installs.apply(file);
    expect(applied.hosts[0]).toMatchObject({ outcome: 'failed', error: { code: 'INSTALL_STEP_FAILED' } });
    expect(applied.hosts[0]!.steps.find((s) => s.step === 'configure')).toMatchObject({ status: 'failed' });
    expect(fs.statSync(tree.configDir).isDirectory()).toBe(true);
    expect(fs.statSync(tree.stateDir).isDirectory()).toBe(true);
    const recorded = queryStore<{ createdPaths: string }>(
      dataDir,
      "SELECT ih.created_paths AS createdPaths FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id WHERE h.name = 'step-host'",
    );
    expect(JSON.parse(recorded[0]!.createdPaths)).toEqual(expect.arrayContaining([tree.root, tree.configDir, tree.stateDir]));

    const uninstalled = await backend.installs.uninstall(file);
    expect(uninstalled.hosts[0]).toMatchObject({ outcome: 'removed', error: null });
    expect(snapshotTree(tree.base)).toEqual(before);
  }, 300_000);
});

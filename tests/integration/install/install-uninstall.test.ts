// Uninstall for real: an install on a host as root (into directories of which one existed
// before, holding a file of the operator's) and on a host per-user, then each host
// uninstalled in turn. Afterwards each host's file tree is exactly as it was before the
// install, nothing of the runtime runs, and once no host is left the install's record and
// its sealed CA key are gone too.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import type { InstallEvent } from '../../../electron/backend/install/engine/install-steps';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { daemonPid, hostTree, isLive, processesUnder, snapshotTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-uninstall-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'uninstalllab';
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let rootHost: TestHost;
let userHost: TestHost;
let tree: HostTree;
let home: string;
let installFile: string;
const before = new Map<string, string[]>();

function homeOf(user: string): string {
  return fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))!
    .split(':')[5]!;
}

beforeAll(async () => {
  const { lab } = labRef;
  [kit, rootHost, userHost] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'no-sudo' }),
  ]);
  bundle = await buildRealNodeBundle(kit, 'uninstall');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, rootHost, 'root-host');
  await addLabHost(backend, userHost, 'user-host');
  tree = hostTree(path.join(tmp.path, 'root-host'));
  // The operator's own: the configuration directory exists already and holds a file of theirs.
  fs.mkdirSync(tree.configDir, { recursive: true });
  fs.writeFileSync(path.join(tree.configDir, 'operator-notes.conf'), 'keep me\n');
  home = homeOf(userHost.user);
  installFile = path.join(tmp.path, 'install.yaml');
  fs.writeFileSync(
    installFile,
    [
      `name: ${INSTALL}`,
      `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
      'environment: development',
      'config:',
      '  - values: { install: { health_timeout_seconds: 90 } }',
      'hosts:',
      '  - name: root-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(tree.values)} } }`,
      '  - name: user-host',
      '    role: both',
      '    config: { values: { install: { user_dir: ~/sutazai-uninstall } } }',
    ].join('\n'),
  );
  before.set('root-host', snapshotTree(tree.base));
  before.set('user-host', snapshotTree(home));
}, 180_000);

afterAll(async () => {
  const { lab } = labRef;
  if (rootHost) await stopInstalledRuntime(lab, rootHost, tree.root).catch(() => undefined);
  if (userHost) await stopInstalledRuntime(lab, userHost, path.join(home, 'sutazai-uninstall')).catch(() => undefined);
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('uninstall', () => {
  it('leaves each host as it was before the install, with nothing of the runtime running', async () => {
    const applied = await backend.installs.apply(installFile, { concurrency: 2 });
    expect(applied.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([
      ['root-host', 'installed', null],
      ['user-host', 'installed', null],
    ]);
    const userRoot = path.join(home, 'sutazai-uninstall');
    expect(snapshotTree(tree.base)).not.toEqual(before.get('root-host'));
    expect(processesUnder([tree.root])).not.toEqual([]);
    const userDaemon = daemonPid(path.join(userRoot, 'state'));
    expect(userDaemon).not.toBeNull();

    // One host first: the other keeps running, and the install keeps it.
    const events: InstallEvent[] = [];
    const one = await backend.installs.uninstall(installFile, { host: 'root-host', onEvent: (e) => events.push(e) });
    expect(one).toMatchObject({ install: INSTALL, installRemoved: false, hosts: [{ host: 'root-host', outcome: 'removed', error: null }] });
    expect(one.hosts[0]!.removed).toEqual(
      expect.arrayContaining([tree.root, tree.stateDir, tree.logDir, path.join(tree.configDir, 'runtime.yaml')]),
    );
    expect(
      events
        .filter((e) => e.kind === 'uninstall' && e.status !== 'running')
        .map((e) => (e.kind === 'uninstall' ? [e.step, e.status] : null)),
    ).toEqual([
      ['connect', 'done'],
      ['stop', 'done'],
      ['remove', 'done'],
      ['forget', 'done'],
    ]);
    expect(snapshotTree(tree.base)).toEqual(before.get('root-host'));
    expect(fs.readFileSync(path.join(tree.configDir, 'operator-notes.conf'), 'utf8')).toBe('keep me\n');
    expect(processesUnder([tree.root])).toEqual([]);
    expect(daemonPid(path.join(userRoot, 'state'))).toBe(userDaemon);
    expect(isLive(userDaemon)).toBe(true);
    expect(queryStore<{ name: string }>(dataDir, 'SELECT h.name FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id')).toEqual([
      { name: 'user-host' },
    ]);
    expect(queryStore(dataDir, "SELECT * FROM host_releases r JOIN hosts h ON h.id = r.host_id WHERE h.name = 'root-host'")).toEqual([]);

    // The last host: the install and its CA key go with it.
    const rest = await backend.installs.uninstall(installFile);
    expect(rest).toMatchObject({ installRemoved: true, hosts: [{ host: 'user-host', outcome: 'removed', error: null }] });
    expect(snapshotTree(home)).toEqual(before.get('user-host'));
    expect(processesUnder([userRoot])).toEqual([]);
    expect(isLive(userDaemon)).toBe(false);
    expect(queryStore(dataDir, 'SELECT * FROM installs')).toEqual([]);
    expect(queryStore(dataDir, 'SELECT * FROM install_steps')).toEqual([]);
    expect(queryStore(dataDir, "SELECT * FROM secrets WHERE purpose LIKE 'install-ca-key:%'")).toEqual([]);

    await expect(backend.installs.uninstall(installFile)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 300_000);
});

// Installs for real: a signed bundle whose Node binary is this machine's, the real runtime,
// core and agents, three test hosts in network namespaces reached over SSH (one as root, one
// through sudo with a password, one per-user without privilege), and the control center's
// backend over a real SQLite file. Then the same install again (nothing changes), and the
// runtime's own report through fleet's SSH tunnel.
import { X509Certificate } from 'node:crypto';
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
  runtimeReports,
  startInstallBackend,
  stopInstalledRuntime,
  uidOf,
} from '../../support/install-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-install-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'labtest';
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let rootHost: TestHost;
let sudoHost: TestHost;
let userHost: TestHost;
const roots = new Map<string, string>();
let installFile: string;

beforeAll(async () => {
  const { lab } = labRef;
  // The sudo login writes its uploads below this directory: it must be able to pass through.
  fs.chmodSync(tmp.path, 0o755);
  [kit, rootHost, sudoHost, userHost] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'sudo-password' }),
    lab.addSshHost({ login: 'no-sudo' }),
  ]);
  bundle = await buildRealNodeBundle(kit, 'install-apply');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, rootHost, 'root-host');
  await addLabHost(backend, sudoHost, 'sudo-host');
  await addLabHost(backend, userHost, 'user-host');

  // The hosts share this machine's filesystem: each gets its own install root.
  const systemPaths = (name: string) => {
    const base = path.join(tmp.path, name);
    roots.set(name, path.join(base, 'opt'));
    return {
      root_dir: path.join(base, 'opt'),
      config_dir: path.join(base, 'etc'),
      state_dir: path.join(base, 'state'),
      log_dir: path.join(base, 'log'),
    };
  };
  fs.writeFileSync(path.join(tmp.path, 'sudo-host.yaml'), `install: ${JSON.stringify(systemPaths('sudo-host'))}\n`);
  roots.set('user-host', path.join(homeOf(userHost.user), 'sutazai-install'));
  installFile = path.join(tmp.path, 'install.yaml');
  fs.writeFileSync(
    installFile,
    [
      `name: ${INSTALL}`,
      `bundle: ${bundle.file}`,
      'environment: development',
      'config:',
      '  - values:',
      '      install: { health_timeout_seconds: 90 }',
      '      agents: { replicas_per_host: 2 }',
      'hosts:',
      '  - name: root-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(systemPaths('root-host'))} } }`,
      '  - name: sudo-host',
      '    role: both',
      '    config: { file: sudo-host.yaml }',
      '  - name: user-host',
      '    role: both',
      '    config:',
      '      values:',
      '        install: { user_dir: ~/sutazai-install }',
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  const { lab } = labRef;
  const hosts: Array<[TestHost | undefined, string]> = [
    [rootHost, 'root-host'],
    [sudoHost, 'sudo-host'],
    [userHost, 'user-host'],
  ];
  await Promise.all(hosts.filter(([h]) => h).map(([h, name]) => stopInstalledRuntime(lab, h!, roots.get(name)!).catch(() => undefined)));
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

function homeOf(user: string): string {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))!;
  return line.split(':')[5]!;
}

describe('an install on three hosts: root, sudo with a password, per-user', () => {
  it('plans first, changing nothing on any host', async () => {
    const plan = await backend.installs.plan(installFile);
    expect(plan.upToDate).toBe(false);
    const byHost = new Map(plan.hosts.map((h) => [h.host, h]));
    expect(byHost.get('root-host')).toMatchObject({ mode: 'system', privilege: 'root', service: 'detached', error: null });
    expect(byHost.get('sudo-host')).toMatchObject({ mode: 'system', privilege: 'sudo-password', service: 'detached', error: null });
    expect(byHost.get('user-host')).toMatchObject({ mode: 'user', privilege: 'none', root: roots.get('user-host'), error: null });
    for (const host of plan.hosts) {
      expect(host.steps.map((s) => s.step)).toEqual([
        'connect',
        'check-space',
        'upload',
        'unpack',
        'configure',
        'service',
        'start',
        'health',
        'switch',
        'record',
      ]);
      expect(host.steps.filter((s) => s.state === 'todo').map((s) => s.step)).toEqual([
        'upload',
        'unpack',
        'configure',
        'service',
        'start',
        'switch',
        'record',
      ]);
    }
    for (const root of roots.values()) expect(fs.existsSync(root)).toBe(false);
  }, 120_000);

  it('installs every host, with per-host progress, and the runtime reports core and agents running', async () => {
    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(installFile, { concurrency: 3, onEvent: (e) => events.push(e) });
    expect(result.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([
      ['root-host', 'installed', null],
      ['sudo-host', 'installed', null],
      ['user-host', 'installed', null],
    ]);
    for (const name of ['root-host', 'sudo-host', 'user-host']) {
      const done = events
        .filter((e): e is Extract<InstallEvent, { kind: 'step' }> => e.kind === 'step' && e.host === name && e.status === 'done')
        .map((e) => e.step);
      expect(done).toEqual(['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record']);
      expect(events.some((e) => e.kind === 'upload' && e.host === name && e.bytesOnHost === bundle.sizeBytes)).toBe(true);
    }

    // On disk: current points at the release, keys are 0600 and owned by the runtime's user.
    const version = bundle.manifest.version;
    for (const [name, owner] of [
      ['root-host', 0],
      ['sudo-host', 0],
      ['user-host', uidOf(userHost.user)],
    ] as const) {
      const root = roots.get(name)!;
      expect(fs.readlinkSync(path.join(root, 'current'))).toBe(`releases/${version}`);
      const key = fs.statSync(path.join(root, 'releases', version, 'etc', 'tls', 'runtime.key'));
      expect([key.mode & 0o777, key.uid]).toEqual([0o600, owner]);
      expect(
        fs.existsSync(path.join(root, 'staging', `${bundle.manifest.name}-${version}-${bundle.sha256.slice(0, 12)}.sutazai-bundle`)),
      ).toBe(false);
    }
    expect(fs.readlinkSync(path.join(tmp.path, 'root-host', 'etc', 'runtime.yaml'))).toBe(
      path.join(roots.get('root-host')!, 'current', 'etc', 'runtime.yaml'),
    );

    // The store: every step done, the release current, what the install made recorded.
    const steps = queryStore<{ host: string; status: string }>(
      dataDir,
      "SELECT h.name AS host, s.status FROM install_steps s JOIN hosts h ON h.id = s.host_id WHERE s.status <> 'done'",
    );
    expect(steps).toEqual([]);
    const releases = queryStore<{ host: string; version: string; state: string }>(
      dataDir,
      'SELECT h.name AS host, r.version, r.state FROM host_releases r JOIN hosts h ON h.id = r.host_id ORDER BY h.name',
    );
    expect(releases).toEqual(['root-host', 'sudo-host', 'user-host'].map((host) => ({ host, version, state: 'current' })));
    // The sudo password went to sudo's stdin only: no step output, log or database page holds it.
    backend.logger.flush?.();
    for (const entry of fs
      .readdirSync(dataDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.endsWith('.sutazai-bundle'))) {
      expect(fs.readFileSync(path.join(entry.parentPath, entry.name)).includes(sudoHost.password!), entry.name).toBe(false);
    }
    const created = queryStore<{ created: string }>(
      dataDir,
      "SELECT created_paths AS created FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id WHERE h.name = 'sudo-host'",
    );
    expect(JSON.parse(created[0]!.created)).toEqual(expect.arrayContaining([path.join(tmp.path, 'sudo-host')]));
    // Each runtime's certificate as it serves it, recorded by the apply (this backend keeps no fleet link that could read it).
    const certificates = queryStore<{ host: string; fingerprint: string }>(
      dataDir,
      'SELECT h.name AS host, c.fingerprint FROM runtime_certificates c JOIN hosts h ON h.id = c.host_id ORDER BY h.name',
    );
    expect(certificates).toEqual(
      ['root-host', 'sudo-host', 'user-host'].map((host) => ({
        host,
        fingerprint: new X509Certificate(fs.readFileSync(path.join(roots.get(host)!, 'releases', version, 'etc', 'tls', 'runtime.pem')))
          .fingerprint256,
      })),
    );

    // The runtime's own report, through fleet's SSH tunnel with the install's CA.
    const healthy = {
      processes: [
        ['core', ['PROCESS_STATE_RUNNING']],
        ['agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING']],
      ],
      health: 'SERVING',
    };
    expect(await runtimeReports(dataDir, INSTALL, [rootHost, sudoHost, userHost])).toEqual(
      [rootHost, sudoHost, userHost].map((h) => ({ host: h.name, ...healthy })),
    );
  }, 300_000);

  it('applying the same install again changes nothing and says every step was already done', async () => {
    const pidsBefore = daemonPids();
    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(installFile, { onEvent: (e) => events.push(e) });
    expect(result.unchanged).toBe(true);
    for (const host of result.hosts) {
      expect(host.outcome).toBe('unchanged');
      // Logging in is the one thing every apply does anew.
      expect(host.steps.map((s) => [s.step, s.status])).toEqual([
        ['connect', 'done'],
        ...['check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record'].map((step) => [
          step,
          'already-done',
        ]),
      ]);
    }
    expect(events.some((e) => e.kind === 'upload')).toBe(false);
    expect(daemonPids()).toEqual(pidsBefore);
    const plan = await backend.installs.plan(installFile);
    expect(plan.upToDate).toBe(true);
  }, 120_000);
});

/** The daemon pid of each install, from its lock file. */
function daemonPids(): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const [name, root] of roots) {
    const stateDir = name === 'user-host' ? path.join(root, 'state') : path.join(path.dirname(root), 'state');
    pids[name] = (JSON.parse(fs.readFileSync(path.join(stateDir, 'sutazai-runtime.lock'), 'utf8')) as { pid: number }).pid;
  }
  return pids;
}

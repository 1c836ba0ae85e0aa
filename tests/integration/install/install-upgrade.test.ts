// Upgrades and rollbacks for real: two test hosts (one as root, one through sudo with a
// password), the real runtime, core and agents from signed bundles of four versions, one of
// which has a core that exits at every start. A rolling upgrade switches the hosts one at a
// time; the broken release fails its health gate on the first host, which returns to its
// release (binaries, configuration, service) by itself while the second host is left alone;
// a manual rollback goes to any kept release and is health-gated too; a later upgrade prunes
// the releases beyond install.releases_kept.
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
} from '../../support/install-lab';
import { BROKEN_CORE_LINE, buildBrokenCoreBundle, commandLine, daemonPid, hostTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-upgrade-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'upgradelab';
let kit: BundleKit;
const bundles: Record<'v1' | 'v2' | 'broken' | 'v4', BuiltBundle> = {} as never;
let backend: LabBackend;
let first: TestHost;
let second: TestHost;
const trees = new Map<string, HostTree>();

/** The install file for one bundle: both hosts (role both), with the install's own values for that version. */
function installFile(bundle: BuiltBundle, values: string[]): string {
  const file = path.join(tmp.path, `install-${bundle.manifest.version}.yaml`);
  fs.writeFileSync(
    file,
    [
      `name: ${INSTALL}`,
      `bundle: ${bundle.file}`,
      'environment: development',
      'config:',
      '  - values:',
      ...values.map((line) => `      ${line}`),
      'hosts:',
      '  - name: first',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(trees.get('first')!.values)} } }`,
      '  - name: second',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(trees.get('second')!.values)} } }`,
    ].join('\n'),
  );
  return file;
}

const releasesOf = (name: string) =>
  queryStore<{ version: string; state: string }>(
    dataDir,
    'SELECT r.version, r.state FROM host_releases r JOIN hosts h ON h.id = r.host_id WHERE h.name = ? ORDER BY r.version',
    name,
  );
const currentOf = (name: string) => fs.readlinkSync(path.join(trees.get(name)!.root, 'current'));
const daemonOf = (name: string) => daemonPid(trees.get(name)!.stateDir);
const runtimeConfigOf = (name: string, version: string) => path.join(trees.get(name)!.root, 'releases', version, 'etc', 'runtime.yaml');
/** The runtime certificate a release keeps in its etc/ (the one its runtime serves), and the one the store recorded for the host. */
const releaseCertificateOf = (name: string, version: string) =>
  new X509Certificate(fs.readFileSync(path.join(trees.get(name)!.root, 'releases', version, 'etc', 'tls', 'runtime.pem'))).fingerprint256;
const recordedCertificateOf = (name: string) =>
  queryStore<{ fingerprint: string }>(
    dataDir,
    'SELECT c.fingerprint FROM runtime_certificates c JOIN hosts h ON h.id = c.host_id WHERE h.name = ?',
    name,
  )[0]?.fingerprint;
const stepEvents = (events: InstallEvent[]) => events.filter((e): e is Extract<InstallEvent, { kind: 'step' }> => e.kind === 'step');

beforeAll(async () => {
  const { lab } = labRef;
  // The sudo login writes its uploads below this directory: it must be able to pass through.
  fs.chmodSync(tmp.path, 0o755);
  [kit, first, second] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'sudo-password' }),
  ]);
  bundles.v1 = await buildRealNodeBundle(kit, 'upgrade-v1', '0.1.0');
  bundles.v2 = await buildRealNodeBundle(kit, 'upgrade-v2', '0.2.0');
  bundles.broken = await buildBrokenCoreBundle(kit, 'upgrade-broken', '0.3.0');
  bundles.v4 = await buildRealNodeBundle(kit, 'upgrade-v4', '0.4.0');
  backend = await startInstallBackend(dataDir);
  // The signer is trusted once; the install files then name the bundle files, imported on first use.
  await backend.bundles.import(bundles.v1.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, first, 'first');
  await addLabHost(backend, second, 'second');
  trees.set('first', hostTree(path.join(tmp.path, 'first')));
  trees.set('second', hostTree(path.join(tmp.path, 'second')));
}, 240_000);

afterAll(async () => {
  const { lab } = labRef;
  await Promise.all(
    [
      [first, 'first'],
      [second, 'second'],
    ].map(([host, name]) =>
      host ? stopInstalledRuntime(lab, host as TestHost, trees.get(name as string)!.root).catch(() => undefined) : undefined,
    ),
  );
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('a rolling upgrade with a health gate', () => {
  it('installs 0.1.0, then plans 0.2.0 as a rolling upgrade and switches the hosts one at a time', async () => {
    const installed = await backend.installs.apply(
      installFile(bundles.v1, ['install: { health_timeout_seconds: 90 }', 'agents: { replicas_per_host: 2 }']),
      { concurrency: 2 },
    );
    expect(installed.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([
      ['first', 'installed', null],
      ['second', 'installed', null],
    ]);

    const v2 = installFile(bundles.v2, ['install: { health_timeout_seconds: 90 }', 'agents: { replicas_per_host: 2 }']);
    const plan = await backend.installs.plan(v2);
    expect(plan.rolling).toBe(true);
    for (const host of plan.hosts) {
      expect(host.currentRelease).toBe('0.1.0');
      expect(host.steps.filter((s) => s.state === 'todo').map((s) => s.step)).toEqual([
        'upload',
        'unpack',
        'configure',
        'service',
        'start',
        'switch',
        'record',
      ]);
      expect(host.steps.find((s) => s.step === 'health')!.detail).toMatch(/if they do not, the host returns to 0\.1\.0$/);
    }

    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(v2, { concurrency: 2, onEvent: (e) => events.push(e) });
    expect(result.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([
      ['first', 'installed', null],
      ['second', 'installed', null],
    ]);
    // Rolling: the second host touches its service only once the first is recorded; its upload may run ahead.
    const steps = stepEvents(events);
    const at = (host: string, step: string, status: string) =>
      steps.findIndex((e) => e.host === host && e.step === step && e.status === status);
    expect(at('first', 'record', 'done')).toBeGreaterThan(-1);
    expect(at('second', 'service', 'running')).toBeGreaterThan(at('first', 'record', 'done'));
    expect(at('second', 'upload', 'done')).toBeLessThan(at('first', 'record', 'done'));

    for (const name of ['first', 'second']) {
      expect(currentOf(name)).toBe('releases/0.2.0');
      expect(commandLine(daemonOf(name))).toContain(`--config ${runtimeConfigOf(name, '0.2.0')}`);
      expect(releasesOf(name)).toEqual([
        { version: '0.1.0', state: 'previous' },
        { version: '0.2.0', state: 'current' },
      ]);
    }
    const healthy = {
      processes: [
        ['core', ['PROCESS_STATE_RUNNING']],
        ['agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING']],
      ],
      health: 'SERVING',
    };
    expect(await runtimeReports(dataDir, INSTALL, [first, second])).toEqual([first, second].map((h) => ({ host: h.name, ...healthy })));
  }, 360_000);

  it('returns a host whose new core fails its health check to its release and configuration, and stops the rollout', async () => {
    const secondDaemon = daemonOf('second');
    const secondStart = fs.readFileSync(path.join(trees.get('second')!.root, 'bin', 'sutazai-runtime-start'), 'utf8');
    // The broken release also changes the configuration (one agent, not two): the rollback must undo that too.
    const broken = installFile(bundles.broken, ['install: { health_timeout_seconds: 15 }', 'agents: { replicas_per_host: 1 }']);
    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(broken, { concurrency: 2, onEvent: (e) => events.push(e) });

    const [one, two] = result.hosts;
    expect(one).toMatchObject({ host: 'first', outcome: 'failed', error: { code: 'INSTALL_ROLLED_BACK' } });
    expect(one!.error!.message).toContain('was returned to 0.2.0');
    expect(one!.error!.message).toMatch(/healthy again \(core running 1\/1, agent running 2\/2\)/);
    // Why, in the failing process's own words: the last lines of its log.
    expect(one!.error!.message).toMatch(/last lines of core \(.*\/log\/core\.log\):/);
    expect(one!.error!.message).toContain(BROKEN_CORE_LINE);
    expect(one!.steps.find((s) => s.step === 'health')).toMatchObject({ status: 'failed' });
    const back = events.filter((e): e is Extract<InstallEvent, { kind: 'activate' }> => e.kind === 'activate' && e.host === 'first');
    expect(back.every((e) => e.purpose === 'auto-rollback' && e.version === '0.2.0')).toBe(true);
    expect(back.filter((e) => e.status !== 'running').map((e) => [e.step, e.status])).toEqual([
      ['read', 'done'],
      ['service', 'done'],
      ['start', 'done'],
      ['health', 'done'],
      ['switch', 'done'],
      ['record', 'done'],
    ]);
    // The return recorded the certificate 0.2.0's runtime serves again, and said so.
    expect(back.find((e) => e.step === 'health' && e.status === 'done')!.detail).toContain('(recorded for the certificate-expiry alert)');
    expect(recordedCertificateOf('first')).toBe(releaseCertificateOf('first', '0.2.0'));
    expect(two).toMatchObject({
      host: 'second',
      outcome: 'failed',
      error: { code: 'INSTALL_ROLLOUT_STOPPED', message: expect.stringContaining('stopped at first') },
    });

    // The first host: binaries, configuration and service of 0.2.0 again, its processes healthy.
    const tree = trees.get('first')!;
    expect(currentOf('first')).toBe('releases/0.2.0');
    expect(fs.realpathSync(path.join(tree.configDir, 'runtime.yaml'))).toBe(runtimeConfigOf('first', '0.2.0'));
    expect(fs.readFileSync(path.join(tree.root, 'bin', 'sutazai-runtime-start'), 'utf8')).toContain(`${tree.root}/releases/0.2.0/runtime`);
    expect(commandLine(daemonOf('first'))).toContain(`--config ${runtimeConfigOf('first', '0.2.0')}`);
    expect(fs.readFileSync(path.join(tree.root, 'releases', '0.2.0', 'etc', 'manifest.yaml'), 'utf8')).toMatch(/replicas: 2/);
    expect(releasesOf('first')).toEqual([
      { version: '0.1.0', state: 'previous' },
      { version: '0.2.0', state: 'current' },
      { version: '0.3.0', state: 'failed' },
    ]);
    // The second host was never switched: same daemon, same service, same release.
    expect(currentOf('second')).toBe('releases/0.2.0');
    expect(daemonOf('second')).toBe(secondDaemon);
    expect(fs.readFileSync(path.join(trees.get('second')!.root, 'bin', 'sutazai-runtime-start'), 'utf8')).toBe(secondStart);
    expect(releasesOf('second').find((r) => r.version === '0.3.0')).toBeUndefined();

    const healthy = {
      processes: [
        ['core', ['PROCESS_STATE_RUNNING']],
        ['agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING']],
      ],
      health: 'SERVING',
    };
    expect(await runtimeReports(dataDir, INSTALL, [first, second])).toEqual([first, second].map((h) => ({ host: h.name, ...healthy })));
  }, 360_000);
});

describe('a manual rollback', () => {
  it('goes to the previous release by default, to any kept one with --to, and refuses one the host does not keep', async () => {
    const v2 = installFile(bundles.v2, ['install: { health_timeout_seconds: 90 }', 'agents: { replicas_per_host: 2 }']);
    const events: InstallEvent[] = [];
    const toPrevious = await backend.installs.rollback(v2, { host: 'first', onEvent: (e) => events.push(e) });
    expect(toPrevious.hosts).toEqual([
      { host: 'first', from: '0.2.0', to: '0.1.0', outcome: 'rolled-back', health: 'core running 1/1, agent running 2/2', error: null },
    ]);
    expect(currentOf('first')).toBe('releases/0.1.0');
    expect(commandLine(daemonOf('first'))).toContain(`--config ${runtimeConfigOf('first', '0.1.0')}`);
    expect(releasesOf('first')).toEqual([
      { version: '0.1.0', state: 'current' },
      { version: '0.2.0', state: 'previous' },
      { version: '0.3.0', state: 'failed' },
    ]);
    expect(events.some((e) => e.kind === 'activate' && e.purpose === 'rollback' && e.step === 'health' && e.status === 'done')).toBe(true);
    // Each release has its own runtime certificate: the rollback recorded the one 0.1.0 serves, not the one it replaced.
    expect(releaseCertificateOf('first', '0.1.0')).not.toBe(releaseCertificateOf('first', '0.2.0'));
    expect(recordedCertificateOf('first')).toBe(releaseCertificateOf('first', '0.1.0'));

    const unknown = await backend.installs.rollback(v2, { host: 'first', to: '0.9.9' });
    expect(unknown.hosts[0]).toMatchObject({
      outcome: 'failed',
      error: {
        code: 'NOT_FOUND',
        message: 'first keeps no release 0.9.9; its releases: 0.1.0 (current), 0.2.0 (previous), 0.3.0 (failed).',
      },
    });
    expect(currentOf('first')).toBe('releases/0.1.0');

    // Every host to 0.2.0: the second runs it already.
    const both = await backend.installs.rollback(v2, { to: '0.2.0' });
    expect(both.hosts.map((h) => [h.host, h.from, h.to, h.outcome])).toEqual([
      ['first', '0.1.0', '0.2.0', 'rolled-back'],
      ['second', '0.2.0', '0.2.0', 'unchanged'],
    ]);
    expect(currentOf('first')).toBe('releases/0.2.0');
    expect(recordedCertificateOf('first')).toBe(releaseCertificateOf('first', '0.2.0'));
  }, 300_000);

  it('is health-gated: a release that does not come up hands the host back to the one it ran', async () => {
    const v2 = installFile(bundles.v2, ['install: { health_timeout_seconds: 90 }', 'agents: { replicas_per_host: 2 }']);
    const before = daemonOf('first');
    const result = await backend.installs.rollback(v2, { host: 'first', to: '0.3.0' });
    const host = result.hosts[0]!;
    expect(host).toMatchObject({
      from: '0.2.0',
      to: '0.3.0',
      outcome: 'returned',
      health: 'core running 1/1, agent running 2/2',
      error: { code: 'INSTALL_ROLLED_BACK' },
    });
    expect(host.error!.message).toContain(BROKEN_CORE_LINE);
    expect(currentOf('first')).toBe('releases/0.2.0');
    expect(daemonOf('first')).not.toBe(before);
    expect(commandLine(daemonOf('first'))).toContain(`--config ${runtimeConfigOf('first', '0.2.0')}`);
    expect(releasesOf('first').find((r) => r.version === '0.3.0')).toEqual({ version: '0.3.0', state: 'failed' });
    // The return to 0.2.0 recorded the certificate it serves.
    expect(recordedCertificateOf('first')).toBe(releaseCertificateOf('first', '0.2.0'));
  }, 300_000);
});

describe('pruning old releases', () => {
  it('keeps install.releases_kept releases, never the current or the previous one, and forgets the rest', async () => {
    const v4 = installFile(bundles.v4, ['install: { health_timeout_seconds: 90, releases_kept: 2 }', 'agents: { replicas_per_host: 2 }']);
    const result = await backend.installs.apply(v4, { concurrency: 2 });
    expect(result.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([
      ['first', 'installed', null],
      ['second', 'installed', null],
    ]);
    const record = result.hosts[0]!.steps.find((s) => s.step === 'record')!;
    expect(record.detail).toBe('0.4.0 is current on first; removed releases 0.1.0, 0.3.0 (install.releases_kept 2)');
    for (const name of ['first', 'second']) {
      // The second host's 0.3.0 was unpacked by the stopped rollout but never recorded: it goes too.
      expect(fs.readdirSync(path.join(trees.get(name)!.root, 'releases')).sort()).toEqual(['0.2.0', '0.4.0']);
      expect(releasesOf(name)).toEqual([
        { version: '0.2.0', state: 'previous' },
        { version: '0.4.0', state: 'current' },
      ]);
      const created = JSON.parse(
        queryStore<{ created: string }>(
          dataDir,
          'SELECT created_paths AS created FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id WHERE h.name = ?',
          name,
        )[0]!.created,
      ) as string[];
      expect(created.filter((p) => p.includes('/releases/0.1.0') || p.includes('/releases/0.3.0'))).toEqual([]);
    }
  }, 300_000);
});

describe('a change of configuration only', () => {
  it('that fails its health gate is undone on the release that runs: its earlier etc/ back, the runtime restarted on it', async () => {
    const v4Values = ['install: { health_timeout_seconds: 90, releases_kept: 2 }', 'agents: { replicas_per_host: 2 }'];
    const etcOf = (name: string) => path.join(trees.get(name)!.root, 'releases', '0.4.0', 'etc');
    const before = new Map(['first', 'second'].map((name) => [name, fs.readFileSync(path.join(etcOf(name), 'manifest.yaml'), 'utf8')]));
    // Valid to the schema, wrong for the host: the core cannot bind an address the host does not have.
    const bad = installFile(bundles.v4, [
      ...v4Values.slice(0, 1).map((v) => v.replace('90', '15')),
      'agents: { replicas_per_host: 2 }',
      'core: { listen_address: 198.18.255.254 }',
    ]);
    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(bad, { concurrency: 2, onEvent: (e) => events.push(e) });
    for (const host of result.hosts) {
      expect(host).toMatchObject({
        outcome: 'failed',
        error: { code: 'INSTALL_ROLLED_BACK', message: expect.stringContaining('returned to its earlier configuration') },
      });
      expect(host.steps.find((s) => s.step === 'configure')).toMatchObject({ status: 'done' });
      const back = events.filter(
        (e): e is Extract<InstallEvent, { kind: 'activate' }> => e.kind === 'activate' && e.host === host.host && e.status !== 'running',
      );
      expect(back.map((e) => [e.step, e.status])).toEqual(
        [
          ['read', 'done'],
          ['service', 'done'],
          ['start', 'done'],
          ['health', 'done'],
          ['switch', 'already-done'],
          ['record', 'done'],
        ].map(([step, status]) => [step, step === 'switch' ? expect.stringMatching(/done/) : status]),
      );
      expect(back[0]!.detail).toMatch(/restored .*etc from the configuration it had before/);
      // The release that ran is still the one that runs, with the etc/ it had; nothing of the failed one is left.
      expect(currentOf(host.host)).toBe('releases/0.4.0');
      expect(fs.readFileSync(path.join(etcOf(host.host), 'manifest.yaml'), 'utf8')).toBe(before.get(host.host));
      expect(fs.readFileSync(path.join(etcOf(host.host), 'manifest.yaml'), 'utf8')).not.toContain('198.18.255.254');
      expect(fs.existsSync(path.join(trees.get(host.host)!.root, 'releases', '0.4.0', '.etc-previous'))).toBe(false);
      expect(commandLine(daemonOf(host.host))).toContain(`--config ${runtimeConfigOf(host.host, '0.4.0')}`);
    }
    const healthy = {
      processes: [
        ['core', ['PROCESS_STATE_RUNNING']],
        ['agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING']],
      ],
      health: 'SERVING',
    };
    expect(await runtimeReports(dataDir, INSTALL, [first, second])).toEqual([first, second].map((h) => ({ host: h.name, ...healthy })));

    // The configuration that ran before is what the host has again: applying it changes nothing.
    const again = await backend.installs.apply(installFile(bundles.v4, v4Values), { concurrency: 2 });
    expect(again.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['first', 'unchanged'],
      ['second', 'unchanged'],
    ]);
  }, 360_000);
});

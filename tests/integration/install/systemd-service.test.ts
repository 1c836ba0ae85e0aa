// The runtime as a systemd unit, for real: a test host whose PID 1 is systemd (its own pid,
// mount and cgroup namespaces; tests/support/test-hosts/systemd-host.ts), installed as root
// by the real install engine from signed bundles of two versions. The unit is written,
// enabled and active, and the core and agents it supervises answer through the runtime's
// API. `kill -9` of the daemon makes systemd start a new one, which re-adopts the core and
// agents: none of them is killed or started twice (the unit's KillMode, issue 4). An upgrade
// and a rollback go through the unit, and uninstall takes the unit away and leaves the host
// as it was. Skipped, with the reason, only on a machine that cannot run such a host.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  runtimeReports,
  startInstallBackend,
} from '../../support/install-lab';
import { daemonPid, hostTree, processesUnder, snapshotTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import { systemdHostSupport } from '../../support/test-hosts/systemd-host';
import type { SystemdHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const support = systemdHostSupport();
const UNIT = 'sutazai-runtime.service';
const INSTALL = 'systemdlab';
const HEALTHY = {
  processes: [
    ['core', ['PROCESS_STATE_RUNNING']],
    ['agent', ['PROCESS_STATE_RUNNING', 'PROCESS_STATE_RUNNING']],
  ],
  health: 'SERVING',
};

describe.skipIf(!support.ok)(`the runtime as a systemd unit${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  const labRef = useTestLab();
  const tmp = makeTempDir('sutazai-systemd-');
  const dataDir = path.join(tmp.path, 'data');
  let kit: BundleKit;
  const bundles: Record<'v1' | 'v2', BuiltBundle> = {} as never;
  let backend: LabBackend;
  let host: SystemdHost;
  let tree: HostTree;
  const before = new Map<'tree' | 'units', string[]>();

  function installFile(bundle: BuiltBundle): string {
    const file = path.join(tmp.path, `install-${bundle.manifest.version}.yaml`);
    fs.writeFileSync(
      file,
      [
        `name: ${INSTALL}`,
        `bundle: ${bundle.file}`,
        'environment: development',
        'config:',
        '  - values:',
        '      install: { health_timeout_seconds: 90 }',
        '      agents: { replicas_per_host: 2 }',
        'hosts:',
        '  - name: systemd-host',
        '    role: both',
        `    config: { values: { install: ${JSON.stringify(tree.values)} } }`,
      ].join('\n'),
    );
    return file;
  }

  /** Runs `command` as root inside the host (its pid namespace: pids are the host's own). */
  async function inHost(command: string): Promise<string> {
    const result = await labRef.lab.exec(host, command, { timeoutMs: 30_000 });
    return result.stdout.trim();
  }

  const unitProperty = (name: string) => inHost(`systemctl show -p ${name} --value ${UNIT}`);
  const mainPid = async () => Number(await unitProperty('MainPID'));
  const unitFile = () => path.join(host.unitDir, UNIT);
  const runtimeConfig = (version: string) => path.join(tree.root, 'releases', version, 'etc', 'runtime.yaml');

  /** Every process in the unit's cgroup but its main one (the core, the agents, their log writers): pid, start time (clock ticks after boot), command line. */
  async function unitChildren(): Promise<string[]> {
    const main = await mainPid();
    const cgroup = await unitProperty('ControlGroup');
    const out = await inHost(
      `for p in $(cat /sys/fs/cgroup${cgroup}/cgroup.procs); do [ "$p" = ${main} ] && continue; printf '%s %s %s\\n' "$p" "$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f20)" "$(tr '\\0\\n' '  ' </proc/$p/cmdline | cut -c1-300)"; done`,
    );
    return out
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  }

  /** The programs among unitChildren(), sorted: `node core.cjs` and `node agent.cjs`. */
  const programs = (children: readonly string[]) => children.flatMap((c) => /\/node ((?:core|agent)\.cjs) *$/.exec(c)?.[1] ?? []).sort();
  /** The programs among unitChildren() that run from `version`'s release. */
  const programsOf = (children: readonly string[], version: string) =>
    programs(children.filter((c) => c.includes(`/releases/${version}/runtime/node `)));

  /** The daemon systemd runs: active, its main process the lock's owner, running the release's configuration. */
  async function expectDaemonOf(version: string): Promise<number> {
    expect(await inHost(`systemctl is-active ${UNIT}`)).toBe('active');
    const main = await mainPid();
    expect(main).toBeGreaterThan(1);
    expect(daemonPid(tree.stateDir)).toBe(main);
    expect(await inHost(`tr '\\0' ' ' </proc/${main}/cmdline`)).toContain(`run --config ${runtimeConfig(version)}`);
    return main;
  }

  beforeAll(async () => {
    const { lab } = labRef;
    [kit, host] = await Promise.all([makeBundleKit(), lab.addSystemdHost()]);
    bundles.v1 = await buildRealNodeBundle(kit, 'systemd-v1', '0.1.0');
    bundles.v2 = await buildRealNodeBundle(kit, 'systemd-v2', '0.2.0');
    backend = await startInstallBackend(dataDir);
    await backend.bundles.import(bundles.v1.file, { trustKey: kit.key.fingerprint });
    await addLabHost(backend, host, 'systemd-host');
    tree = hostTree(path.join(tmp.path, 'systemd-host'));
    fs.mkdirSync(tree.base);
    before.set('tree', snapshotTree(tree.base));
    before.set('units', snapshotTree(host.unitDir));
  }, 240_000);

  afterAll(async () => {
    // Ends the host and everything systemd runs in it, before the install tree goes.
    if (host) await labRef.lab.stopHost(host).catch(() => undefined);
    await backend?.close();
    kit?.remove();
    tmp.remove();
  }, 120_000);

  it('installs the runtime as an enabled, active unit whose core and agents are healthy', async () => {
    expect(await inHost('cat /proc/1/comm; systemctl is-system-running')).toBe('systemd\nrunning');
    const applied = await backend.installs.apply(installFile(bundles.v1), { concurrency: 1 });
    const [result] = applied.hosts;
    expect([result!.host, result!.outcome, result!.error?.message ?? null]).toEqual(['systemd-host', 'installed', null]);
    expect(result!.steps.find((s) => s.step === 'service')!.detail).toBe('systemd unit sutazai-runtime.service installed and enabled');
    expect(
      queryStore<{ service: string }>(
        dataDir,
        "SELECT ih.service FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id WHERE h.name = 'systemd-host'",
      ),
    ).toEqual([{ service: 'systemd' }]);

    const unit = fs.readFileSync(unitFile(), 'utf8');
    expect(unit).toContain(
      `ExecStart=${tree.root}/releases/0.1.0/runtime/node --lite-mode --no-expose-wasm ${tree.root}/releases/0.1.0/runtime/sutazai-runtime.cjs run --config ${runtimeConfig('0.1.0')}`,
    );
    expect(unit).toMatch(/^KillMode=process$/m);
    expect(await inHost(`systemctl is-enabled ${UNIT}`)).toBe('enabled');
    expect(fs.readlinkSync(path.join(host.unitDir, 'multi-user.target.wants', UNIT))).toBe(`/etc/systemd/system/${UNIT}`);
    await expectDaemonOf('0.1.0');
    // The daemon's children live in the unit's cgroup: one core, two agents.
    const children = await unitChildren();
    expect(programs(children)).toEqual(['agent.cjs', 'agent.cjs', 'core.cjs']);
    expect(await runtimeReports(dataDir, INSTALL, [host])).toEqual([{ host: host.name, ...HEALTHY }]);
  }, 300_000);

  /**
   * Sends `signal` to the daemon alone, waits for systemd to have started a new one, and
   * checks that it re-adopted the core and agents: the same processes (pid and start time),
   * healthy, and no others.
   */
  async function expectRestartKeepsChildren(signal: 'KILL' | 'TERM'): Promise<void> {
    const killed = await mainPid();
    const children = await unitChildren();
    expect(programs(children)).toEqual(['agent.cjs', 'agent.cjs', 'core.cjs']);
    const restarts = Number(await unitProperty('NRestarts'));

    expect(await inHost(`kill -${signal} ${killed}; echo $?`)).toBe('0');
    let main = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      main = await mainPid();
      if (main !== killed && main > 1 && daemonPid(tree.stateDir) === main) break;
    }
    expect(main).not.toBe(killed);
    await expectDaemonOf('0.1.0');
    expect(Number(await unitProperty('NRestarts'))).toBe(restarts + 1);
    // Nothing was stopped, nothing started again.
    expect(await unitChildren()).toEqual(children);
    let reports = await runtimeReports(dataDir, INSTALL, [host]);
    for (
      const deadline = Date.now() + 30_000;
      JSON.stringify(reports) !== JSON.stringify([{ host: host.name, ...HEALTHY }]) && Date.now() < deadline;
      await sleep(500)
    ) {
      reports = await runtimeReports(dataDir, INSTALL, [host]);
    }
    expect(reports).toEqual([{ host: host.name, ...HEALTHY }]);
    expect(await unitChildren()).toEqual(children);
  }

  it('restarts a daemon killed with SIGKILL, and the new one re-adopts the core and agents: none killed, none twice', async () => {
    await expectRestartKeepsChildren('KILL');
  }, 120_000);

  it('restarts a daemon that exited on SIGTERM (it leaves its processes running) without stopping them either', async () => {
    await expectRestartKeepsChildren('TERM');
  }, 120_000);

  it('upgrades to 0.2.0 through the unit, then rolls back to 0.1.0 through it', async () => {
    const v2 = installFile(bundles.v2);
    const upgraded = await backend.installs.apply(v2, { concurrency: 1 });
    expect(upgraded.hosts.map((h) => [h.host, h.outcome, h.error?.message ?? null])).toEqual([['systemd-host', 'installed', null]]);
    expect(fs.readFileSync(unitFile(), 'utf8')).toContain(`ExecStart=${tree.root}/releases/0.2.0/runtime/node`);
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe('releases/0.2.0');
    await expectDaemonOf('0.2.0');
    // A restart on purpose is a stop: ExecStop's stop-all stopped the 0.1.0 processes, the new daemon started its own.
    expect(programsOf(await unitChildren(), '0.2.0')).toEqual(['agent.cjs', 'agent.cjs', 'core.cjs']);
    expect(await runtimeReports(dataDir, INSTALL, [host])).toEqual([{ host: host.name, ...HEALTHY }]);

    const back = await backend.installs.rollback(v2, { host: 'systemd-host' });
    expect(back.hosts).toEqual([
      {
        host: 'systemd-host',
        from: '0.2.0',
        to: '0.1.0',
        outcome: 'rolled-back',
        health: 'core running 1/1, agent running 2/2',
        error: null,
      },
    ]);
    expect(fs.readFileSync(unitFile(), 'utf8')).toContain(`ExecStart=${tree.root}/releases/0.1.0/runtime/node`);
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe('releases/0.1.0');
    await expectDaemonOf('0.1.0');
    expect(programsOf(await unitChildren(), '0.1.0')).toEqual(['agent.cjs', 'agent.cjs', 'core.cjs']);
    expect(await runtimeReports(dataDir, INSTALL, [host])).toEqual([{ host: host.name, ...HEALTHY }]);
  }, 300_000);

  it('uninstall stops, disables and removes the unit, and leaves the host as it was before the install', async () => {
    const result = await backend.installs.uninstall(installFile(bundles.v2));
    expect(result).toMatchObject({
      install: INSTALL,
      installRemoved: true,
      hosts: [{ host: 'systemd-host', outcome: 'removed', error: null }],
    });
    expect(result.hosts[0]!.removed).toEqual(
      expect.arrayContaining([`/etc/systemd/system/${UNIT}`, tree.root, tree.stateDir, tree.logDir]),
    );

    expect(fs.existsSync(unitFile())).toBe(false);
    expect(await inHost(`systemctl is-active ${UNIT}`)).toBe('inactive');
    expect(await inHost(`systemctl list-unit-files --no-legend ${UNIT}`)).toBe('');
    expect(snapshotTree(host.unitDir)).toEqual(before.get('units'));
    expect(snapshotTree(tree.base)).toEqual(before.get('tree'));
    expect(processesUnder([tree.root])).toEqual([]);
    // Inside the host only what it ran before the install: systemd, journald, sshd (and this shell).
    const left = (await inHost('ps -e -o comm=')).split('\n').filter((c) => !['sh', 'ps', 'sshd'].includes(c));
    expect(left.sort()).toEqual(['systemd', 'systemd-journal']);
    expect(await inHost('systemctl is-system-running')).toBe('running');
  }, 300_000);
});

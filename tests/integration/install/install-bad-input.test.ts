// Bad input, each refused before it changes anything that cannot be undone, with a reason
// and a remedy, while other hosts and earlier releases carry on: a bundle with no Node for
// the host's architecture, a port another process holds, a truncated bundle file and an
// imported copy damaged since its import, a disk that fills up during the upload, and a
// configuration value of the wrong type (refused before any host is reached).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import type { InstallEvent } from '../../../electron/backend/install/engine/install-steps';
import { flipByte, makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { buildArmOnlyBundle, commandLine, daemonPid, hostTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const MiB = 1024 * 1024;
const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 100 });
const labRef = useTestLab();
const tmp = makeTempDir('sutazai-bad-input-');
const dataDir = path.join(tmp.path, 'data');
const smallDisk = path.join(tmp.path, 'small-disk');
let mounted = false;
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
const hosts = new Map<string, TestHost>();
const trees = new Map<string, HostTree>();
const listeners: number[] = [];

/** An install file of its own for each case: `name`, the bundle reference, hosts with their install values. */
function installFile(name: string, bundleRef: string, hostNames: string[], values: string[] = []): string {
  const file = path.join(tmp.path, `${name}.yaml`);
  fs.writeFileSync(
    file,
    [
      `name: ${name}`,
      `bundle: ${bundleRef}`,
      'environment: development',
      'config:',
      '  - values:',
      '      install: { health_timeout_seconds: 90 }',
      ...values.map((line) => `      ${line}`),
      'hosts:',
      ...hostNames.flatMap((host) => [
        `  - name: ${host}`,
        '    role: both',
        `    config: { values: { install: ${JSON.stringify(trees.get(host)!.values)} } }`,
      ]),
    ].join('\n'),
  );
  return file;
}

const stepStatuses = (result: { steps: Array<{ step: string; status: string }> }) =>
  Object.fromEntries(result.steps.map((s) => [s.step, s.status]));

beforeAll(async () => {
  const { lab } = labRef;
  // A disk with room for what the space check asks (the upload, the release, a 64 MiB
  // margin) and little more. Mounted before the hosts start: each sshd lives in a copy of
  // the mount namespace made when it started.
  const bundleEstimate = fs.statSync(process.execPath).size + 8 * MiB;
  fs.mkdirSync(smallDisk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((2 * bundleEstimate + 96 * MiB) / MiB)}m,mode=0755`, 'tmpfs', smallDisk]);
  mounted = true;
  const names = ['stable-host', 'arch-host', 'port-host', 'disk-host', 'ok-host', 'corrupt-host'];
  const [built, ...added] = await Promise.all([makeBundleKit(), ...names.map(() => lab.addSshHost({ login: 'root-key' }))]);
  kit = built;
  bundle = await buildRealNodeBundle(kit, 'bad-input', '0.1.0');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  for (const [index, name] of names.entries()) {
    hosts.set(name, added[index]!);
    await addLabHost(backend, added[index]!, name);
    trees.set(name, hostTree(path.join(tmp.path, name)));
  }
  // The small disk holds disk-host's install root; its state and logs stay beside the others'.
  trees.set('disk-host', {
    ...trees.get('disk-host')!,
    root: path.join(smallDisk, 'opt'),
    values: { ...trees.get('disk-host')!.values, root_dir: path.join(smallDisk, 'opt') },
  });
}, 240_000);

afterAll(async () => {
  const { lab } = labRef;
  for (const pid of listeners) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await Promise.all([...hosts].map(([name, host]) => stopInstalledRuntime(lab, host, trees.get(name)!.root).catch(() => undefined)));
  await backend?.close();
  if (mounted) execFileSync('umount', [smallDisk]);
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('a host whose architecture the bundle has no Node for', () => {
  it('is refused before the upload, and a host that runs an earlier release keeps running it', async () => {
    const stable = installFile('archlab', `${bundle.manifest.name}@0.1.0`, ['stable-host']);
    const first = await backend.installs.apply(stable);
    expect(first.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    const daemon = daemonPid(trees.get('stable-host')!.stateDir);

    const arm = await buildArmOnlyBundle(kit, 'bad-input-arm', '0.2.0');
    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(installFile('archlab', arm.file, ['stable-host', 'arch-host']), {
      onEvent: (e) => events.push(e),
    });
    for (const host of result.hosts) {
      expect(host.outcome).toBe('failed');
      expect(host.error).toMatchObject({
        code: 'INSTALL_ARCH_UNSUPPORTED',
        message: expect.stringContaining('carries Node only for linux-arm64'),
      });
      expect(host.error!.remedy).toMatch(/--node-arm64|architecture/);
      expect(stepStatuses(host)).toEqual({
        connect: 'done',
        'check-space': 'skipped',
        upload: 'skipped',
        unpack: 'failed',
        configure: 'skipped',
        service: 'skipped',
        start: 'skipped',
        health: 'skipped',
        switch: 'skipped',
        record: 'skipped',
      });
    }
    expect(events.some((e) => e.kind === 'upload')).toBe(false);
    // Nothing written to the fresh host; the other keeps its release, its daemon and its files.
    expect(fs.existsSync(trees.get('arch-host')!.base)).toBe(false);
    const root = trees.get('stable-host')!.root;
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe('releases/0.1.0');
    expect(fs.readdirSync(path.join(root, 'releases'))).toEqual(['0.1.0']);
    expect(fs.readdirSync(path.join(root, 'staging'))).toEqual([]);
    expect(daemonPid(trees.get('stable-host')!.stateDir)).toBe(daemon);
    expect(commandLine(daemon)).toContain(`${root}/releases/0.1.0/etc/runtime.yaml`);
  }, 300_000);
});

describe('a port another process holds', () => {
  it('is refused with the port, its key and the process, before anything is written; freed, the same install goes through', async () => {
    const { lab } = labRef;
    const host = hosts.get('port-host')!;
    const ready = path.join(tmp.path, 'listener-up');
    const started = await lab.exec(
      host,
      `nohup ${process.execPath} -e "require('net').createServer().listen(7700, '127.0.0.1', () => require('fs').writeFileSync('${ready}', 'up'))" >/dev/null 2>&1 & echo $!`,
    );
    const pid = Number(started.stdout.trim());
    listeners.push(pid);
    await waitFor('the listener on port 7700', () => fs.existsSync(ready));

    const file = installFile('portlab', `${bundle.manifest.name}@0.1.0`, ['port-host']);
    const plan = await backend.installs.plan(file);
    expect(plan.hosts[0]!.steps.find((s) => s.step === 'start')).toMatchObject({ state: 'blocked' });
    const result = await backend.installs.apply(file);
    const refused = result.hosts[0]!;
    expect(refused).toMatchObject({ outcome: 'failed', error: { code: 'INSTALL_PORT_IN_USE' } });
    expect(refused.error!.message).toContain(`port 7700 (core.port) is taken by pid ${pid} (${process.execPath} -e`);
    expect(refused.error!.remedy).toContain('core.port');
    expect(stepStatuses(refused)).toMatchObject({ connect: 'done', upload: 'skipped', start: 'failed', record: 'skipped' });
    expect(fs.existsSync(trees.get('port-host')!.base)).toBe(false);

    process.kill(pid, 'SIGKILL');
    await waitFor(
      'port 7700 to be free',
      async () => !(await lab.exec(host, 'cat /proc/net/tcp')).stdout.includes(':1E14 00000000:0000 0A'),
    );
    const again = await backend.installs.apply(file);
    expect(again.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
  }, 300_000);
});

describe('a damaged bundle', () => {
  it('is refused before anything is stored or sent: a truncated file, and an imported copy damaged since its import', async () => {
    const truncated = path.join(tmp.path, 'truncated.sutazai-bundle');
    fs.copyFileSync(bundle.file, truncated);
    fs.truncateSync(truncated, Math.floor(bundle.sizeBytes / 2));
    await expect(backend.installs.apply(installFile('damagedlab', truncated, ['corrupt-host']))).rejects.toMatchObject({
      code: 'BUNDLE_CORRUPT',
    });
    expect(queryStore(dataDir, "SELECT * FROM installs WHERE name = 'damagedlab'")).toEqual([]);

    // A copy of its own, so the other cases keep a good one.
    const own = await buildRealNodeBundle(kit, 'bad-input-damaged', '0.5.0');
    await backend.bundles.import(own.file);
    const stored = queryStore<{ path: string }>(dataDir, "SELECT path FROM bundles WHERE version = '0.5.0'")[0]!.path;
    flipByte(path.resolve(dataDir, stored), Math.floor(own.sizeBytes / 2));
    const result = await backend.installs.apply(installFile('damagedlab', `${own.manifest.name}@0.5.0`, ['corrupt-host']));
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      error: { code: 'BUNDLE_CORRUPT', message: expect.stringContaining('damaged since it was imported') },
    });
    expect(result.hosts[0]!.error!.remedy).toMatch(/Import the bundle file again/);
    expect(stepStatuses(result.hosts[0]!)).toMatchObject({ 'check-space': 'done', upload: 'failed', unpack: 'skipped' });
    expect(fs.existsSync(trees.get('corrupt-host')!.base)).toBe(false);
  }, 300_000);
});

describe('a disk that fills up during the upload', () => {
  it('fails that host with a remedy, installs the other host, and resumes once there is room', async () => {
    const file = installFile('disklab', `${bundle.manifest.name}@0.1.0`, ['disk-host', 'ok-host']);
    const filler = path.join(smallDisk, 'filler');
    let filled = false;
    const result = await backend.installs.apply(file, {
      concurrency: 2,
      onEvent: (event) => {
        if (filled || event.kind !== 'upload' || event.host !== 'disk-host' || event.bytesOnHost < event.totalBytes / 3) return;
        filled = true;
        // Something else on the host takes the rest of the disk.
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
        } catch {
          // dd stops with "No space left on device": the point.
        }
      },
    });
    expect(filled).toBe(true);
    const [disk, ok] = result.hosts;
    expect(disk).toMatchObject({ outcome: 'failed', error: { code: 'INSTALL_UPLOAD_FAILED' } });
    expect(disk!.error!.remedy).toMatch(/^Free space on the host/);
    expect(stepStatuses(disk!)).toMatchObject({ upload: 'failed', unpack: 'skipped', start: 'skipped' });
    expect(fs.existsSync(path.join(trees.get('disk-host')!.root, 'releases'))).toBe(false);
    expect(ok).toMatchObject({ outcome: 'installed', error: null });

    fs.rmSync(filler);
    const again = await backend.installs.apply(file);
    expect(again.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['disk-host', 'installed'],
      ['ok-host', 'unchanged'],
    ]);
    expect(again.hosts[0]!.upload!.resumedFrom).toBeGreaterThan(0);
  }, 300_000);
});

describe('a configuration value of the wrong type', () => {
  it('stops plan and apply before any host is reached, naming the file, line, column and key', async () => {
    const { lab } = labRef;
    const host = hosts.get('ok-host')!;
    // With its sshd down, reaching the host would fail differently: the refusal must come first.
    await lab.stopHost(host);
    try {
      const wrong = installFile('typelab', `${bundle.manifest.name}@0.1.0`, ['ok-host'], ['agents: { replicas_per_host: two }']);
      for (const run of [() => backend.installs.plan(wrong), () => backend.installs.apply(wrong)]) {
        await expect(run()).rejects.toMatchObject({
          code: 'CONFIG_INVALID',
          message: expect.stringMatching(/typelab\.yaml:\d+:\d+.*agents\.replicas_per_host.*whole number/),
        });
      }
      // A per-host layer is checked as early.
      const perHost = path.join(tmp.path, 'typelab-host.yaml');
      fs.writeFileSync(
        perHost,
        [
          'name: typelab',
          `bundle: ${bundle.manifest.name}@0.1.0`,
          'hosts:',
          '  - name: ok-host',
          '    role: both',
          '    config: { values: { runtime: { grpc_port: "7600" } } }',
        ].join('\n'),
      );
      await expect(backend.installs.apply(perHost)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('runtime.grpc_port'),
      });
      expect(queryStore(dataDir, "SELECT * FROM installs WHERE name = 'typelab'")).toEqual([]);
    } finally {
      await lab.startHost(host);
    }
  }, 120_000);
});

// Installs and upgrades on Dropbear hosts whose login user has BusyBox sh as login shell (a
// per-user install, no sudo), on a quiet machine and on one loaded with busy processes. The
// steps open one channel after another on one connection; Dropbear 2022.83 used to drop the
// connection when a command's channel was opened while the previous SFTP channel's process
// exited ("Unable to exec" at configure), which depends on timing, hence both machines.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import type { InstallEvent } from '../../../electron/backend/install/engine/install-steps';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { startCpuHogs, type CpuHogs } from '../../support/cpu-hogs';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  runtimeReports,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-dropbear-');
const dataDir = path.join(tmp.path, 'data');
const STEPS = ['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record'];
let kit: BundleKit;
const bundles: Record<'v1' | 'v2', BuiltBundle> = {} as never;
let backend: LabBackend;
const hosts = new Map<string, TestHost>();
let hogs: CpuHogs | null = null;

/** The per-user install of one host: its own directory in the BusyBox user's home (the hosts share that user). */
function installFile(name: string, bundle: BuiltBundle): string {
  const file = path.join(tmp.path, `${name}-${bundle.manifest.version}.yaml`);
  fs.writeFileSync(
    file,
    [
      `name: ${name}`,
      `bundle: ${bundle.file}`,
      'environment: development',
      'hosts:',
      `  - name: ${name}`,
      '    role: both',
      `    config: { values: { install: { user_dir: ~/${name} } } }`,
    ].join('\n'),
  );
  return file;
}

const rootOf = (name: string) => path.join(homeOf(hosts.get(name)!.user), name);

function homeOf(user: string): string {
  return fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))!
    .split(':')[5]!;
}

beforeAll(async () => {
  const { lab } = labRef;
  const [built, quiet, loaded] = await Promise.all([makeBundleKit(), lab.addDropbearHost(), lab.addDropbearHost()]);
  kit = built;
  bundles.v1 = await buildRealNodeBundle(kit, 'dropbear-v1', '0.1.0');
  bundles.v2 = await buildRealNodeBundle(kit, 'dropbear-v2', '0.2.0');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundles.v1.file, { trustKey: kit.key.fingerprint });
  hosts.set('quiet', quiet);
  hosts.set('loaded', loaded);
  await addLabHost(backend, quiet, 'quiet');
  await addLabHost(backend, loaded, 'loaded');
}, 240_000);

afterAll(async () => {
  hogs?.stop();
  await Promise.all([...hosts].map(([name, host]) => stopInstalledRuntime(labRef.lab, host, rootOf(name)).catch(() => undefined)));
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

/** Installs 0.1.0, then upgrades to 0.2.0, checking every step of both and what the runtime reports. */
async function installThenUpgrade(name: string): Promise<void> {
  const host = hosts.get(name)!;
  for (const bundle of [bundles.v1, bundles.v2]) {
    const events: InstallEvent[] = [];
    const result = await backend.installs.apply(installFile(name, bundle), { onEvent: (e) => events.push(e) });
    expect(result.hosts.map((h) => [h.host, h.outcome, h.error])).toEqual([[name, 'installed', null]]);
    const done = events
      .filter((e): e is Extract<InstallEvent, { kind: 'step' }> => e.kind === 'step' && e.status === 'done')
      .map((e) => e.step);
    expect(done).toEqual(STEPS);
    expect(fs.readlinkSync(path.join(rootOf(name), 'current'))).toBe(`releases/${bundle.manifest.version}`);
  }
  expect(
    queryStore<{ version: string; state: string }>(
      dataDir,
      'SELECT r.version, r.state FROM host_releases r JOIN hosts h ON h.id = r.host_id WHERE h.name = ? ORDER BY r.version',
      name,
    ),
  ).toEqual([
    { version: '0.1.0', state: 'previous' },
    { version: '0.2.0', state: 'current' },
  ]);
  expect(await runtimeReports(dataDir, name, [host])).toEqual([
    {
      host: host.name,
      processes: [
        ['core', ['PROCESS_STATE_RUNNING']],
        ['agent', ['PROCESS_STATE_RUNNING']],
      ],
      health: 'SERVING',
    },
  ]);
}

describe('a per-user install on Dropbear with BusyBox sh as login shell', () => {
  it('installs and upgrades on a quiet machine', async () => {
    expect(hosts.get('quiet')!).toMatchObject({ kind: 'dropbear', login: 'busybox-user' });
    await installThenUpgrade('quiet');
  }, 420_000);

  it('installs and upgrades on a machine loaded with busy processes', async () => {
    hogs = startCpuHogs();
    try {
      await installThenUpgrade('loaded');
    } finally {
      hogs.stop();
    }
  }, 600_000);
});

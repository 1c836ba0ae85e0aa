import path from 'node:path';
import { expect } from 'vitest';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from './bundle-kit';
import { addLabHost, buildRealNodeBundle, stopInstalledRuntime, writeLabInstallFile, type LabBackend } from './install-lab';
import { hostTree, type HostTree } from './release-lab';
import type { Defer } from './suite-set-up';
import type { TestHost, TestLab } from './test-hosts/test-hosts';

/**
 * What the tests of an installed fleet share: test hosts that SutazAI is installed on for real
 * (the runtime, its core and agents, run by this machine's Node), the bundle they get, and the
 * install itself through the test's own backend. The hosts share this machine's filesystem, so
 * each one's install goes below the test's directory, not /opt.
 */
export interface LabFleet {
  kit: BundleKit;
  /** Its Node binary is the one running the tests (buildRealNodeBundle). */
  bundle: BuiltBundle;
  hosts: LabFleetHost[];
  /** The test's directory: the install file and each host's tree go below it. */
  dir: string;
}

export interface LabFleetHost {
  /** Its name in the inventory and in the install file. */
  name: string;
  host: TestHost;
  /** Where its install goes: `<dir>/<name>`. */
  tree: HostTree;
}

/**
 * One OpenSSH test host per name (root, key login) and the bundle. Undone through `defer`:
 * each host's runtime stopped (it outlives the SSH login that started it), after its interface
 * is brought up again for a test that cut it and failed before it could; then the kit removed.
 */
export async function openLabFleet(
  defer: Defer,
  lab: TestLab,
  options: { dir: string; bundleName: string; hostNames: readonly string[] },
): Promise<LabFleet> {
  const [kit, ...testHosts] = await Promise.all([makeBundleKit(), ...options.hostNames.map(() => lab.addSshHost({ login: 'root-key' }))]);
  defer(kit.remove);
  const hosts = testHosts.map((host, i): LabFleetHost => {
    const name = options.hostNames[i]!;
    return { name, host, tree: hostTree(path.join(options.dir, name)) };
  });
  for (const { host, tree } of hosts)
    defer(async () => {
      await lab.exec(host, 'ip link set eth0 up').catch(() => undefined);
      await stopInstalledRuntime(lab, host, tree.root);
    });
  return { kit, bundle: await buildRealNodeBundle(kit, options.bundleName), hosts, dir: options.dir };
}

/**
 * Imports the fleet's bundle into `backend` (its key trusted), adds each host (key pinned,
 * probed), writes `<dir>/install.yaml` (every host in role both, under its tree, `values`
 * added to the config) and, unless `apply` is false, applies it: every host installed.
 * Answers the install file and each host's id, in the fleet's order.
 */
export async function installLabFleet(
  backend: LabBackend,
  fleet: LabFleet,
  options: { install: string; values?: Record<string, unknown>; apply?: boolean },
): Promise<{ installFile: string; hostIds: number[] }> {
  await backend.bundles.import(fleet.bundle.file, { trustKey: fleet.kit.key.fingerprint });
  const hostIds: number[] = [];
  for (const { host, name } of fleet.hosts) hostIds.push(await addLabHost(backend, host, name));
  const installFile = writeLabInstallFile(fleet.dir, {
    name: options.install,
    bundle: fleet.bundle,
    ...(options.values ? { values: options.values } : {}),
    hosts: fleet.hosts.map((h) => ({ name: h.name, installValues: h.tree.values })),
  });
  if (options.apply !== false) {
    const applied = await backend.installs.apply(installFile);
    expect(applied.hosts.map((h) => [h.host, h.outcome])).toEqual(fleet.hosts.map((h) => [h.name, 'installed']));
  }
  return { installFile, hostIds };
}

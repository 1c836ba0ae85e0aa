import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeBundleKit, type BundleKit } from './bundle-kit';
import { stopInstalledRuntime } from './install-lab';
import { createTestLab, type TestHost, type TestLab } from './test-hosts/test-hosts';

/**
 * What an e2e test of installing needs besides the app: a temp directory (the app's data
 * below it), a lab with one OpenSSH test host logged in to as root, and a kit to build
 * signed bundles. The host shares this machine's filesystem, so its install goes below
 * the temp directory (labInstallYaml(base)), not /opt.
 */
export interface OneHostInstallLab {
  dir: string;
  /** The app's data directory: `<dir>/data`. */
  dataDir: string;
  lab: TestLab;
  host: TestHost;
  kit: BundleKit;
  /** Below which the host's install goes: `<dir>/<host name>`. */
  base: string;
  /** The install's root_dir: `<base>/opt`. */
  installRoot: string;
  /** Stops the runtime installed there (it outlives the SSH login that started it), then removes everything. */
  close(): Promise<void>;
}

export async function openOneHostInstallLab(prefix: string, hostName: string): Promise<OneHostInstallLab> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const base = path.join(dir, hostName);
  const installRoot = path.join(base, 'opt');
  let lab: TestLab | null = null;
  let host: TestHost | null = null;
  let kit: BundleKit | null = null;
  const close = async () => {
    if (lab && host) await stopInstalledRuntime(lab, host, installRoot).catch(() => undefined);
    await lab?.destroy().catch(() => undefined);
    lab = null;
    kit?.remove();
    kit = null;
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    lab = await createTestLab();
    const labNow = lab;
    [kit, host] = await Promise.all([makeBundleKit(), labNow.addSshHost({ login: 'root-key' })]);
    return { dir, dataDir: path.join(dir, 'data'), lab: labNow, host, kit, base, installRoot, close };
  } catch (error) {
    await close();
    throw error;
  }
}

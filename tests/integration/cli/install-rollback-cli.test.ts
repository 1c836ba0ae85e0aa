// `sutazai rollback`, a downgrade and `sutazai uninstall` as an operator runs them: the real
// CLI as a child process, a real test host over SSH, two bundles with the real runtime in them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { buildRealNodeBundle, stopInstalledRuntime } from '../../support/install-lab';
import { hostTree, processesUnder } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir('sutazai-rollback-cli-');
const labRef = useTestLab();
let kit: BundleKit;
let v1: BuiltBundle;
let v2: BuiltBundle;
let host: TestHost;
const tree = hostTree(path.join(dir.path, 'host'));

function sutazai(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, SUTAZAI_DATA_DIR: path.join(dir.path, 'data'), SUTAZAI_PASSPHRASE: 'cli rollback passphrase' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

function installFile(bundle: BuiltBundle): string {
  const file = path.join(dir.path, `install-${bundle.manifest.version}.yaml`);
  fs.writeFileSync(
    file,
    [
      'name: cli-rollback',
      `bundle: ${bundle.file}`,
      'environment: development',
      'hosts:',
      '  - name: cli-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(tree.values)} } }`,
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  [kit, host] = await Promise.all([makeBundleKit(), labRef.lab.addSshHost({ login: 'root-key' })]);
  v1 = await buildRealNodeBundle(kit, 'cli-v1', '0.1.0');
  v2 = await buildRealNodeBundle(kit, 'cli-v2', '0.2.0');
}, 180_000);

afterAll(async () => {
  if (host) await stopInstalledRuntime(labRef.lab, host, tree.root).catch(() => undefined);
  kit?.remove();
  dir.remove();
}, 120_000);

describe('sutazai rollback and uninstall', () => {
  it('refuses a downgrade not asked for, downgrades with --allow-downgrade, rolls back to the previous release with a line per step, refuses an unknown one, and uninstalls', async () => {
    expect((await sutazai(['bundle', 'import', v1.file, '--trust-key', kit.key.fingerprint])).code).toBe(0);
    expect(
      (
        await sutazai([
          'hosts',
          'add',
          'cli-host',
          '--address',
          host.address,
          '--user',
          'root',
          '--key',
          host.privateKeyPath,
          '--trust',
          host.hostKeyFingerprint,
        ])
      ).code,
    ).toBe(0);
    expect((await sutazai(['apply', '--install', installFile(v1)])).code).toBe(0);
    const file = installFile(v2);
    const plan = await sutazai(['plan', '--install', file]);
    expect(plan.stdout).toContain('A rolling upgrade from 0.1.0 to 0.2.0');
    const upgrade = await sutazai(['apply', '--install', file]);
    expect(upgrade.code).toBe(0);
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe('releases/0.2.0');

    const misplaced = await sutazai(['apply', '--install', file, '--to', '0.1.0']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('`apply` takes no --to');

    // The older bundle is a downgrade: named as one, refused without --allow-downgrade, done with it.
    const older = installFile(v1);
    const downgradePlan = await sutazai(['plan', '--install', older]);
    expect(downgradePlan.stdout, downgradePlan.stderr).toContain('A DOWNGRADE from 0.2.0 to 0.1.0');
    expect(downgradePlan.stdout).not.toContain('A rolling upgrade');
    const unasked = await sutazai(['apply', '--install', older]);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain(
      'error INSTALL_DOWNGRADE_REFUSED: sutazai@0.1.0 is older than 0.2.0, which cli-rollback runs: installing it is a downgrade',
    );
    expect(unasked.stderr).toContain('sutazai apply --allow-downgrade');
    expect(unasked.stdout).toBe('');
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe('releases/0.2.0');
    expect((await sutazai(['plan', '--install', older, '--allow-downgrade'])).stderr).toContain('`plan` takes no --allow-downgrade');
    const downgrade = await sutazai(['apply', '--install', older, '--allow-downgrade']);
    expect(downgrade.stderr).toBe('');
    expect(downgrade.code).toBe(0);
    expect(downgrade.stdout).toContain('cli-host: sutazai@0.1.0 installed and healthy');
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe('releases/0.1.0');

    const rollback = await sutazai(['rollback', '--install', file]);
    expect(rollback.stderr).toBe('');
    expect(rollback.code).toBe(0);
    for (const step of ['read', 'service', 'start', 'health', 'switch', 'record'])
      expect(rollback.stdout).toMatch(new RegExp(`^cli-host {2}rollback>${step} +done {2}`, 'm'));
    expect(rollback.stdout).toContain('cli-host: back on 0.2.0 (was 0.1.0), healthy: core running 1/1, agent running 1/1');
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe('releases/0.2.0');

    const unknown = await sutazai(['rollback', '--install', file, '--host', 'cli-host', '--to', '9.9.9', '--json']);
    expect(unknown.code).toBe(3);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      hosts: [
        {
          host: 'cli-host',
          outcome: 'failed',
          error: { code: 'NOT_FOUND', message: 'cli-host keeps no release 9.9.9; its releases: 0.1.0 (previous), 0.2.0 (current).' },
        },
      ],
    });

    const uninstall = await sutazai(['uninstall', '--install', file]);
    expect(uninstall.code).toBe(0);
    // Everything went under one directory the install made: that directory is what it recorded.
    expect(uninstall.stdout).toContain(`cli-host  remove       done          removed 1 recorded path: ${tree.base}\n`);
    expect(uninstall.stdout).toContain('No host is left: the install cli-rollback and its CA key are removed.');
    expect(fs.existsSync(tree.base)).toBe(false);
    expect(processesUnder([tree.base])).toEqual([]);

    const gone = await sutazai(['rollback', '--install', file]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('error NOT_FOUND: Nothing is installed under the name cli-rollback');
  }, 600_000);
});

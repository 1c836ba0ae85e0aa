// `sutazai plan` and `sutazai apply` as an operator runs them: the real CLI as a child
// process, a real test host over SSH, a bundle with the real runtime in it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { buildRealNodeBundle, stopInstalledRuntime } from '../../support/install-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir('sutazai-install-cli-');
const labRef = useTestLab();
let kit: BundleKit;
let bundle: BuiltBundle;
let host: TestHost;
const installRoot = path.join(dir.path, 'host', 'opt');
const installFile = path.join(dir.path, 'install.yaml');

function sutazai(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, SUTAZAI_DATA_DIR: path.join(dir.path, 'data'), SUTAZAI_PASSPHRASE: 'cli install passphrase' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

beforeAll(async () => {
  [kit, host] = await Promise.all([makeBundleKit(), labRef.lab.addSshHost({ login: 'root-key' })]);
  bundle = await buildRealNodeBundle(kit, 'install-cli');
  const base = path.join(dir.path, 'host');
  fs.writeFileSync(
    installFile,
    [
      'name: cli-lab',
      `bundle: ${bundle.file}`,
      'environment: development',
      'hosts:',
      '  - name: cli-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify({ root_dir: installRoot, config_dir: path.join(base, 'etc'), state_dir: path.join(base, 'state'), log_dir: path.join(base, 'log') })} } }`,
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  if (host) await stopInstalledRuntime(labRef.lab, host, installRoot).catch(() => undefined);
  kit?.remove();
  dir.remove();
}, 120_000);

describe('sutazai plan and apply', () => {
  it('plans, applies with a line per host and step, and applies again without changing anything', async () => {
    expect((await sutazai(['bundle', 'import', bundle.file, '--trust-key', kit.key.fingerprint])).code).toBe(0);
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

    const missing = await sutazai(['plan']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--install FILE');

    const plan = await sutazai(['plan', '--install', installFile]);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^cli-host {2}both {2}system-wide under .*\/opt, detached mode$/m);
    expect(plan.stdout).toMatch(/^ {2}upload {7}todo {5}uploads /m);
    expect(plan.stdout).toContain('Nothing has been changed');
    expect(fs.existsSync(installRoot)).toBe(false);

    const apply = await sutazai(['apply', '--install', installFile, '--concurrency', '2']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    for (const step of ['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record']) {
      expect(apply.stdout).toMatch(new RegExp(`^cli-host {2}${step} +done {2}`, 'm'));
    }
    expect(apply.stdout).toMatch(/^cli-host {2}upload {7}100% {9}/m);
    expect(apply.stdout).toMatch(/^cli-host {2}health +done +core running 1\/1, agent running 1\/1$/m);
    expect(apply.stdout).toContain(`cli-host: ${bundle.manifest.name}@${bundle.manifest.version} installed and healthy`);

    const again = await sutazai(['apply', '--install', installFile]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^cli-host {2}upload +already-done {2}/m);
    expect(again.stdout).toContain('Nothing changed: every step of every host was already done.');

    const json = await sutazai(['plan', '--install', installFile, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ install: 'cli-lab', upToDate: true });
  }, 300_000);
});

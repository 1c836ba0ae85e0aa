import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOffsetOf, flipByte } from '../../support/bundle-kit';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir('sutazai-bundle-cli-');
const key = path.join(dir.path, 'keys', 'release.pem');
const bundle = path.join(dir.path, 'out', 'sutazai.sutazai-bundle');
let fingerprint = '';

function sutazai(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
    cwd: dir.path,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, SUTAZAI_DATA_DIR: path.join(dir.path, 'data') },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  // Build the CLI once up front so each case measures the command, not the bundler.
  expect(sutazai('help').code).toBe(0);
});
afterAll(() => dir.remove());

describe('sutazai bundle', () => {
  it('keygen writes a 0600 Ed25519 key, prints its fingerprint, and never overwrites one', () => {
    const made = sutazai('bundle', 'keygen', key, '--json');
    expect(made.code).toBe(0);
    fingerprint = (JSON.parse(made.stdout) as { fingerprint: string }).fingerprint;
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const again = sutazai('bundle', 'keygen', key);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('SIGNING_KEY_INVALID');
    expect(again.stderr).toContain('never overwritten');
  });

  it('builds from the checkout with the running Node; GNU tar unpacks it and the bundled Node runs the runtime', () => {
    const built = sutazai('bundle', 'build', '--key', key, '--out', bundle);
    expect(built.code, built.stderr).toBe(0);
    // Progress per step on stderr, the result on stdout.
    expect(built.stderr).toContain('building the runtime');
    expect(built.stderr).toContain('building the reference programs');
    expect(built.stderr).toContain(`node linux-x64: ${process.execPath}`);
    expect(built.stderr).toMatch(/adding node\/linux-x64\/node \(\d+\.\d MiB\)/);
    expect(built.stdout).toContain(`signed by ${fingerprint}`);

    const unpacked = path.join(dir.path, 'unpacked');
    fs.mkdirSync(unpacked);
    const extract = run('tar', ['-xf', bundle, '-C', unpacked], dir.path);
    expect(extract.stderr).toBe('');
    expect(extract.code).toBe(0);
    // Checkable with nothing but coreutils.
    const sums = run('sha256sum', ['--strict', '-c', 'checksums.sha256'], unpacked);
    expect(sums.code, sums.stdout + sums.stderr).toBe(0);
    expect(sums.stdout).toContain('node/linux-x64/node: OK');

    const node = path.join(unpacked, 'node/linux-x64/node');
    expect(fs.statSync(node).mode & 0o777).toBe(0o755);
    expect(run(node, ['--version'], unpacked).stdout.trim()).toBe(process.version);
    const help = run(node, ['runtime/sutazai-runtime.cjs', '--help'], unpacked);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^sutazai-runtime \d+\.\d+\.\d+: supervises the SutazAI core and agents/);
    // The native log collector for this machine, executable as unpacked (the daemon runs it beside itself).
    const collector = path.join(unpacked, `runtime/sutazai-log-collector-${process.arch}`);
    expect(fs.statSync(collector).mode & 0o777).toBe(0o755);
    expect(sums.stdout).toContain(`runtime/sutazai-log-collector-${process.arch}: OK`);
    for (const file of [
      'runtime/core.cjs',
      'runtime/agent.cjs',
      'runtime/proto/sutazai/runtime/v1/runtime.proto',
      'config/profiles/core.yaml',
      'manifests/default.yaml',
      'systemd/sutazai-runtime.service',
    ]) {
      expect(fs.existsSync(path.join(unpacked, file)), file).toBe(true);
    }
  });

  it('verify refuses a signer not trusted yet (exit 11, with its fingerprint); import --trust-key keeps it; list shows it', () => {
    const unknown = sutazai('bundle', 'verify', bundle);
    expect(unknown.code).toBe(11);
    expect(unknown.stderr).toContain('error BUNDLE_KEY_UNKNOWN');
    expect(unknown.stderr).toContain(`--trust-key ${fingerprint}`);

    const confirmedOnce = sutazai('bundle', 'verify', bundle, '--trust-key', fingerprint);
    expect(confirmedOnce.code).toBe(0);
    expect(confirmedOnce.stdout).toContain('not stored as trusted');

    const imported = sutazai('bundle', 'import', bundle, '--trust-key', fingerprint, '--json');
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      alreadyImported: false,
      keyTrusted: true,
      bundle: { id: 1, signer: { fingerprint, label: 'release' } },
    });

    const again = sutazai('bundle', 'import', bundle);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('was imported already (id 1); nothing changed');

    const list = sutazai('bundle', 'list', '--json');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: number }>).map((b) => b.id)).toEqual([1]);
    expect(sutazai('bundle', 'keys').stdout).toContain(fingerprint);
    expect(sutazai('bundle', 'verify', bundle).code).toBe(0);
  });

  it('a flipped byte is refused with exit 11 and a structured error', async () => {
    const tampered = path.join(dir.path, 'tampered.sutazai-bundle');
    fs.copyFileSync(bundle, tampered);
    const { offset } = await dataOffsetOf(tampered, 'runtime/sutazai-runtime.cjs');
    flipByte(tampered, offset + 1000);
    const refused = sutazai('bundle', 'import', tampered, '--json');
    expect(refused.code).toBe(11);
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      code: 'BUNDLE_CHECKSUM_MISMATCH',
      message: expect.stringContaining('runtime/sutazai-runtime.cjs'),
    });
  });

  it('refuses an x64 Node binary given as the arm64 one, before building anything', () => {
    const wrong = sutazai(
      'bundle',
      'build',
      '--key',
      key,
      '--out',
      path.join(dir.path, 'never.sutazai-bundle'),
      '--node-arm64',
      process.execPath,
      '--runtime-dir',
      path.join(dir.path, 'nowhere'),
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/given for linux-arm64 .* is built for linux-x64/);
    expect(fs.existsSync(path.join(dir.path, 'never.sutazai-bundle'))).toBe(false);
  });

  it('documents the commands and exit code 11 in help', () => {
    const help = sutazai('help');
    expect(help.stdout).toContain('bundle import <file> [--trust-key SHA256:...]');
    expect(help.stdout).toContain('11 bundle refused');
  });
});

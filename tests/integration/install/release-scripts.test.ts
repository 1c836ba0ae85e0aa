// The scripts that change a host, run by this machine's own sh, tar and sha256sum against a
// real bundle (no SSH: the scripts are the text a host gets): unpack never leaves a half
// release, configure writes keys 0600, switch replaces `current` in one rename.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { configureReleaseScript } from '../../../electron/backend/install/steps/configure-release';
import { installLayout, type InstallLayout } from '../../../electron/backend/install/definition/install-layout';
import { keyedScript, readRecords } from '../../../electron/backend/install/remote/script-prelude';
import type { ShellScript } from '../../../electron/backend/install/remote/shell-script';
import { switchCurrentScript } from '../../../electron/backend/install/steps/switch-current';
import { unpackReleaseScript } from '../../../electron/backend/install/steps/unpack-release';
import { dataOffsetOf, flipByte, makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-release-scripts-');
let kit: BundleKit;
let bundle: BuiltBundle;

beforeAll(async () => {
  kit = await makeBundleKit();
  bundle = await kit.build('scripts', { controlCenterRange: '*' });
}, 120_000);

afterAll(() => {
  kit?.remove();
  tmp.remove();
});

function layoutIn(name: string): InstallLayout {
  const dir = path.join(tmp.path, name);
  const text = `install: ${JSON.stringify({ root_dir: path.join(dir, 'opt'), config_dir: path.join(dir, 'etc'), state_dir: path.join(dir, 'state'), log_dir: path.join(dir, 'log') })}\n`;
  return installLayout(loadInstallConfig({ install: [{ name: 'i.yaml', text }] }).config, 'system', '/root');
}

/** Runs a changing script here as a host would (with its record key): its exit, output without records, and what it reported making. */
function sh(script: ShellScript) {
  const keyed = keyedScript(script);
  const result = spawnSync('sh', ['-c', keyed.script.text], { encoding: 'utf8', timeout: 60_000 });
  const records = readRecords(result.stdout, keyed.key);
  return { code: result.status, stdout: records.stdout, stderr: result.stderr, created: records.created };
}

function stage(layout: InstallLayout, source = bundle.file): string {
  fs.mkdirSync(layout.staging, { recursive: true });
  const staged = path.join(layout.staging, 'sutazai.sutazai-bundle');
  fs.copyFileSync(source, staged);
  return staged;
}

describe('unpacking a release', () => {
  it('puts the complete, checked release in place, links its Node binary and removes the upload', () => {
    const layout = layoutIn('unpack');
    const release = layout.release('0.1.0');
    const staged = stage(layout);
    // What an unpack cut off earlier left behind.
    fs.mkdirSync(path.join(layout.releases, '.unpack-0.1.0-12345', 'runtime'), { recursive: true });
    const run = sh(unpackReleaseScript({ layout, release, stagedBundle: staged, bundleSha256: bundle.sha256, arch: 'linux-x64' }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(fs.readdirSync(layout.releases)).toEqual(['0.1.0']);
    expect(fs.readFileSync(release.marker, 'utf8').trim()).toBe(bundle.sha256);
    expect(fs.readlinkSync(release.node)).toBe('../node/linux-x64/node');
    expect(fs.statSync(release.node).size).toBe(fs.statSync(kit.fakeNode('linux-x64')).size);
    expect(fs.existsSync(release.daemon)).toBe(true);
    expect(fs.existsSync(staged)).toBe(false);
    // releases/ was there already (holding the leftover): only the new release is recorded.
    expect(run.created).toEqual([release.dir]);

    const again = sh(unpackReleaseScript({ layout, release, stagedBundle: staged, bundleSha256: bundle.sha256, arch: 'linux-x64' }));
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('already unpacked') });
  });

  it('refuses a bundle whose files do not match its checksums, leaving no release directory behind', async () => {
    const layout = layoutIn('damaged');
    const release = layout.release('0.1.0');
    const damaged = path.join(tmp.path, 'damaged.sutazai-bundle');
    fs.copyFileSync(bundle.file, damaged);
    const { offset } = await dataOffsetOf(damaged, 'runtime/core.cjs');
    flipByte(damaged, offset + 10);
    const run = sh(
      unpackReleaseScript({ layout, release, stagedBundle: stage(layout, damaged), bundleSha256: bundle.sha256, arch: 'linux-x64' }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('runtime/core.cjs: FAILED');
    expect(run.stderr).toContain('the unpacked files do not match checksums.sha256');
    expect(fs.readdirSync(layout.releases)).toEqual([]);
  });

  it('refuses an architecture the bundle has no Node binary for', () => {
    const layout = layoutIn('arm');
    const run = sh(
      unpackReleaseScript({
        layout,
        release: layout.release('0.1.0'),
        stagedBundle: stage(layout),
        bundleSha256: bundle.sha256,
        arch: 'linux-arm64',
      }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no Node binary for linux-arm64');
    expect(fs.readdirSync(layout.releases)).toEqual([]);
  });
});

describe('configuring a release', () => {
  it('writes the files with the key 0600 in a 0700 tls/, links the documented config path, and removes the staged copies', () => {
    const layout = layoutIn('configure');
    const release = layout.release('0.1.0');
    expect(
      sh(unpackReleaseScript({ layout, release, stagedBundle: stage(layout), bundleSha256: bundle.sha256, arch: 'linux-x64' })).code,
    ).toBe(0);
    const staged = path.join(layout.staging, 'config-1');
    fs.mkdirSync(staged, { mode: 0o700 });
    for (const [name, content] of Object.entries({
      'runtime.yaml': 'r',
      'manifest.yaml': 'm',
      'ca.pem': 'ca',
      'runtime.pem': 'cert',
      'runtime.key': 'KEY',
      digest: 'd\n',
    })) {
      fs.writeFileSync(path.join(staged, name), content, { mode: 0o600 });
    }
    const run = sh(configureReleaseScript(layout, release, staged));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const mode = (file: string) => fs.statSync(file).mode & 0o777;
    expect([mode(release.serverKey), mode(release.tlsDir), mode(release.serverCert), mode(release.runtimeConfig)]).toEqual([
      0o600, 0o700, 0o644, 0o644,
    ]);
    expect(fs.readFileSync(release.serverKey, 'utf8')).toBe('KEY');
    expect(fs.readFileSync(release.configDigest, 'utf8')).toBe('d\n');
    expect(fs.readlinkSync(layout.configLink)).toBe(`${layout.current}/etc/runtime.yaml`);
    expect(fs.existsSync(staged)).toBe(false);
    expect(run.created).toEqual([layout.configDir, layout.stateDir, layout.logDir, layout.configLink]);
    expect(fs.readdirSync(release.dir).filter((n) => n.startsWith('.etc-'))).toEqual([]);
  });
});

describe('switching current', () => {
  it('points current at the release in one rename, and refuses a current that is not a link', () => {
    const layout = layoutIn('switch');
    fs.mkdirSync(path.join(layout.releases, '0.1.0'), { recursive: true });
    fs.mkdirSync(path.join(layout.releases, '0.2.0'), { recursive: true });
    const first = sh(switchCurrentScript(layout, '0.1.0'));
    expect(first.code).toBe(0);
    expect(first.created).toEqual([layout.current]);
    expect(fs.readlinkSync(layout.current)).toBe('releases/0.1.0');
    const inode = fs.lstatSync(layout.current).ino;
    const second = sh(switchCurrentScript(layout, '0.2.0'));
    expect(second.code).toBe(0);
    expect(second.created).toEqual([]);
    expect(fs.readlinkSync(layout.current)).toBe('releases/0.2.0');
    // A new link renamed over the old one, never the old one edited or removed first.
    expect(fs.lstatSync(layout.current).ino).not.toBe(inode);
    expect(fs.readdirSync(layout.root).filter((n) => n.startsWith('.current-'))).toEqual([]);
    expect(sh(switchCurrentScript(layout, '0.2.0'))).toMatchObject({ code: 0, stdout: expect.stringContaining('already points') });
    expect(sh(switchCurrentScript(layout, '0.3.0'))).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('release 0.3.0 is not unpacked'),
    });

    fs.rmSync(layout.current);
    fs.mkdirSync(layout.current);
    expect(sh(switchCurrentScript(layout, '0.1.0'))).toMatchObject({ code: 1, stderr: expect.stringContaining('is not a link') });
  });
});

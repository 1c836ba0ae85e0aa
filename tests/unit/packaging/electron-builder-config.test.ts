import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGED_PATHS } from '../../../electron/backend/app/packaged-resources';
// @ts-expect-error: a plain .mjs script without type declarations
import { DEFAULT_BUNDLE_DIR, packageSteps as packageStepsUntyped, RUNTIME_DIR } from '../../../scripts/package.mjs';
import { assemblePackagedApp, stageProject, type PackagedApp } from '../../support/packaged-app';
import { makeTempDir } from '../../support/temp-dir';

// Parses electron-builder.yml and validates it with electron-builder's own schema check
// (the one `npm run package` runs first), then pins the security-relevant settings.
const root = path.resolve(import.meta.dirname, '../../..');
const packageSteps = packageStepsUntyped as (options: { version: string; releaseKey: string | undefined }) => Array<[string, string[]]>;
const require = createRequire(import.meta.url);

// app-builder-lib and builder-util come with electron-builder; neither ships types we depend on.
const yaml = require('yaml') as { parse(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

type Config = Record<string, unknown> & {
  electronFuses: Record<string, boolean>;
  asarUnpack: string[];
  files: string[];
  extraResources: Array<{ from: string; to: string; filter?: string[] }>;
  linux: { target: string[]; category: string; maintainer: string };
  win: { target: string[] };
  mac: { target: string[] };
  directories: { output: string };
};

let config: Config;
beforeAll(() => {
  config = yaml.parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Config;
});

describe('electron-builder.yml', () => {
  // Compiling electron-builder's schema takes seconds of CPU: on a busy machine, more than the default 10 s.
  it("passes electron-builder's configuration schema", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  }, 60_000);

  it('the schema check itself refuses a misspelt fuse', async () => {
    const broken = { ...config, electronFuses: { ...config.electronFuses, runAsNodeTypo: false } };
    await expect(validateConfiguration(broken, new DebugLogger(false))).rejects.toThrow(/electronFuses/);
  }, 60_000);

  it('sets every fuse that closes a way around the app', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packs the app into asar and unpacks native modules, rebuilt for Electron', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['**/node_modules/better-sqlite3/**', '**/*.node']));
    expect(config.npmRebuild).toBe(true);
  });

  it('publishes nowhere and looks for no updates', () => {
    expect(config.publish).toBeNull();
    expect(config.detectUpdateChannel).toBe(false);
    expect(config.generateUpdatesFilesForAllChannels).toBe(false);
    expect(JSON.stringify(config)).not.toMatch(/electron-updater|autoUpdate|https?:\/\//);
  });

  it('ships the built app folder by folder, without source maps, and beside it resources/, config/, the runtime and the default bundle', () => {
    expect(config.files).toEqual([
      'dist/main/**/*',
      'dist/preload/**/*',
      'dist/backend/**/*',
      'dist/renderer/**/*',
      '!dist/**/*.map',
      'package.json',
    ]);
    expect(config.extraResources).toEqual([
      { from: 'resources', to: 'resources' },
      { from: 'config', to: 'config' },
      { from: 'dist/runtime', to: 'resources/runtime', filter: ['sutazai-runtime.cjs', 'proto/**/*'] },
      { from: 'dist/default-bundle', to: 'resources/bundles', filter: ['*.sutazai-bundle'] },
    ]);
    expect(config.directories.output).toBe('release');
  });

  it('puts each resource where the packaged backend looks for it', () => {
    const shipped = config.extraResources.map((r) => r.to);
    for (const part of Object.values(PACKAGED_PATHS)) expect(shipped.some((to) => part === to || part.startsWith(`${to}/`))).toBe(true);
    expect(PACKAGED_PATHS.protoDir).toBe(path.join('resources', 'runtime', 'proto'));
    expect(PACKAGED_PATHS.bundlesDir).toBe(path.join('resources', 'bundles'));
  });

  it('is fed by npm run package: every extraResources folder is checked in or built by scripts/package.mjs', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.package).toBe('node scripts/package.mjs');
    const built = [RUNTIME_DIR, DEFAULT_BUNDLE_DIR];
    for (const { from } of config.extraResources) expect(existsSync(path.join(root, from)) || built.includes(from)).toBe(true);
    const steps = packageSteps({ version: '0.1.0', releaseKey: undefined });
    expect(steps.map(([what]) => what)).toEqual(['the runtime', 'the reference programs', 'the default release bundle']);
    const bundleArgs = steps[2]![1];
    expect(bundleArgs).toEqual(expect.arrayContaining(['--runtime-dir', path.join(root, RUNTIME_DIR)]));
    expect(bundleArgs).toContain(path.join(root, DEFAULT_BUNDLE_DIR, 'sutazai-0.1.0.sutazai-bundle'));
    expect(bundleArgs).not.toContain('--key');
    expect(packageSteps({ version: '0.1.0', releaseKey: '/keys/release.pem' })[2]![1]).toEqual(
      expect.arrayContaining(['--key', '/keys/release.pem']),
    );
  });

  describe("electron-builder's own file matching over a dist/ with everything npm run bundle and build:runtime leave there", () => {
    const dir = makeTempDir('sutazai-packaging-unit-');
    let packaged: PackagedApp;
    const put = (file: string, bytes = 16) => {
      mkdirSync(path.dirname(path.join(dir.path, 'project', file)), { recursive: true });
      writeFileSync(path.join(dir.path, 'project', file), Buffer.alloc(bytes));
    };
    beforeAll(async () => {
      const stage = stageProject(root, path.join(dir.path, 'project'));
      for (const file of ['main/main.cjs', 'main/main.cjs.map', 'preload/preload.cjs', 'backend/web.cjs', 'backend/web.cjs.map'])
        put(`dist/${file}`);
      for (const file of ['renderer/index.html', 'renderer/app.js', 'runtime/sutazai-runtime.cjs', 'runtime/core.cjs', 'runtime/agent.cjs'])
        put(`dist/${file}`);
      put('dist/runtime/proto/sutazai/runtime/v1/runtime.proto');
      put('dist/default-bundle/sutazai-0.1.0.sutazai-bundle');
      put('dist/bundles/sutazai-0.1.0.sutazai-bundle', 4 * 1024 * 1024);
      put('dist/bundles/sutazai-0.1.0.tar.gz');
      packaged = await assemblePackagedApp(stage, path.join(dir.path, 'package'));
    });
    afterAll(() => dir.remove());

    it('takes the app without maps, runtime or bundles', () => {
      expect(packaged.appFiles).toEqual([
        'dist/backend/web.cjs',
        'dist/main/main.cjs',
        'dist/preload/preload.cjs',
        'dist/renderer/app.js',
        'dist/renderer/index.html',
        'package.json',
      ]);
    });

    it('ships the runtime daemon and its protos, the default bundle and nothing of dist/bundles', () => {
      const fromDist = packaged.resourceFiles.filter((f) => f.startsWith('resources/runtime') || f.startsWith('resources/bundles'));
      expect(fromDist).toEqual([
        'resources/bundles/sutazai-0.1.0.sutazai-bundle',
        'resources/runtime/proto/sutazai/runtime/v1/runtime.proto',
        'resources/runtime/sutazai-runtime.cjs',
      ]);
      expect(packaged.resourceFiles).toEqual(expect.arrayContaining(['resources/probe/probe.sh', 'config/defaults.yaml']));
      expect(packaged.resourceFiles.filter((f) => /\.tar|\.map$/.test(f))).toEqual([]);
    });

    it('would have swept dist/bundles into app.asar with the old dist/**/* pattern', async () => {
      const old = { ...config, files: ['dist/**/*', '!dist/**/*.map', 'package.json'] };
      const swept = await assemblePackagedApp(path.join(dir.path, 'project'), path.join(dir.path, 'old-package'), old);
      expect(swept.appFiles).toEqual(
        expect.arrayContaining(['dist/bundles/sutazai-0.1.0.sutazai-bundle', 'dist/bundles/sutazai-0.1.0.tar.gz']),
      );
    });
  });
  it('builds AppImage and deb, NSIS and dmg with the checked-in icon', () => {
    expect(config.appId).toBe('ai.sutazai.controlcenter');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('System');
    expect(config.linux.maintainer).toMatch(/<.+@.+>/);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.icon).toBe('resources/icons/icon.png');
    const png = readFileSync(path.join(root, String(config.icon)));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });
});

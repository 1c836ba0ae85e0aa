import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// Parses electron-builder.yml and validates it with electron-builder's own schema check
// (the one `npm run package` runs first), then pins the security-relevant settings.
const root = path.resolve(import.meta.dirname, '../../..');
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
  extraResources: Array<{ from: string; to: string }>;
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
  it("passes electron-builder's configuration schema", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('the schema check itself refuses a misspelt fuse', async () => {
    const broken = { ...config, electronFuses: { ...config.electronFuses, runAsNodeTypo: false } };
    await expect(validateConfiguration(broken, new DebugLogger(false))).rejects.toThrow(/electronFuses/);
  });

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

  it('ships the built app without source maps, plus the resources folder', () => {
    expect(config.files).toEqual(['dist/**/*', '!dist/**/*.map', 'package.json']);
    expect(config.extraResources).toEqual([
      { from: 'resources', to: 'resources' },
      { from: 'config', to: 'config' },
    ]);
    expect(config.directories.output).toBe('release');
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

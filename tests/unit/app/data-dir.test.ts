import { describe, expect, it } from 'vitest';
import { defaultDataDir, resolveDataDir } from '../../../electron/shared-node/data-dir';

describe('data directory', () => {
  it('follows each OS convention', () => {
    expect(defaultDataDir({ platform: 'linux', env: {}, homedir: '/home/op' })).toBe('/home/op/.local/share/sutazai-control-center');
    expect(defaultDataDir({ platform: 'linux', env: { XDG_DATA_HOME: '/data' }, homedir: '/home/op' })).toBe(
      '/data/sutazai-control-center',
    );
    expect(defaultDataDir({ platform: 'linux', env: { XDG_DATA_HOME: 'relative' }, homedir: '/home/op' })).toBe(
      '/home/op/.local/share/sutazai-control-center',
    );
    expect(defaultDataDir({ platform: 'darwin', env: {}, homedir: '/Users/op' })).toBe(
      '/Users/op/Library/Application Support/SutazAI Control Center',
    );
    expect(defaultDataDir({ platform: 'win32', env: { APPDATA: 'C:\\Users\\op\\AppData\\Roaming' }, homedir: 'C:\\Users\\op' })).toBe(
      'C:\\Users\\op\\AppData\\Roaming\\SutazAI Control Center',
    );
  });

  it('lets --data-dir beat SUTAZAI_DATA_DIR beat the default', () => {
    const environment = { platform: 'linux' as const, env: { SUTAZAI_DATA_DIR: '/env/dir' }, homedir: '/home/op' };
    expect(resolveDataDir('/flag/dir', environment)).toBe('/flag/dir');
    expect(resolveDataDir(undefined, environment)).toBe('/env/dir');
    expect(resolveDataDir(undefined, { ...environment, env: {} })).toBe('/home/op/.local/share/sutazai-control-center');
  });
});

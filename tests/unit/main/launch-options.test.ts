import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendArgs, backendLogDir, parseLaunchOptions } from '../../../electron/main/launch-options';

describe('launch options', () => {
  it('defaults to the userData folder (null) and info', () => {
    expect(parseLaunchOptions(['.'], {})).toEqual({ dataDir: null, logLevel: 'info', warnings: [] });
  });

  it('reads --data-dir and --log-level in both spellings', () => {
    expect(parseLaunchOptions(['.', '--data-dir', '/srv/sutazai', '--log-level', 'debug'], {})).toMatchObject({
      dataDir: path.resolve('/srv/sutazai'),
      logLevel: 'debug',
    });
    expect(parseLaunchOptions(['--data-dir=/srv/other', '--log-level=warn'], {})).toMatchObject({
      dataDir: path.resolve('/srv/other'),
      logLevel: 'warn',
    });
  });

  it('resolves a relative data folder against the working directory', () => {
    expect(parseLaunchOptions(['--data-dir', 'data'], {}).dataDir).toBe(path.resolve('data'));
  });

  it('falls back to SUTAZAI_DATA_DIR and SUTAZAI_LOG_LEVEL, and the command line wins', () => {
    const env = { SUTAZAI_DATA_DIR: '/var/lib/sutazai', SUTAZAI_LOG_LEVEL: 'error' };
    expect(parseLaunchOptions([], env)).toMatchObject({ dataDir: path.resolve('/var/lib/sutazai'), logLevel: 'error' });
    expect(parseLaunchOptions(['--data-dir', '/tmp/x', '--log-level', 'trace'], env)).toMatchObject({
      dataDir: path.resolve('/tmp/x'),
      logLevel: 'trace',
    });
    expect(parseLaunchOptions([], { SUTAZAI_DATA_DIR: '  ' }).dataDir).toBeNull();
  });

  it('warns about an unknown level or a missing folder and starts with defaults', () => {
    const unknown = parseLaunchOptions(['--log-level', 'verbose'], {});
    expect(unknown.logLevel).toBe('info');
    expect(unknown.warnings).toEqual([expect.stringContaining('unknown log level "verbose"')]);
    const missing = parseLaunchOptions(['--data-dir', '--log-level', 'warn'], {});
    expect(missing).toMatchObject({ dataDir: null, logLevel: 'warn' });
    expect(missing.warnings).toEqual([expect.stringContaining('--data-dir needs a folder')]);
  });

  it('starts the backend in desktop mode with the folder and level', () => {
    expect(backendArgs('/srv/sutazai', 'debug')).toEqual(['--data-dir', '/srv/sutazai', '--mode', 'desktop', '--log-level', 'debug']);
    expect(backendLogDir('/srv/sutazai')).toBe(path.join('/srv/sutazai', 'logs'));
  });
});

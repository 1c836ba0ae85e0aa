import { describe, expect, it } from 'vitest';
import { envVariableName, envVariablePath, parseEnvLayer } from '../../../electron/backend/config/env-layer';
import { InstallConfigShape } from '../../../electron/backend/config/install-config-schema';

const top = ['environment', 'system_integration', 'install', 'runtime', 'core', 'agents'];

describe('SUTAZAI_* variable names', () => {
  it('nest at a double underscore, keep a single one, and lower-case', () => {
    expect(envVariablePath('SUTAZAI_RUNTIME__GRPC_PORT', top)).toEqual(['runtime', 'grpc_port']);
    expect(envVariablePath('SUTAZAI_SYSTEM_INTEGRATION__SECURITY__ACCESS_CONTROL', top)).toEqual([
      'system_integration',
      'security',
      'access_control',
    ]);
    expect(envVariablePath('SUTAZAI_ENVIRONMENT', top)).toEqual(['environment']);
    expect(envVariableName(['runtime', 'logs', 'keep_files'])).toBe('SUTAZAI_RUNTIME__LOGS__KEEP_FILES');
  });

  it("are not configuration when they are the app's or the programs' own", () => {
    for (const name of ['SUTAZAI_DATA_DIR', 'SUTAZAI_CONFIG_DIR', 'SUTAZAI_PASSPHRASE', 'SUTAZAI_LOG_LEVEL', 'SUTAZAI_CORE_PORT', 'HOME']) {
      expect(envVariablePath(name, top)).toBeUndefined();
    }
  });
});

describe('parseEnvLayer', () => {
  it('names the variable that set each key', () => {
    const layer = parseEnvLayer(
      { SUTAZAI_RUNTIME: '{grpc_port: 1, metrics_port: 2}', SUTAZAI_RUNTIME__GRPC_PORT: '3' },
      InstallConfigShape,
    );
    expect(layer.value).toEqual({ runtime: { grpc_port: 3, metrics_port: 2 } });
    expect(layer.locate(['runtime', 'grpc_port']).file).toBe('SUTAZAI_RUNTIME__GRPC_PORT');
    expect(layer.locate(['runtime', 'metrics_port']).file).toBe('SUTAZAI_RUNTIME');
  });

  it('reads text, numbers, booleans and lists as YAML does', () => {
    const layer = parseEnvLayer(
      {
        SUTAZAI_INSTALL__ROOT_DIR: '/srv/sutazai',
        SUTAZAI_CORE__PORT: '7800',
        SUTAZAI_AGENTS__CAPABILITIES: '[hash]',
        SUTAZAI_SYSTEM_INTEGRATION__VERSION: '"2.0"',
      },
      InstallConfigShape,
    );
    expect(layer.value).toEqual({
      install: { root_dir: '/srv/sutazai' },
      core: { port: 7800 },
      agents: { capabilities: ['hash'] },
      system_integration: { version: '2.0' },
    });
  });

  it('refuses a value YAML cannot read, naming the variable', () => {
    expect(() => parseEnvLayer({ SUTAZAI_AGENTS__CAPABILITIES: '[hash' }, InstallConfigShape)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_ENV_INVALID',
        message: expect.stringMatching(/^SUTAZAI_AGENTS__CAPABILITIES=\[hash is not a value YAML can read/),
      }),
    );
  });

  it('refuses an empty level', () => {
    expect(() => parseEnvLayer({ SUTAZAI_RUNTIME__: '1' }, InstallConfigShape)).toThrow(
      expect.objectContaining({ code: 'CONFIG_ENV_INVALID' }),
    );
  });
});

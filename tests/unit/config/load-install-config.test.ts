import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../electron/backend/config/config-error';
import { loadInstallConfig, type InstallConfigOptions } from '../../../electron/backend/config/load-install-config';
import { makeTempDir } from '../../support/temp-dir';

const configDir = path.resolve(__dirname, '../../../config');
const tmp = makeTempDir('sutazai-config-');
afterAll(() => tmp.remove());

/** Loads over the shipped config/ folder; YAML layers are in-memory texts named like files. */
function load(options: Omit<InstallConfigOptions, 'configDir'> = {}) {
  return loadInstallConfig({ configDir, ...options });
}

/** The ConfigError a load throws (fails the test when it does not throw one). */
function failure(options: Omit<InstallConfigOptions, 'configDir'> & { configDir?: string }): ConfigError {
  try {
    loadInstallConfig({ configDir, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the configuration was accepted');
}

const install = (text: string, name = 'install.yaml') => ({ name, text });

describe('layer order: defaults, environment, install, host, SUTAZAI_* variables', () => {
  it('lets each layer override the ones below it, and keeps what nobody overrode', () => {
    const loaded = load({
      environment: 'development',
      install: [install('install:\n  releases_kept: 4\n  upload_concurrency: 8\nruntime:\n  grpc_port: 7601\n')],
      host: install('install:\n  upload_concurrency: 2\n', 'host-db-1.yaml'),
      env: { SUTAZAI_RUNTIME__GRPC_PORT: '7443' },
    });
    // development.yaml set 1, the install file 4.
    expect(loaded.config.install.releases_kept).toBe(4);
    // The install file said 8, the host override 2.
    expect(loaded.config.install.upload_concurrency).toBe(2);
    // The install file said 7601, the variable 7443 (read as a number, not text).
    expect(loaded.config.runtime.grpc_port).toBe(7443);
    // Only development.yaml touched it.
    expect(loaded.config.install.health_timeout_seconds).toBe(60);
    // Nobody but the defaults.
    expect(loaded.config.runtime.listen_address).toBe('127.0.0.1');
    expect(loaded.layers.map((layer) => layer.kind)).toEqual(['defaults', 'environment', 'install', 'host', 'env']);
  });

  it('records which layer set every key, where, and what it overrode', () => {
    const loaded = load({
      environment: 'development',
      install: [install('# the install\ninstall:\n  releases_kept: 4\n')],
      env: { SUTAZAI_INSTALL__RELEASES_KEPT: '6' },
    });
    const history = loaded.merged.settings.get('install.releases_kept')!;
    expect(history.map((setting) => [setting.origin.layer, setting.value])).toEqual([
      ['defaults', 3],
      ['environment development', 1],
      ['install', 4],
      ['environment variables', 6],
    ]);
    expect(history[0]!.origin).toMatchObject({ file: path.join(configDir, 'defaults.yaml') });
    expect(history[2]!.origin).toMatchObject({ file: 'install.yaml', line: 3, column: 18 });
    expect(history[3]!.origin).toMatchObject({ kind: 'env', file: 'SUTAZAI_INSTALL__RELEASES_KEPT' });
    expect(history[3]!.origin.line).toBeUndefined();
  });

  it('replaces lists whole instead of appending to them', () => {
    const loaded = load({ install: [install('agents:\n  capabilities: [hash]\n')] });
    expect(loaded.config.agents.capabilities).toEqual(['hash']);
  });

  it('applies several install files in the order given', () => {
    const loaded = load({ install: [install('core:\n  port: 7800\n', 'a.yaml'), install('core:\n  port: 7900\n', 'b.yaml')] });
    expect(loaded.config.core.port).toBe(7900);
    expect(loaded.merged.settings.get('core.port')!.at(-1)!.origin.file).toBe('b.yaml');
  });
});

describe('the environment profile', () => {
  it('is production when nothing chooses one', () => {
    const loaded = load();
    expect(loaded.environment).toBe('production');
    expect(loaded.config.install.releases_kept).toBe(5);
  });

  it('is chosen by the install file when --env is not given', () => {
    const loaded = load({ install: [install('environment: staging\n')] });
    expect(loaded.environment).toBe('staging');
    expect(loaded.config.install.releases_kept).toBe(2);
  });

  it('refuses an install file written for another environment than the one asked for', () => {
    const error = failure({ environment: 'development', install: [install('environment: staging\n')] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'install.yaml:1:14: environment: is staging, but the configuration was loaded for development (--env development).',
    );
    expect(error.remedy).toContain('Load it for staging (choose that environment)');
    expect(error.remedy).not.toContain('--env');
    expect(error.cliRemedy).toContain('--env staging');
  });

  it('refuses an unknown profile with the closest one', () => {
    const error = failure({ environment: 'prod' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('did you mean production?');
  });
});

describe('refusals name the file, line, column and key, with a remedy', () => {
  it('a value of the wrong type', () => {
    const error = failure({ install: [install('runtime:\n  grpc_port: "seventy"\n')] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('install.yaml:2:14: runtime.grpc_port: must be a whole number from 1 to 65535, not "seventy".');
    expect(error.remedy).toContain('SUTAZAI_RUNTIME__GRPC_PORT');
    expect(error.origin).toMatchObject({ file: 'install.yaml', line: 2, column: 14 });
    expect(error.key).toBe('runtime.grpc_port');
  });

  it('a value out of range', () => {
    const error = failure({ install: [install('install:\n  releases_kept: 0\n')] });
    expect(error.message).toBe('install.yaml:2:18: install.releases_kept: must be a whole number from 1 to 20, not 0.');
  });

  it('a word that is not one of the allowed ones, with the likely one', () => {
    const error = failure({ install: [install('system_integration:\n  deployment_mode: hybird\n')] });
    expect(error.message).toContain(
      'install.yaml:2:20: system_integration.deployment_mode: must be one of local, on-premise, cloud, hybrid, not "hybird" (did you mean hybrid?)',
    );
  });

  it('an unknown key, pointing at the key, with the close one', () => {
    const error = failure({ install: [install('runtime:\n  grpc_port: 7601\n  metrics_prot: 9000\n')] });
    expect(error.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(error.message).toBe('install.yaml:3:3: runtime.metrics_prot is not a configuration key; did you mean runtime.metrics_port?');
    expect(error.remedy).toContain('Rename metrics_prot to metrics_port');
  });

  it('an unknown key with nothing close', () => {
    const error = failure({ install: [install('database:\n  url: x\n')] });
    expect(error.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(error.message).toBe('install.yaml:1:1: database is not a configuration key.');
  });

  it('a section written as a single value', () => {
    const error = failure({ host: install('runtime: 7600\n', 'host.yaml') });
    expect(error.message).toMatch(/^host\.yaml:1:10: runtime: /);
  });

  it('a YAML syntax error, at its line and column', () => {
    const error = failure({ install: [install('install:\n  root_dir: [/opt\n  releases_kept: 2\n')] });
    expect(error.code).toBe('CONFIG_YAML_INVALID');
    expect(error.message).toMatch(/^install\.yaml:\d+:\d+: /);
    expect(error.origin!.line).toBeGreaterThanOrEqual(2);
    expect(error.remedy).toContain('YAML');
  });

  it('a duplicate key', () => {
    const error = failure({ install: [install('core:\n  port: 7800\n  port: 7900\n')] });
    expect(error.code).toBe('CONFIG_YAML_INVALID');
    expect(error.origin!.line).toBe(3);
  });

  it('a clash found only after merging, at the layer that caused it', () => {
    // metrics_port alone is fine; it clashes with core.port, which the defaults set.
    const error = failure({ host: install('runtime:\n  metrics_port: 7700\n', 'host-db-1.yaml') });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'host-db-1.yaml:2:17: runtime.metrics_port: port 7700 overlaps core.port; each service of a host needs its own port.',
    );
  });

  it('runtime audit caps the control center could not read whole to verify, or a segment past 64 MiB', () => {
    // keep_files 6 (the defaults) and 4 MiB segments: 28 MiB, past the 16 MiB read over SSH.
    const error = failure({ install: [install('runtime:\n  audit:\n    max_file_bytes: 4194304\n')] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('install.yaml:3:21: runtime.audit.max_file_bytes: with keep_files 6 keeps up to 29360128 bytes');
    expect(failure({ install: [install('runtime:\n  audit:\n    max_file_bytes: 67108865\n    keep_files: 0\n')] }).message).toMatch(
      /^install\.yaml:3:21: runtime\.audit\.max_file_bytes: /,
    );
    expect(
      load({ install: [install('runtime:\n  audit:\n    max_file_bytes: 8388608\n    keep_files: 1\n')] }).config.runtime.audit,
    ).toEqual({
      max_file_bytes: 8388608,
      keep_files: 1,
    });
  });

  it('agents whose ports would run past 65535', () => {
    const error = failure({ install: [install('agents:\n  base_port: 65535\n  replicas_per_host: 3\n')] });
    expect(error.message).toContain('install.yaml:2:14: agents.base_port: leaves no room for 3 agent ports');
  });

  it('a key no layer sets, at the layer that wrote its section', () => {
    const dir = path.join(tmp.path, 'gap');
    fs.mkdirSync(path.join(dir, 'environments'), { recursive: true });
    const defaults = fs.readFileSync(path.join(configDir, 'defaults.yaml'), 'utf8').replace(/^ {2}upload_concurrency:.*\n/m, '');
    fs.writeFileSync(path.join(dir, 'defaults.yaml'), defaults);
    fs.writeFileSync(path.join(dir, 'environments', 'production.yaml'), 'environment: production\n');
    const error = failure({ configDir: dir });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/defaults\.yaml:\d+:\d+: install\.upload_concurrency: is missing, and no layer below sets it\.$/);
  });

  it('an install file that cannot be read', () => {
    const error = failure({ install: [{ file: path.join(tmp.path, 'nope.yaml') }] });
    expect(error.code).toBe('CONFIG_LAYER_UNREADABLE');
    expect(error.message).toContain('nope.yaml cannot be read (ENOENT)');
  });

  it('a config folder without the environment profile', () => {
    const dir = path.join(tmp.path, 'no-envs');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(configDir, 'defaults.yaml'), path.join(dir, 'defaults.yaml'));
    const error = failure({ configDir: dir });
    expect(error.code).toBe('CONFIG_LAYER_UNREADABLE');
    expect(error.remedy).toContain('SUTAZAI_CONFIG_DIR');
  });
});

describe('SUTAZAI_* variables', () => {
  it('set nested keys, read as YAML scalars and lists', () => {
    const loaded = load({
      env: {
        SUTAZAI_RUNTIME__LOGS__KEEP_FILES: '9',
        SUTAZAI_RUNTIME__LISTEN_ADDRESS: '10.0.0.5',
        SUTAZAI_AGENTS__CAPABILITIES: '[hash, sleep]',
        SUTAZAI_SYSTEM_INTEGRATION__DEPLOYMENT_MODE: 'local',
      },
    });
    expect(loaded.config.runtime.logs.keep_files).toBe(9);
    expect(loaded.config.runtime.listen_address).toBe('10.0.0.5');
    expect(loaded.config.agents.capabilities).toEqual(['hash', 'sleep']);
    expect(loaded.config.system_integration.deployment_mode).toBe('local');
  });

  it("leave the app's and the programs' own variables alone", () => {
    const loaded = load({
      env: { SUTAZAI_DATA_DIR: '/tmp/x', SUTAZAI_PASSPHRASE: 'secret', SUTAZAI_CORE_PORT: 'not a port', PATH: '/bin' },
    });
    expect(loaded.config.core.port).toBe(7700);
    expect(loaded.layers.map((layer) => layer.kind)).not.toContain('env');
  });

  it('choose the environment with SUTAZAI_ENVIRONMENT', () => {
    expect(load({ env: { SUTAZAI_ENVIRONMENT: 'staging' } }).environment).toBe('staging');
  });

  it('refuse a variable naming no key, naming the variable and the close one', () => {
    const error = failure({ env: { SUTAZAI_RUNTIME__GRPC_PROT: '7443' } });
    expect(error.code).toBe('CONFIG_ENV_INVALID');
    expect(error.message).toBe(
      'SUTAZAI_RUNTIME__GRPC_PROT names no configuration key: "grpc_prot" is not a key of runtime; did you mean SUTAZAI_RUNTIME__GRPC_PORT?',
    );
    expect(error.remedy).toContain('SUTAZAI_RUNTIME__GRPC_PORT');
  });

  it('refuse an unknown section', () => {
    const error = failure({ env: { SUTAZAI_DATABASE__URL: 'x' } });
    expect(error.code).toBe('CONFIG_ENV_INVALID');
    expect(error.message).toContain('"database" is not a configuration section');
  });

  it('refuse a value of the wrong type, naming the variable', () => {
    const error = failure({ env: { SUTAZAI_RUNTIME__GRPC_PORT: 'abc' } });
    expect(error.code).toBe('CONFIG_ENV_INVALID');
    expect(error.message).toBe(
      'environment variable SUTAZAI_RUNTIME__GRPC_PORT: runtime.grpc_port: must be a whole number from 1 to 65535, not "abc".',
    );
    expect(error.remedy).toContain('unset');
  });

  it('refuse going below a single value', () => {
    const error = failure({ env: { SUTAZAI_CORE__PORT__NUMBER: '1' } });
    expect(error.code).toBe('CONFIG_ENV_INVALID');
    expect(error.remedy).toContain('SUTAZAI_CORE__PORT');
  });
});

describe('the shipped configuration', () => {
  it.each(['development', 'staging', 'production'])('is valid for %s', (environment) => {
    expect(load({ environment }).config.environment).toBe(environment);
  });
});

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstallDefinitionSchema } from '../../../electron/contract';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { installFileOf } from '../../../electron/backend/install/definition/install-definition';

const configDir = path.resolve(__dirname, '../../../config');

describe('an install definition (the install file as an API object)', () => {
  it('becomes the engine’s install file: bundle reference, layers in order, hosts with roles and overrides', () => {
    const definition = InstallDefinitionSchema.parse({
      name: 'lab',
      bundle: 'sutazai@0.1.0',
      environment: 'staging',
      config: [{ name: 'install.yaml', text: 'agents:\n  replicas_per_host: 2\n' }, { values: { runtime: { grpc_port: 7601 } } }],
      hosts: [
        { name: 'core-1', role: 'both', config: { values: { install: { root_dir: '/srv/sutazai' } } } },
        { name: 'gpu-1', role: 'agent', gpu: true },
      ],
    });
    const file = installFileOf(definition);
    expect(file).toMatchObject({ name: 'lab', bundle: { name: 'sutazai', version: '0.1.0' }, environment: 'staging' });
    expect(file.hosts.map((h) => [h.name, h.role, h.gpu])).toEqual([
      ['core-1', 'both', undefined],
      ['gpu-1', 'agent', true],
    ]);
    // The layers load as the CLI's would: the later one wins, and the host's override is on top.
    const loaded = loadInstallConfig({ configDir, environment: file.environment, install: file.layers, host: file.hosts[0]!.config! });
    expect(loaded.config.agents.replicas_per_host).toBe(2);
    expect(loaded.config.runtime.grpc_port).toBe(7601);
    expect(loaded.config.install.root_dir).toBe('/srv/sutazai');
    expect(file.text).toContain('name: lab');
  });

  it('takes a bundle given by path, relative to the backend’s working directory', () => {
    const file = installFileOf(
      InstallDefinitionSchema.parse({
        name: 'lab',
        bundle: 'dist/bundles/sutazai-0.1.0.sutazai-bundle',
        hosts: [{ name: 'a', role: 'core' }],
      }),
    );
    expect(file.bundle).toEqual({ path: path.resolve('dist/bundles/sutazai-0.1.0.sutazai-bundle') });
  });

  it('keeps a configuration error at the line and column of the text the operator wrote', () => {
    const file = installFileOf(
      InstallDefinitionSchema.parse({
        name: 'lab',
        bundle: 'sutazai@0.1.0',
        config: [{ name: 'install.yaml', text: 'runtime:\n  grpc_port: seventy\n' }],
        hosts: [{ name: 'a', role: 'core' }],
      }),
    );
    expect(() => loadInstallConfig({ configDir, install: file.layers })).toThrow(/^install\.yaml:2:14: /);
  });

  it.each([
    ['no core', { hosts: [{ name: 'a', role: 'agent' }] }, 'has no core'],
    [
      'a host twice',
      {
        hosts: [
          { name: 'a', role: 'both' },
          { name: 'a', role: 'agent' },
        ],
      },
      'names a again',
    ],
    [
      'two layers of one name',
      {
        config: [
          { name: 'x.yaml', text: '' },
          { name: 'x.yaml', text: '' },
        ],
        hosts: [{ name: 'a', role: 'core' }],
      },
      'two layers are named x.yaml',
    ],
    ['a bad install name', { name: '-lab', hosts: [{ name: 'a', role: 'core' }] }, 'use 1 to 50 letters'],
    ['an unknown key', { hosts: [{ name: 'a', role: 'core' }], extra: 1 }, 'extra'],
  ])('refuses a definition with %s', (_what, change, message) => {
    const parsed = InstallDefinitionSchema.safeParse({ name: 'lab', bundle: 'sutazai@0.1.0', ...change });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(message);
  });
});

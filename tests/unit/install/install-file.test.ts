import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { parseInstallFile } from '../../../electron/backend/install/definition/install-file';

const FILE = '/srv/installs/lab/install.yaml';

const VALID = `name: lab
bundle: sutazai@0.1.0
environment: staging
config:
  - file: site.yaml
  - values:
      agents:
        replicas_per_host: 3
hosts:
  - name: core-1
    role: both
    config: { file: hosts/core-1.yaml }
  - name: gpu-1
    role: agent
    gpu: true
    config:
      values: { runtime: { grpc_port: 7601 } }
`;

function refusal(text: string): ApiError {
  try {
    parseInstallFile(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('the install file was accepted');
}

describe('the install file', () => {
  it('reads the bundle, layers (files relative to it, or values) and hosts with roles', () => {
    const file = parseInstallFile(VALID, FILE);
    expect(file).toMatchObject({ name: 'lab', bundle: { name: 'sutazai', version: '0.1.0' }, environment: 'staging' });
    expect(file.layers[0]).toEqual({ file: '/srv/installs/lab/site.yaml' });
    expect(file.hosts.map((h) => [h.name, h.role, h.gpu])).toEqual([
      ['core-1', 'both', undefined],
      ['gpu-1', 'agent', true],
    ]);
    expect(file.hosts[0]!.config).toEqual({ file: '/srv/installs/lab/hosts/core-1.yaml' });
  });

  it('takes a bundle file path, relative to the install file, where no name@version is given', () => {
    expect(parseInstallFile(VALID.replace('sutazai@0.1.0', '../bundles/sutazai-0.1.0.sutazai-bundle'), FILE).bundle).toEqual({
      path: '/srv/installs/bundles/sutazai-0.1.0.sutazai-bundle',
    });
    expect(parseInstallFile(VALID.replace('sutazai@0.1.0', '/tmp/b.sutazai-bundle'), FILE).bundle).toEqual({
      path: '/tmp/b.sutazai-bundle',
    });
  });

  it('hands inline values to the configuration loader at their own line and column', () => {
    const file = parseInstallFile(VALID.replace('replicas_per_host: 3', 'replicas_per_host: lots'), FILE);
    let caught: unknown;
    try {
      loadInstallConfig({ install: file.layers.slice(1) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((caught as ApiError).message).toContain(`${FILE}:8:28: agents.replicas_per_host: must be a whole number`);

    const merged = loadInstallConfig({ install: parseInstallFile(VALID, FILE).layers.slice(1), host: file.hosts[1]!.config! });
    expect(merged.config.agents.replicas_per_host).toBe(3);
    expect(merged.config.runtime.grpc_port).toBe(7601);
    expect(merged.merged.settings.get('runtime.grpc_port')!.at(-1)!.origin).toMatchObject({ file: FILE, line: 17, column: 39 });
  });

  it('names file, line and column of what is wrong', () => {
    expect(refusal(VALID.replace('role: agent', 'role: worker')).message).toBe(
      `${FILE}:14:11: hosts[1].role: must be core, agent or both, not "worker".`,
    );
    expect(refusal(VALID.replace('    gpu: true', '    gpus: true')).message).toBe(
      `${FILE}:15:5: hosts[1].gpus: is not a key of an install file.`,
    );
    expect(refusal(VALID.replace('name: gpu-1', 'name: core-1')).message).toBe(
      `${FILE}:13:11: hosts[1].name: names core-1 again (already hosts[0]).`,
    );
    expect(refusal(VALID.replace('role: both', 'role: agent')).message).toContain(`${FILE}:10:3: hosts: has no core`);
    expect(refusal(VALID.replace('name: lab', 'name: "lab install"')).message).toContain(`${FILE}:1:7: name: must be 1 to 50 letters`);
    expect(refusal(VALID.replace('  - file: site.yaml', '  - path: site.yaml')).message).toContain(
      `${FILE}:5:5: config[0]: must be { file: PATH } or { values: { ... } }`,
    );
    const syntax = refusal('name: lab\nhosts:\n  - name: a\n   role: both\n');
    expect(syntax.code).toBe('CONFIG_YAML_INVALID');
    expect(syntax.message).toContain(`${FILE}:4:`);
  });

  it('is an install file error for the CLI (usage, exit 2)', () => {
    expect(refusal('name: lab\nbundle: x@1.0.0\nhosts: []\n')).toMatchObject({
      code: 'INSTALL_FILE_INVALID',
      remedy: expect.stringContaining('Installing'),
    });
    expect(path.isAbsolute(parseInstallFile(VALID, FILE).file)).toBe(true);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir('sutazai-config-cli-');
const dataDir = path.join(dir.path, 'data');
const fixtures = path.join(root, 'tests/fixtures/config');

function sutazai(args: string[], env: Record<string, string> = {}) {
  return runSutazai(args, dataDir, env);
}

function write(name: string, text: string): string {
  const file = path.join(dir.path, name);
  fs.writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  // Build once up front so each case measures the command, not the bundler.
  expect(sutazai(['help']).code).toBe(0);
});
afterAll(() => dir.remove());

describe('sutazai config', () => {
  it('checks the layers and lists them, without touching the data directory', () => {
    const installFile = write('install.yaml', 'install:\n  releases_kept: 4\n');
    const hostFile = write('host.yaml', 'runtime:\n  listen_address: 10.0.0.5\n');
    const { code, stdout, stderr } = sutazai(
      ['config', 'check', '--env', 'staging', '--file', installFile, '--host-file', hostFile, '--json'],
      { SUTAZAI_CORE__PORT: '7800' },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.valid).toBe(true);
    expect(result.environment).toBe('staging');
    expect(result.layers.map((layer: { kind: string }) => layer.kind)).toEqual(['defaults', 'environment', 'install', 'host', 'env']);
    expect(result.config.install.releases_kept).toBe(4);
    expect(result.config.runtime.listen_address).toBe('10.0.0.5');
    expect(result.config.core.port).toBe(7800);
    // No database was opened (or created) for this.
    expect(fs.existsSync(dataDir)).toBe(false);

    const text = sutazai(['config', 'check', '--file', installFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('configuration valid (environment production)');
    expect(text.stdout).toContain(installFile);
  });

  it('shows the merged value of a key and the layer that set it', () => {
    const installFile = write('grpc.yaml', '# moved off the default\nruntime:\n  grpc_port: 7601\n');
    const text = sutazai(['config', 'show', '--file', installFile, '--key', 'runtime.grpc_port'], { SUTAZAI_RUNTIME__GRPC_PORT: '7443' });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('runtime.grpc_port = 7443\nset by environment variable SUTAZAI_RUNTIME__GRPC_PORT');
    expect(text.stdout).toContain(`overrides 7601 from ${installFile}:3:14 (install)`);
    expect(text.stdout).toMatch(/overrides 7600 from .*config\/defaults\.yaml:\d+:\d+ \(defaults\)/);

    const json = JSON.parse(sutazai(['config', 'show', '--file', installFile, '--key', 'runtime.grpc_port', '--json']).stdout);
    expect(json.value).toBe(7601);
    expect(json.settings[0].setBy).toMatchObject({ layer: 'install', file: installFile, line: 3, column: 14 });
  });

  it('diffs two install files key by key', () => {
    const v1 = write('v1.yaml', 'core:\n  port: 7700\n');
    const v2 = write('v2.yaml', 'core:\n  port: 7800\nagents:\n  replicas_per_host: 4\n');
    const json = sutazai(['config', 'diff', v1, v2, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).changes).toEqual([
      { path: 'agents.replicas_per_host', kind: 'changed', before: 2, after: 4 },
      { path: 'core.port', kind: 'changed', before: 7700, after: 7800 },
    ]);
    expect(sutazai(['config', 'diff', v1, v2]).stdout).toContain('~ core.port: 7700 -> 7800');
    expect(sutazai(['config', 'diff', v1]).code).toBe(2);
  });

  it("refuses the guide's sample as printed, with file:line:column inside its lines 4 to 7, and once repaired for its values without effect", () => {
    const printed = path.join(fixtures, 'seed-system-integration.yaml');
    const broken = sutazai(['config', 'check', '--file', printed, '--json']);
    expect(broken.code).toBe(2);
    const error = JSON.parse(broken.stdout).error;
    expect(error.code).toBe('CONFIG_YAML_INVALID');
    const [, file, line, column] = /^(.+):(\d+):(\d+): /.exec(error.message)!;
    expect(file).toBe(printed);
    expect(Number(line)).toBeGreaterThanOrEqual(4);
    expect(Number(line)).toBeLessThanOrEqual(7);
    expect(Number(column)).toBeGreaterThanOrEqual(1);
    expect(error.remedy).not.toBe('');
    expect(broken.stderr).toContain('remedy:');

    // Repaired, it is valid YAML and schema, and refused for what this release does not act on (hybrid, jwt, ...).
    const repaired = path.join(fixtures, 'seed-system-integration-repaired.yaml');
    const unsupported = sutazai(['config', 'check', '--file', repaired]);
    expect(unsupported.code).toBe(2);
    expect(unsupported.stderr).toContain(
      `error CONFIG_UNSUPPORTED: ${repaired}:3:20: system_integration.deployment_mode: "hybrid" is not supported yet`,
    );
    expect(unsupported.stderr).toContain('remedy: Set system_integration.deployment_mode to local or on-premise');
  });

  it('stops on a wrong value, an unknown key or a bad variable with exit code 2 and a remedy', () => {
    const range = sutazai(['config', 'check', '--file', write('range.yaml', 'install:\n  upload_concurrency: 500\n')]);
    expect(range.code).toBe(2);
    expect(range.stderr).toContain('error CONFIG_INVALID: ');
    expect(range.stderr).toContain('range.yaml:2:23: install.upload_concurrency: must be a whole number from 1 to 64, not 500.');
    expect(range.stderr).toContain('remedy: ');

    const unknown = sutazai(['config', 'check', '--file', write('unknown.yaml', 'agents:\n  replica_per_host: 3\n')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('agents.replica_per_host is not a configuration key; did you mean agents.replicas_per_host?');

    const variable = sutazai(['config', 'check'], { SUTAZAI_RUNTIME__GRPC_PROT: '7443' });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain('error CONFIG_ENV_INVALID: SUTAZAI_RUNTIME__GRPC_PROT names no configuration key');

    const badType = sutazai(['config', 'show', '--key', 'runtime'], { SUTAZAI_RUNTIME__METRICS_PORT: 'yes' });
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('environment variable SUTAZAI_RUNTIME__METRICS_PORT: runtime.metrics_port: must be a whole number');

    const missing = sutazai(['config', 'check', '--file', path.join(dir.path, 'absent.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CONFIG_LAYER_UNREADABLE');
  });
});

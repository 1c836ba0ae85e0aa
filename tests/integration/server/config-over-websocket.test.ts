import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { openSocket, wsTransport } from '../../support/ws-peer';

// The layered configuration as the app uses it: texts with names over the real WebSocket,
// against the real backend and the config/ folder the app ships.
const fixtures = path.resolve(__dirname, '../../fixtures/config');
const printed = fs.readFileSync(path.join(fixtures, 'seed-system-integration.yaml'), 'utf8');
const repaired = fs.readFileSync(path.join(fixtures, 'seed-system-integration-repaired.yaml'), 'utf8');
const defaultsFile = path.resolve(__dirname, '../../../config/defaults.yaml');
// The sample with the values this release acts on (it refuses hybrid, jwt, a REST fallback and
// OpenTelemetry: CONFIG_UNSUPPORTED), every key on its line and column as before.
const supported = repaired
  .replace('deployment_mode: hybrid', 'deployment_mode: local')
  .replace('authentication_method: jwt', 'authentication_method: mtls')
  .replace('fallback_protocol: rest', 'fallback_protocol: none')
  .replace('tracing: opentelemetry', 'tracing: none');

let running: RunningBackend;
let client: ApiClient;

beforeAll(async () => {
  running = await startTestBackend({ sampleLocalHost: false, probeAtStart: false });
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
});

afterAll(async () => {
  client?.close();
  await running?.stop();
});

async function failure(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('config.check', () => {
  it('refuses the guide’s sample as printed, at the line and column of its text where security: is missing', async () => {
    const result = await client.call('config.check', { install: [{ name: 'install.yaml', text: printed }] });
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.problem).toMatchObject({
      code: 'CONFIG_YAML_INVALID',
      origin: { layer: 'install', kind: 'install', file: 'install.yaml', line: 4, column: 24 },
    });
    expect(result.problem.message).toMatch(/^install\.yaml:4:24: /);
    expect(result.problem.message).toContain('Line 6 is indented deeper than line 4');
    expect(result.problem.remedy).toContain('key:');
  });

  it('refuses it once security: is restored for its values without effect, and accepts it with supported ones, merged over the defaults and the production profile', async () => {
    const unsupported = await client.call('config.check', { install: [{ name: 'install.yaml', text: repaired }] });
    expect(unsupported).toMatchObject({
      valid: false,
      problem: {
        code: 'CONFIG_UNSUPPORTED',
        key: 'system_integration.deployment_mode',
        origin: { layer: 'install', file: 'install.yaml', line: 3, column: 20 },
      },
    });
    if (unsupported.valid) return;
    expect(unsupported.problem.message).toContain('"hybrid" is not supported yet');
    expect(unsupported.problem.remedy).toContain('Set system_integration.deployment_mode to local or on-premise');

    const result = await client.call('config.check', { install: [{ name: 'install.yaml', text: supported }] });
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    expect(result.environment).toBe('production');
    expect(result.layers.map((layer) => layer.layer)).toEqual(['defaults', 'environment production', 'install']);
    expect(result.layers[0]!.file).toBe(defaultsFile);
    expect(result.config.system_integration).toEqual({
      version: '1.0.0',
      deployment_mode: 'local',
      performance_profile: 'balanced',
      security: { authentication_method: 'mtls', access_control: 'rbac', oauth2: null },
      communication: { primary_protocol: 'grpc', fallback_protocol: 'none' },
      monitoring: { metrics_collection: 'prometheus', tracing: 'none' },
    });
    // Production's own value, from its profile, under the install's text.
    expect(result.config.install).toMatchObject({ releases_kept: 5 });
  });

  it('names the key, its line and a remedy for a value out of range, and blames the host text when it is the culprit', async () => {
    const outOfRange = await client.call('config.check', { install: [{ name: 'v2.yaml', text: 'runtime:\n  grpc_port: 70000\n' }] });
    expect(outOfRange).toMatchObject({
      valid: false,
      problem: { code: 'CONFIG_INVALID', key: 'runtime.grpc_port', origin: { file: 'v2.yaml', line: 2, column: 14 } },
    });
    if (outOfRange.valid) return;
    expect(outOfRange.problem.message).toContain('from 1 to 65535');
    expect(outOfRange.problem.remedy).toContain('v2.yaml');

    const clash = await client.call('config.check', {
      install: [{ name: 'install.yaml', text: repaired }],
      host: { name: 'db-1.yaml', text: 'runtime:\n  metrics_port: 7600\n' },
    });
    expect(clash).toMatchObject({
      valid: false,
      problem: { code: 'CONFIG_INVALID', origin: { kind: 'host', file: 'db-1.yaml', line: 2 } },
    });
  });

  it('loads the environment the operator picks, and refuses one the text contradicts', async () => {
    const staging = await client.call('config.check', {
      environment: 'staging',
      install: [{ name: 'install.yaml', text: 'core:\n  log_level: warn\n' }],
    });
    expect(staging).toMatchObject({ valid: true, environment: 'staging', config: { install: { releases_kept: 2 } } });

    const contradicted = await client.call('config.check', {
      environment: 'staging',
      install: [{ name: 'install.yaml', text: 'environment: development\n' }],
    });
    expect(contradicted).toMatchObject({
      valid: false,
      problem: { code: 'CONFIG_INVALID', key: 'environment', origin: { file: 'install.yaml', line: 1 } },
    });
  });
});

describe('config.explain', () => {
  it('says which layer set a key, where, and the values it overrode', async () => {
    const explained = await client.call('config.explain', {
      install: [{ name: 'install.yaml', text: supported }],
      key: 'system_integration.security.authentication_method',
    });
    expect(explained).toEqual({
      key: 'system_integration.security.authentication_method',
      environment: 'production',
      value: 'mtls',
      settings: [
        {
          key: 'system_integration.security.authentication_method',
          value: 'mtls',
          setBy: { layer: 'install', kind: 'install', file: 'install.yaml', line: 6, column: 28 },
          overridden: [
            {
              value: 'mtls',
              setBy: { layer: 'defaults', kind: 'defaults', file: defaultsFile, line: expect.any(Number), column: expect.any(Number) },
            },
          ],
        },
      ],
    });
  });

  it('explains a whole section key by key, with the host text on top', async () => {
    const explained = await client.call('config.explain', {
      environment: 'staging',
      install: [{ name: 'install.yaml', text: 'install:\n  releases_kept: 4\n' }],
      host: { name: 'db-1.yaml', text: 'install:\n  releases_kept: 7\n' },
      key: 'install',
    });
    expect(explained.environment).toBe('staging');
    expect(explained.value).toMatchObject({ releases_kept: 7, root_dir: '/opt/sutazai' });
    const kept = explained.settings.find((setting) => setting.key === 'install.releases_kept');
    expect(kept?.setBy).toMatchObject({ kind: 'host', file: 'db-1.yaml', line: 2 });
    expect(kept?.overridden.map((o) => [o.value, o.setBy.layer])).toEqual([
      [4, 'install'],
      [2, 'environment staging'],
      [3, 'defaults'],
    ]);
    expect(explained.settings.every((setting) => setting.key.startsWith('install.'))).toBe(true);
  });

  it('refuses an unknown key with the closest one, and an invalid configuration with its own error', async () => {
    const unknown = await failure(
      client.call('config.explain', { install: [{ name: 'install.yaml', text: supported }], key: 'runtime.grpc_prot' }),
    );
    expect(unknown.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(unknown.message).toContain('did you mean runtime.grpc_port?');

    const invalid = await failure(client.call('config.explain', { install: [{ name: 'install.yaml', text: printed }], key: 'runtime' }));
    expect(invalid.code).toBe('CONFIG_YAML_INVALID');
    expect(invalid.message).toMatch(/^install\.yaml:4:24: /);
  });
});

describe('config.diff', () => {
  it('lists what changes from one version to the other, key by key', async () => {
    const after = supported.replace('deployment_mode: local', 'deployment_mode: on-premise') + 'runtime:\n  grpc_port: 7601\n';
    const diff = await client.call('config.diff', {
      before: { name: 'install-v1.yaml', text: supported },
      after: { name: 'install-v2.yaml', text: after },
    });
    expect(diff).toEqual({
      before: { name: 'install-v1.yaml', environment: 'production' },
      after: { name: 'install-v2.yaml', environment: 'production' },
      changes: [
        { path: 'runtime.grpc_port', kind: 'changed', before: 7600, after: 7601 },
        { path: 'system_integration.deployment_mode', kind: 'changed', before: 'local', after: 'on-premise' },
      ],
    });
    const same = await client.call('config.diff', {
      before: { name: 'a.yaml', text: supported },
      after: { name: 'b.yaml', text: `${supported}\n# a comment\n` },
    });
    expect(same.changes).toEqual([]);
  });

  it('names the version that does not load', async () => {
    const error = await failure(
      client.call('config.diff', {
        before: { name: 'install-v1.yaml', text: supported },
        after: { name: 'install-v2.yaml', text: printed },
      }),
    );
    expect(error.code).toBe('CONFIG_YAML_INVALID');
    expect(error.message).toMatch(/^install-v2\.yaml:4:24: /);
  });
});

describe('bad inputs are BAD_PARAMS', () => {
  const text = { name: 'install.yaml', text: repaired };
  it.each([
    ['no install text', 'config.check', { install: [] }, 'install'],
    ['an unknown environment', 'config.check', { environment: 'prod', install: [text] }, 'environment'],
    ['two texts of one name', 'config.check', { install: [text], host: text }, 'two layers are named install.yaml'],
    ['a name of two lines', 'config.check', { install: [{ name: 'a\nb', text: '' }] }, 'one line'],
    ['an extra field', 'config.check', { install: [text], env: { SUTAZAI_X: '1' } }, 'env'],
    ['a key that is not a path', 'config.explain', { install: [text], key: 'runtime..port' }, 'key'],
    ['a diff missing its second text', 'config.diff', { before: text }, 'after'],
    ['a diff of two texts of one name', 'config.diff', { before: text, after: text }, 'two layers are named'],
  ] as const)('%s', async (_what, method, params, mentions) => {
    const error = await failure(client.call(method, params as never));
    expect(error.code).toBe('BAD_PARAMS');
    expect(error.message).toContain(mentions);
  });
});

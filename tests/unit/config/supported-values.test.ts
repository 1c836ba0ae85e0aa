import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../electron/backend/config/config-error';
import { ENVIRONMENTS, InstallConfigShape } from '../../../electron/backend/config/install-config-schema';
import { loadInstallConfig, type InstallConfigOptions } from '../../../electron/backend/config/load-install-config';
import { SUPPORTED_SYSTEM_INTEGRATION } from '../../../electron/backend/config/supported-values';

/**
 * Issue 14, item 7: a `system_integration` value the schema knows but nothing acts on is
 * refused with CONFIG_UNSUPPORTED at the file:line:column (or variable) that set it, saying
 * what is supported; the shipped defaults and every environment profile load.
 */

const configDir = path.resolve(__dirname, '../../../config');

function refusal(options: InstallConfigOptions): ConfigError {
  let caught: unknown;
  try {
    loadInstallConfig({ configDir, ...options });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

/** The values the schema accepts at a dotted key of system_integration. */
function schemaValues(key: string): string[] {
  let shape: unknown = InstallConfigShape;
  for (const step of key.split('.')) shape = (shape as { shape: Record<string, unknown> }).shape[step];
  return [...((shape as { options?: string[] }).options ?? [])];
}

/** `system_integration.security.access_control: abac` as YAML, the value on its last line. */
function yamlSetting(key: string, value: string): string {
  const steps = key.split('.');
  return steps.map((step, depth) => `${'  '.repeat(depth)}${step}:${depth === steps.length - 1 ? ` ${value}` : ''}`).join('\n') + '\n';
}

const OAUTH2_YAML = [
  'system_integration:',
  '  security:',
  '    authentication_method: oauth2',
  '    oauth2:',
  '      issuer: https://sso.example.org/realms/site',
  '      client_id: sutazai',
  '      audience: sutazai-runtimes',
  '      algorithms: [RS256, ES256]',
  '      role_map: {sutazai-admins: admin, sutazai-viewers: viewer}',
  '',
].join('\n');

describe('system_integration values without effect', () => {
  it('loads the shipped defaults and every environment profile', () => {
    for (const environment of ENVIRONMENTS) expect(loadInstallConfig({ configDir, environment }).environment).toBe(environment);
  });

  it('accepts jwt, which the runtimes check (issue 14 item 2), and oauth2 with its provider section; oauth2 without one, or the section without oauth2, refused at the key', () => {
    const text = yamlSetting('system_integration.security.authentication_method', 'jwt');
    const loaded = loadInstallConfig({ configDir, install: [{ name: 'install.yaml', text }] });
    expect(loaded.config.system_integration.security.authentication_method).toBe('jwt');
    expect(loaded.config.system_integration.security.oauth2).toBeNull();

    const withProvider = loadInstallConfig({ configDir, install: [{ name: 'install.yaml', text: OAUTH2_YAML }] });
    expect(withProvider.config.system_integration.security).toMatchObject({
      authentication_method: 'oauth2',
      // What is not written takes its default.
      oauth2: {
        issuer: 'https://sso.example.org/realms/site',
        client_id: 'sutazai',
        audience: 'sutazai-runtimes',
        algorithms: ['RS256', 'ES256'],
        operator_claim: 'preferred_username',
        role_claim: 'groups',
        refresh_seconds: 60,
      },
    });

    const bare = refusal({
      install: [{ name: 'install.yaml', text: 'system_integration:\n  security:\n    authentication_method: oauth2\n' }],
    });
    expect(bare.code).toBe('CONFIG_INVALID');
    expect(bare.message).toContain('system_integration.security.oauth2');
    expect(bare.message).toContain('must name the OpenID Connect provider');

    const idle = refusal({
      install: [{ name: 'install.yaml', text: OAUTH2_YAML.replace('authentication_method: oauth2', 'authentication_method: jwt') }],
    });
    expect(idle.code).toBe('CONFIG_INVALID');
    expect(idle.message).toContain('would have no effect');
  });

  it('refuses an oauth2 section that would weaken checks: plain http beyond loopback, alg none or HMAC, an unknown role', () => {
    for (const [from, to] of [
      ['issuer: https://sso.example.org/realms/site', 'issuer: http://sso.example.org/realms/site'],
      ['algorithms: [RS256, ES256]', 'algorithms: [none]'],
      ['algorithms: [RS256, ES256]', 'algorithms: [HS256]'],
      ['sutazai-admins: admin', 'sutazai-admins: root'],
      ['issuer: https://sso.example.org/realms/site', 'issuer: http://localhost:8080/realms/site'],
    ] as const) {
      const error = refusal({ install: [{ name: 'install.yaml', text: OAUTH2_YAML.replace(from, to) }] });
      expect(error.code, to).toBe('CONFIG_INVALID');
    }
    const onLoopback = OAUTH2_YAML.replace('https://sso.example.org/realms/site', 'http://127.0.0.1:8080/realms/site');
    expect(
      loadInstallConfig({ configDir, install: [{ name: 'install.yaml', text: onLoopback }] }).config.system_integration.security.oauth2
        ?.issuer,
    ).toBe('http://127.0.0.1:8080/realms/site');
  });

  it('refuses an oauth2 section without an audience (the client id is what ID tokens name), saying what to set', () => {
    const error = refusal({ install: [{ name: 'install.yaml', text: OAUTH2_YAML.replace('      audience: sutazai-runtimes\n', '') }] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('system_integration.security.oauth2.audience: is missing');
    expect(error.remedy).toContain('Add system_integration.security.oauth2.audience to install.yaml');
  });

  it('accepts abac, which the control center and the runtimes act on (issue 14 item 3), and refuses the guide values nothing acts on', () => {
    const text = yamlSetting('system_integration.security.access_control', 'abac');
    const loaded = loadInstallConfig({ configDir, install: [{ name: 'policy.yaml', text }] });
    expect(loaded.config.system_integration.security.access_control).toBe('abac');
    const hybrid = refusal({ install: [{ name: 'policy.yaml', text: yamlSetting('system_integration.deployment_mode', 'hybrid') }] });
    expect(hybrid).toMatchObject({ code: 'CONFIG_UNSUPPORTED', key: 'system_integration.deployment_mode' });
    expect(hybrid.message).toContain('supported: local, on-premise.');
  });

  it('refuses every other value the schema knows but nothing acts on, and accepts the supported ones', () => {
    for (const { key, values } of SUPPORTED_SYSTEM_INTEGRATION) {
      // A fallback equal to the primary protocol (grpc) is refused before, as no fallback (CONFIG_INVALID).
      const known =
        key === 'system_integration.version'
          ? ['1.0.0', '2.0.0']
          : schemaValues(key).filter((v) => !(key.endsWith('fallback_protocol') && v === 'grpc'));
      expect(known.length, key).toBeGreaterThan(0);
      for (const value of known) {
        // oauth2 needs its provider's section beside it.
        const text = key.endsWith('authentication_method') && value === 'oauth2' ? OAUTH2_YAML : yamlSetting(key, value);
        if (values.includes(value)) {
          expect(() => loadInstallConfig({ configDir, install: [{ name: 'i.yaml', text }] }), `${key}: ${value}`).not.toThrow();
          continue;
        }
        const error = refusal({ install: [{ name: 'i.yaml', text }] });
        expect(error.code, `${key}: ${value}`).toBe('CONFIG_UNSUPPORTED');
        expect(error.key).toBe(key);
        expect(error.message).toContain(`supported: ${values.join(', ')}.`);
      }
    }
  });

  it('names the highest layer’s unsupported value first', () => {
    const error = refusal({
      install: [{ name: 'install.yaml', text: yamlSetting('system_integration.monitoring.tracing', 'opentelemetry') }],
      host: { name: 'db-1.yaml', text: yamlSetting('system_integration.performance_profile', 'minimal') },
    });
    expect(error.origin).toMatchObject({ kind: 'host', file: 'db-1.yaml' });
  });
});

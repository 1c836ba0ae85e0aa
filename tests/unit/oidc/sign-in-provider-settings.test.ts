import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSignInProvider, SIGN_IN_PROVIDER_FILE } from '../../../electron/backend/oidc/sign-in-provider-settings';
import { makeTempDir } from '../../support/temp-dir';

/**
 * sign-in-provider.yaml (the control center's own sign-in through the site's provider): no
 * file is provider sign-in off; a file that does not load turns it off with a reason that
 * names the file, the line and the key, never silently; the client secret is read from its file.
 */
describe('sign-in-provider.yaml', () => {
  function read(text: string | null, files: Record<string, string> = {}) {
    const dir = makeTempDir('sutazai-sign-in-provider-');
    try {
      if (text !== null) fs.writeFileSync(path.join(dir.path, SIGN_IN_PROVIDER_FILE), text.replaceAll('DIR', dir.path));
      for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir.path, name), content);
      return readSignInProvider(dir.path);
    } finally {
      dir.remove();
    }
  }
  const GOOD = 'display_name: Site SSO\nissuer: https://sso.example.org/realms/site\nclient_id: sutazai\n';

  it('is off without the file, and fills in the defaults', () => {
    expect(read(null)).toEqual({ kind: 'none' });
    const config = read(GOOD);
    expect(config.kind).toBe('ok');
    if (config.kind !== 'ok') return;
    expect(config.settings).toMatchObject({
      operator_claim: 'preferred_username',
      scopes: ['openid', 'profile'],
      algorithms: ['RS256', 'ES256'],
      multi_factor_amr: ['mfa', 'otp', 'hwk', 'sc'],
    });
    expect(config.settings.client_secret).toBeUndefined();
  });

  it('reads the client secret from its file, trimmed', () => {
    const config = read(`${GOOD}client_secret_file: DIR/secret\n`, { secret: 's3cret value\n' });
    expect(config.kind === 'ok' && config.settings.client_secret).toBe('s3cret value');
  });

  it('refuses bad YAML, a typo in a key, a bad value and a missing secret file, each with where and why', () => {
    const problem = (text: string) => {
      const config = read(text);
      expect(config.kind).toBe('invalid');
      return config.kind === 'invalid' ? `${config.problem.code}: ${config.problem.message}` : '';
    };
    expect(problem(`${GOOD}scopes: [openid\n`)).toMatch(/^OIDC_SIGN_IN_NOT_CONFIGURED: .*sign-in-provider\.yaml:\d+:\d+ is not valid YAML/);
    expect(problem(`${GOOD}operator_clam: sub\n`)).toMatch(/Unrecognized key.*operator_clam/);
    expect(problem(`${GOOD}scopes: [profile]\n`)).toMatch(/sign-in-provider\.yaml:4 key scopes: the scopes must include openid/);
    expect(problem(`${GOOD}algorithms: [none]\n`)).toMatch(/sign-in-provider\.yaml:4 key algorithms\.0/);
    expect(problem(`${GOOD}client_secret_file: DIR/missing\n`)).toMatch(/names client_secret_file .*missing, which could not be read/);
  });
});

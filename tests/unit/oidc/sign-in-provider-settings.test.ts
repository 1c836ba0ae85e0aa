import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSignInProvider, SIGN_IN_PROVIDER_FILE } from '../../../electron/backend/oidc/sign-in-provider-settings';
import { createProviderSignIn } from '../../../electron/backend/oidc/oidc-sign-in';
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
      // otp, hwk and sc each name one method (RFC 8176), which may have been the only one.
      multi_factor_amr: ['mfa'],
      trusted_audiences: [],
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

  it('reads ca_file and client_secret_file relative to the data directory, as plain files only, and refuses a bad one at read time', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const config = read(`${GOOD}ca_file: ca.pem\nclient_secret_file: secret\n`, { 'ca.pem': pem, secret: 'the secret\n' });
    expect(config.kind).toBe('ok');
    if (config.kind === 'ok') {
      expect(config.settings.ca_pem).toBe(pem);
      expect(config.settings.client_secret).toBe('the secret');
      expect(path.isAbsolute(config.settings.ca_file!)).toBe(true);
    }
    const problem = (text: string, files: Record<string, string> = {}) => {
      const outcome = read(text, files);
      return outcome.kind === 'invalid' ? outcome.problem.message : `not refused: ${outcome.kind}`;
    };
    // A missing CA file turns provider sign-in off with the reason; it must not stop the start.
    expect(problem(`${GOOD}ca_file: /nonexistent/ca.pem\n`)).toMatch(/names ca_file \/nonexistent\/ca\.pem, which could not be read/);
    expect(problem(`${GOOD}ca_file: ca.pem\n`, { 'ca.pem': 'not a certificate' })).toMatch(/holds no PEM certificate/);
    // A device would be read forever (or block): only plain files are read.
    expect(problem(`${GOOD}ca_file: /dev/zero\n`)).toMatch(/not a plain file/);
    expect(problem(`${GOOD}client_secret_file: /dev/zero\n`)).toMatch(/not a plain file/);
  });

  it('a FIFO named as the secret file is refused without blocking the read', () => {
    const dir = makeTempDir('sutazai-sign-in-provider-fifo-');
    try {
      execFileSync('mkfifo', [path.join(dir.path, 'secret')]);
      fs.writeFileSync(path.join(dir.path, SIGN_IN_PROVIDER_FILE), `${GOOD}client_secret_file: secret\n`);
      const config = readSignInProvider(dir.path);
      expect(config.kind === 'invalid' && config.problem.message).toMatch(/secret, which could not be read: it is not a plain file/);
    } finally {
      dir.remove();
    }
  });

  it('making the flow from settings reads no file, so a CA file gone since does not throw at start', () => {
    const settings = {
      display_name: 'X',
      issuer: 'https://idp.example',
      client_id: 'c',
      ca_file: '/nonexistent/ca.pem',
      scopes: ['openid'],
      operator_claim: 'sub',
      algorithms: ['ES256' as const],
      multi_factor_amr: ['mfa'],
      trusted_audiences: [],
    };
    expect(() => createProviderSignIn(settings)).not.toThrow();
  });
});

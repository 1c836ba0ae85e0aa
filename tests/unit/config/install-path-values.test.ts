// Path values of an install file that are not plain paths: each refused by `config check`
// (the loader) with CONFIG_INVALID at its file, line and column, for every path key,
// before any script is built from it.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError } from '../../../electron/backend/config/config-error';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';

const configDir = path.resolve(__dirname, '../../../config');
const PATH_KEYS = ['root_dir', 'user_dir', 'config_dir', 'state_dir', 'log_dir'] as const;
/** What an attacker or a slip puts into a path, each as YAML writes it (double-quoted). */
const HOSTILE = [
  ['command substitution', '/x$(id>/tmp/p)'],
  ['a variable', '/x/${HOME}'],
  ['backquotes', '/x/`id`'],
  ['a single quote', "/x/it's"],
  ['a double quote', '/x/say"hi"'],
  ['a backslash', '/x\\y'],
  ['a newline and tab (a forged record)', '/tmp/v/cfg\ncreated\t/tmp/v/data\n'],
  ['a NUL byte', '/x\u0000y'],
  ['a .. step', '/opt/sutazai/../../etc'],
  ['the filesystem root', '/'],
] as const;

function refusal(key: string, value: string): ConfigError {
  const text = `# paths\ninstall:\n  ${key}: ${JSON.stringify(value)}\n`;
  try {
    loadInstallConfig({ configDir, install: [{ name: 'install.yaml', text }] });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`${key}: ${JSON.stringify(value)} was accepted`);
}

describe('path values of an install file', () => {
  for (const key of PATH_KEYS) {
    for (const [what, value] of HOSTILE) {
      it(`install.${key} with ${what} is CONFIG_INVALID at its line and column`, () => {
        const error = refusal(key, value);
        expect(error.code).toBe('CONFIG_INVALID');
        expect(error.key).toBe(`install.${key}`);
        expect(error.origin).toMatchObject({ file: 'install.yaml', line: 3, column: key.length + 5 });
        expect(error.message).toMatch(new RegExp(`^install\\.yaml:3:${key.length + 5}: install\\.${key}: must be `));
        expect(error.remedy).not.toBe('');
      });
    }
  }

  it('plain paths, with spaces and ~/ for the per-user one, are taken as they are', () => {
    const text =
      'install:\n  root_dir: /opt/sutazai ai\n  user_dir: ~/sutazai\n  config_dir: /etc/sutazai\n  state_dir: /var/lib/sutazai-2\n  log_dir: /var/log/sutazai_x.y\n';
    const { config } = loadInstallConfig({ configDir, install: [{ name: 'install.yaml', text }] });
    expect(config.install).toMatchObject({
      root_dir: '/opt/sutazai ai',
      user_dir: '~/sutazai',
      config_dir: '/etc/sutazai',
      state_dir: '/var/lib/sutazai-2',
      log_dir: '/var/log/sutazai_x.y',
    });
  });
});

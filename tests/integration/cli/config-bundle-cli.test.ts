import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

/**
 * `sutazai config export|review|import|keys` as a script on a jump box runs them: real
 * processes over two data directories, exit codes and the remedies' own words.
 */

const scratch = makeTempDir('sutazai-config-cli-');
const origin = path.join(scratch.path, 'origin');
const fresh = path.join(scratch.path, 'fresh');
const file = (name: string) => path.join(scratch.path, name);
const VAULT = { SUTAZAI_PASSPHRASE: 'vault passphrase of the test' };

beforeAll(() => {
  fs.mkdirSync(origin);
  fs.mkdirSync(fresh);
  fs.writeFileSync(file('export-passphrase'), 'an export passphrase of four words\n');
  fs.writeFileSync(file('wrong-passphrase'), 'not the export passphrase at all\n');
  fs.writeFileSync(
    file('hosts.yaml'),
    'hosts:\n  - name: core-1\n    address: 198.18.41.1\n    user: ops\n    role: core\n  - name: agent-1\n    address: 198.18.41.2\n    user: ops\n    labels: { rack: b4 }\n    jumpHost: core-1\n',
  );
  const imported = runSutazai(['hosts', 'import', file('hosts.yaml')], origin, VAULT);
  expect(imported.code, imported.stderr).toBe(0);
}, 120_000);

afterAll(() => scratch.remove());

describe('sutazai config export and import', () => {
  let signer = '';

  it('exports a signed bundle with sealed secrets and the same content as YAML', () => {
    const bundle = runSutazai(
      [
        'config',
        'export',
        '--out',
        file('site.sutazai-config'),
        '--with-secrets',
        '--export-passphrase-file',
        file('export-passphrase'),
        '--json',
      ],
      origin,
      VAULT,
    );
    expect(bundle.code, bundle.stderr).toBe(0);
    const result = JSON.parse(bundle.stdout) as { hosts: number; signedBy: string };
    expect(result.hosts).toBe(2);
    signer = result.signedBy;
    expect(runSutazai(['config', 'keys'], origin, VAULT).stdout).toContain(`this control center signs exports as ${signer}`);
    const yaml = runSutazai(['config', 'export', '--yaml', '--out', file('origin.yaml')], origin, VAULT);
    expect(yaml.code, yaml.stderr).toBe(0);
    // What it holds, each count once.
    expect(yaml.stdout).toMatch(/^2 hosts, \d+ installs, \d+ bundle signing keys, \d+ alert rule and policy files$/m);
    // Never over an existing file.
    const again = runSutazai(['config', 'export', '--yaml', '--out', file('origin.yaml')], origin, VAULT);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('CONFIG_EXPORT_UNWRITABLE');
    // Each command is a process of its own that opens the vault (scrypt): minutes on a busy machine.
  }, 300_000);

  it('reviews, refuses an unknown exporter and a wrong passphrase, imports once trusted, and a second import changes nothing', () => {
    const review = runSutazai(['config', 'review', file('site.sutazai-config')], fresh, VAULT);
    expect(review.code, review.stderr).toBe(0);
    expect(review.stdout).toContain('NOT TRUSTED YET');
    expect(review.stdout).toMatch(/new\s+host:agent-1/);

    const unknown = runSutazai(['config', 'import', file('site.sutazai-config'), '--without-secrets'], fresh, VAULT);
    expect(unknown.code).toBe(11);
    expect(unknown.stderr).toContain('error CONFIG_BUNDLE_EXPORTER_UNKNOWN');
    expect(unknown.stderr).toContain(`--trust-exporter ${signer}`);

    const wrong = runSutazai(
      ['config', 'import', file('site.sutazai-config'), '--trust-exporter', signer, '--export-passphrase-file', file('wrong-passphrase')],
      fresh,
      VAULT,
    );
    expect(wrong.code).toBe(8);
    expect(wrong.stderr).toContain('CONFIG_BUNDLE_PASSPHRASE_WRONG');
    expect(runSutazai(['hosts', 'list', '--json'], fresh, VAULT).stdout).not.toContain('agent-1');

    const imported = runSutazai(
      ['config', 'import', file('site.sutazai-config'), '--trust-exporter', signer, '--export-passphrase-file', file('export-passphrase')],
      fresh,
      VAULT,
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('host:agent-1');
    const second = runSutazai(
      ['config', 'import', file('site.sutazai-config'), '--export-passphrase-file', file('export-passphrase')],
      fresh,
      VAULT,
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('applied nothing');

    const yaml = runSutazai(['config', 'export', '--yaml', '--out', file('fresh.yaml')], fresh, VAULT);
    expect(yaml.code, yaml.stderr).toBe(0);
    expect(fs.readFileSync(file('fresh.yaml'), 'utf8')).toBe(fs.readFileSync(file('origin.yaml'), 'utf8'));
  }, 600_000);

  it('names the line and column of a hand-edited YAML export', () => {
    const text = fs.readFileSync(file('origin.yaml'), 'utf8').replace('role: core', 'role: captain');
    fs.writeFileSync(file('edited.yaml'), text);
    const line = text.split('\n').findIndex((l) => l.includes('role: captain')) + 1;
    const run = runSutazai(['config', 'review', file('edited.yaml')], fresh, VAULT);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`error CONFIG_EXPORT_INVALID: .*edited\\.yaml:${line}:\\d+: hosts\\.\\d+\\.role`));
  }, 120_000);
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

/**
 * `sutazai config keys --revoke` and `config import --sha256` as real processes over two
 * data directories: a revoked exporter's bundle is untrusted again, and an import names the
 * file its review read. (Each process opens the vault: few processes, on purpose.)
 */

const scratch = makeTempDir('sutazai-config-keys-cli-');
const origin = path.join(scratch.path, 'origin');
const fresh = path.join(scratch.path, 'fresh');
const file = (name: string) => path.join(scratch.path, name);
const VAULT = { SUTAZAI_PASSPHRASE: 'vault passphrase of the test' };
let signer = '';

beforeAll(() => {
  fs.mkdirSync(origin);
  fs.mkdirSync(fresh);
  fs.writeFileSync(file('hosts.yaml'), 'hosts:\n  - name: core-1\n    address: 198.18.44.1\n    user: ops\n    role: core\n');
  expect(runSutazai(['hosts', 'import', file('hosts.yaml')], origin, VAULT).code).toBe(0);
  const exported = runSutazai(['config', 'export', '--out', file('site.sutazai-config'), '--json'], origin, VAULT);
  expect(exported.code, exported.stderr).toBe(0);
  signer = (JSON.parse(exported.stdout) as { signedBy: string }).signedBy;
}, 180_000);

afterAll(() => scratch.remove());

describe('sutazai config keys --revoke and import --sha256', () => {
  it('refuses a file other than the reviewed one, then imports the reviewed one', () => {
    const review = runSutazai(['config', 'review', file('site.sutazai-config')], fresh, VAULT);
    expect(review.code, review.stderr).toBe(0);
    const sha = /^sha256 ([0-9a-f]{64}) /m.exec(review.stdout)?.[1];
    expect(sha).toBeDefined();
    const swapped = runSutazai(
      ['config', 'import', file('site.sutazai-config'), '--trust-exporter', signer, '--sha256', 'f'.repeat(64)],
      fresh,
      VAULT,
    );
    expect(swapped.code).not.toBe(0);
    expect(swapped.stderr).toContain('error CONFIG_IMPORT_FILE_CHANGED');
    expect(swapped.stderr).toContain('config review FILE');
    const imported = runSutazai(
      ['config', 'import', file('site.sutazai-config'), '--trust-exporter', signer, '--sha256', sha!],
      fresh,
      VAULT,
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('host:core-1');
  }, 240_000);

  it('lists the trusted exporter, revokes it, and its bundle is untrusted again', () => {
    expect(runSutazai(['config', 'keys'], fresh, VAULT).stdout).toContain(signer);
    const revoked = runSutazai(['config', 'keys', '--revoke', signer], fresh, VAULT);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`no longer trusts the exporter ${signer}`);
    const keys = runSutazai(['config', 'keys'], fresh, VAULT);
    expect(keys.stdout).toContain('no other exporter is trusted');
    const review = runSutazai(['config', 'review', file('site.sutazai-config')], fresh, VAULT);
    expect(review.stdout).toContain('NOT TRUSTED YET');
    const again = runSutazai(['config', 'keys', '--revoke', signer], fresh, VAULT);
    expect(again.stderr).toContain('error NOT_FOUND');
  }, 300_000);
});

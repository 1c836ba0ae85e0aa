// Break-glass (issue 14 gap): `sutazai operators reset-admin NAME`, the real CLI as a child
// process on a data directory whose only admin is locked out (password unknown, a two-factor
// enrolment, her name throttled by wrong tries). Without --as (refused with it), with only the
// data directory, it makes her an enabled admin again with a new password and no two-factor
// enrolment; she then signs in with that password alone; a short password changes nothing; an
// operator that is not an admin is promoted, an unknown name added; each reset is one audit
// entry naming the local user, and the chain still verifies; the output names the data directory
// and her still-valid runtime certificates with the revoke command. A data directory without a
// store (a mistyped --data-dir) or a store with no operators is refused and nothing is created.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../electron/backend/operators/totp';
import { ApiError } from '../../../electron/contract';
import { createRuntimeCredentialsRepo } from '../../../electron/backend/fleet/credentials/runtime-credentials-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { openStore } from '../../../electron/backend/store/open-store';
import { recordInstallWithSealedCa } from '../../support/recorded-installs';
import { startQuietBackend } from '../../support/backend-harness';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-reset-admin-');
const dataDir = path.join(dir.path, 'data');
const CLI_TIMEOUT_MS = 120_000;
const VAULT = { SUTAZAI_PASSPHRASE: 'vault passphrase of the test' };
const NEW_PASSWORD = 'ada picks a new long password';

function sutazai(args: string[], stdin = ''): Promise<SutazaiRun> {
  return runSutazaiAsync(args, dataDir, { stdin, env: VAULT });
}
const codeOf = (run: SutazaiRun) => /error ([A-Z_]+):/.exec(run.stderr)?.[1];

beforeAll(async () => {
  // Ada's runtime certificates on an install (recorded first: the throttle below must still hold
  // when the case runs): one still valid, one revoked, one expired.
  await recordInstallWithSealedCa(dataDir, VAULT.SUTAZAI_PASSPHRASE, 'lab');
  const store = openStore({ dataDir });
  try {
    const installId = createInstallsRepo(store.db).findByName('lab')!.id;
    const credentials = createRuntimeCredentialsRepo(store.db);
    const now = Date.now();
    const record = (serial: string, notAfter: number) =>
      credentials.recordCertificate({ installId, operatorName: 'ada', serial, role: 'admin', notAfter, issuedAt: now - 1000 });
    record('a11ce', now + 3600_000);
    record('5ea1ed', now + 3600_000);
    credentials.revokeSerial('5ea1ed', now);
    record('01d', now - 1);
  } finally {
    store.close();
  }
  // Ada, the only admin, with two-factor sign-in; otto an operator; ada's name throttled by wrong tries.
  const backend = await startQuietBackend(dataDir, { vaultKey: { kind: 'passphrase', passphrase: VAULT.SUTAZAI_PASSPHRASE } });
  try {
    const setup = backend.openClient('setup');
    await setup.call('operators.add', { name: 'ada', role: 'admin', password: 'the password ada forgot' });
    await setup.call('operators.add', { name: 'otto', role: 'operator', password: 'the password of otto' });
    await setup.call('session.signIn', { name: 'ada', password: 'the password ada forgot' });
    const { secret } = await setup.call('mfa.enrolBegin', {});
    await setup.call('mfa.enrolConfirm', { code: totpCode(secret, Date.now()) });
    const guesser = backend.openClient('guesser');
    let throttled = false;
    for (let i = 0; i < 20 && !throttled; i += 1) {
      try {
        await guesser.call('session.signIn', { name: 'ada', password: `wrong guess ${i}` });
      } catch (error) {
        throttled = error instanceof ApiError && error.code === 'SIGN_IN_THROTTLED';
      }
    }
    expect(throttled).toBe(true);
    setup.close();
    guesser.close();
  } finally {
    await backend.close();
  }
}, CLI_TIMEOUT_MS);
afterAll(() => dir.remove());

describe('sutazai operators reset-admin', () => {
  it(
    'gives the locked-out admin a new password and no two-factor enrolment, audited; --as and a short password are refused',
    async () => {
      const withAs = await sutazai(['--as', 'ada', 'operators', 'reset-admin', 'ada'], 'x\n');
      expect(codeOf(withAs)).toBe('BAD_PARAMS');
      expect(withAs.stderr).toContain('--as is not taken');

      const weak = await sutazai(['operators', 'reset-admin', 'ada'], 'short\n');
      expect(codeOf(weak)).toBe('OPERATOR_PASSWORD_WEAK');
      expect(codeOf(await sutazai(['--as', 'ada', 'operators', 'list'], 'short\n'))).toBe('SIGN_IN_THROTTLED');

      const reset = await sutazai(['operators', 'reset-admin', 'ada', '--json'], `${NEW_PASSWORD}\n`);
      expect(reset.stderr).toBe('');
      expect(reset.code).toBe(0);
      expect(JSON.parse(reset.stdout)).toMatchObject({
        name: 'ada',
        created: false,
        mfaRemoved: true,
        wasDisabled: false,
        dataDir: path.resolve(dataDir),
        liveCertificates: [{ serial: 'a11ce', install: 'lab', notAfter: expect.any(Number) }],
      });
      // Break-glass revokes nothing: the still-valid certificate is named with the command that revokes it.
      const told = await sutazai(['operators', 'reset-admin', 'ada'], `${NEW_PASSWORD}\n`);
      expect(told.stdout).toContain(`Break-glass in ${path.resolve(dataDir)}:`);
      expect(told.stdout).toContain('  a11ce on lab, until ');
      expect(told.stdout).not.toContain('5ea1ed');
      expect(told.stdout).toContain('sutazai --as ada operators certificate revoke --all ada');

      // The new password alone signs her in: no code asked, the throttle on her name gone.
      const listed = await sutazai(['--as', 'ada', 'operators', 'list', '--json'], `${NEW_PASSWORD}\n`);
      expect(listed.stderr).toBe('');
      expect(JSON.parse(listed.stdout)).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'ada', role: 'admin', disabled: false })]),
      );
      expect(codeOf(await sutazai(['--as', 'ada', 'operators', 'list'], 'the password ada forgot\n'))).toBe('SIGN_IN_FAILED');

      const promoted = await sutazai(['operators', 'reset-admin', 'otto', '--json'], 'otto gets a long password\n');
      expect(JSON.parse(promoted.stdout)).toMatchObject({ name: 'otto', created: false, wasRole: 'operator', mfaRemoved: false });
      const added = await sutazai(['operators', 'reset-admin', 'nadia', '--json'], 'nadia gets a long password\n');
      expect(JSON.parse(added.stdout)).toMatchObject({ name: 'nadia', created: true });

      const audit = await sutazai(['--as', 'ada', 'audit', 'list', '--json'], `${NEW_PASSWORD}\n`);
      const entries = JSON.parse(audit.stdout) as Array<{ method: string; actor: string; target: string | null }>;
      const resets = entries.filter((entry) => entry.method === 'operators.resetAdmin');
      expect(resets.map((entry) => entry.target).sort()).toEqual(['operator ada', 'operator ada', 'operator nadia', 'operator otto']);
      for (const entry of resets) expect(entry.actor).toMatch(/^break-glass by .*uid \d+.* on .+, pid \d+$/);
      const verified = await sutazai(['--as', 'ada', 'audit', 'verify'], `${NEW_PASSWORD}\n`);
      expect(verified.code).toBe(0);
    },
    10 * CLI_TIMEOUT_MS,
  );

  it(
    'refuses a data directory with no store (a mistyped --data-dir) and a store with no operators, creating nothing',
    async () => {
      const mistyped = path.join(dir.path, 'dtaa');
      const missing = await runSutazaiAsync(['operators', 'reset-admin', 'ada', '--data-dir', mistyped], 'a long enough new password\n', {
        env: VAULT,
      });
      expect(codeOf(missing)).toBe('NOT_FOUND');
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(`no control center in ${mistyped}`);
      expect(missing.stdout).toBe('');
      expect(fs.existsSync(path.join(mistyped, 'sutazai.db'))).toBe(false);

      // A store that exists but has no operators: nothing to break into.
      const emptyDir = path.join(dir.path, 'empty');
      openStore({ dataDir: emptyDir }).close();
      const empty = await runSutazaiAsync(['operators', 'reset-admin', 'ada', '--data-dir', emptyDir], 'a long enough new password\n', {
        env: VAULT,
      });
      expect(codeOf(empty)).toBe('BAD_PARAMS');
      expect(empty.stderr).toContain('has no operators');
      expect(empty.stderr).toContain('operators add');
      const store = openStore({ dataDir: emptyDir });
      try {
        expect(store.db.prepare('SELECT COUNT(*) AS n FROM operators').get()).toEqual({ n: 0 });
      } finally {
        store.close();
      }
    },
    4 * CLI_TIMEOUT_MS,
  );
});

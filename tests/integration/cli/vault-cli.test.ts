// `sutazai vault change-passphrase` as an operator runs it: the real CLI as a child process
// on a data directory whose vault an older version made (scrypt N=2^14, 8 characters).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore } from '../../../electron/backend/store/open-store';
import { makeLegacyVault } from '../../support/legacy-vault';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-vault-cli-');
const dataDir = path.join(dir.path, 'data');
/** Several scrypt derivations at N=2^17 per command on a loaded machine. */
const CLI_TIMEOUT_MS = 120_000;

function sutazai(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<SutazaiRun> {
  return runSutazaiAsync(args, dataDir, options);
}

let ids: Record<string, number>;

beforeAll(async () => {
  ids = makeLegacyVault(dataDir, 'old8char', { 'password:db-1': 'alpha-secret', 'sudo:db-1': 'bravo-secret' });
  // Build once up front so each case measures the command, not the bundler.
  expect((await sutazai(['help'])).code).toBe(0);
}, CLI_TIMEOUT_MS);
afterAll(() => dir.remove());

describe('sutazai vault change-passphrase', () => {
  it(
    'warns about a short passphrase that still opens, refuses a short new one and a wrong current one, then re-seals everything',
    async () => {
      const warned = await sutazai(['hosts', 'list', '--json'], { env: { SUTAZAI_PASSPHRASE: 'old8char' } });
      expect(warned.code).toBe(0);
      expect(warned.stderr).toContain('warning: The vault passphrase has fewer than 12 characters');
      expect(warned.stderr).toContain('remedy: Change it: sutazai vault change-passphrase');

      const onArgv = await sutazai(['vault', 'change-passphrase', 'a new passphrase on argv']);
      expect(onArgv.code).toBe(2);
      expect(onArgv.stderr).toContain('error BAD_PARAMS');

      const short = await sutazai(['vault', 'change-passphrase'], { stdin: 'old8char\nstill short\n' });
      expect(short.stderr).toContain('error SECRETS_PASSPHRASE_WEAK');
      expect(short.code).toBe(8);

      const wrong = await sutazai(['vault', 'change-passphrase'], { stdin: 'not-the-one\na long enough new passphrase\n' });
      expect(wrong.stderr).toContain('error SECRETS_PASSPHRASE_WRONG');
      expect(wrong.code).toBe(8);

      const newFile = path.join(dir.path, 'new-passphrase');
      fs.writeFileSync(newFile, 'a long enough new passphrase\n', { mode: 0o600 });
      const changed = await sutazai(['vault', 'change-passphrase', '--new-passphrase-file', newFile, '--json'], {
        env: { SUTAZAI_PASSPHRASE: 'old8char' },
      });
      expect(changed.stderr).toBe('');
      expect(changed.code).toBe(0);
      expect(JSON.parse(changed.stdout)).toEqual({ resealed: 2, unreadable: 0, kdf: { alg: 'scrypt', N: 2 ** 17, r: 8, p: 1 } });

      const store = openStore({ dataDir });
      try {
        expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'old8char' })).toThrow(
          expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }),
        );
        const vault = createSecretVault(store.db);
        expect(vault.unlock({ kind: 'passphrase', passphrase: 'a long enough new passphrase' })).toEqual({
          upgraded: false,
          warning: null,
        });
        expect(vault.reveal(ids['password:db-1']!)).toBe('alpha-secret');
        expect(vault.reveal(ids['sudo:db-1']!)).toBe('bravo-secret');
      } finally {
        store.close();
      }
    },
    4 * CLI_TIMEOUT_MS,
  );
});

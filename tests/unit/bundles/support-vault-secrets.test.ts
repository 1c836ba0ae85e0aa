// The vault's secrets for a support bundle's redaction, from a real store and vault: a locked
// vault that holds secrets is refused (a bundle made then would keep every stored password a
// program printed), an empty one needs no unlocking.
import { afterEach, describe, expect, it } from 'vitest';
import { vaultSecrets } from '../../../electron/backend/bundles/support-bundles/vault-secrets';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((f) => f()),
);
/** One passphrase unlock stretches the key with scrypt (seconds on a loaded machine). */
const KDF_TEST_TIMEOUT_MS = 60_000;

function freshStore() {
  const dir = makeTempDir();
  const store = openStore({ dataDir: dir.path });
  cleanups.push(
    () => dir.remove(),
    () => store.close(),
  );
  return store;
}

describe("a support bundle's vault secrets", () => {
  it(
    'are every stored secret while unlocked, and refused with SECRETS_LOCKED while locked',
    () => {
      const store = freshStore();
      const vault = createSecretVault(store.db);
      vault.unlock({ kind: 'passphrase', passphrase: 'operator passphrase' });
      vault.store('password:db-1', 'sudo-pass-of-db-1', 1);
      expect(vaultSecrets(store.db, vault)).toEqual(['sudo-pass-of-db-1']);
      // The same data directory as a command line opens it without its passphrase.
      const locked = createSecretVault(store.db);
      expect(() => vaultSecrets(store.db, locked)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
    },
    KDF_TEST_TIMEOUT_MS,
  );

  it('need no unlocking when the vault holds nothing', () => {
    const store = freshStore();
    expect(vaultSecrets(store.db, createSecretVault(store.db))).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CURRENT_KDF } from '../../../electron/backend/secrets/passphrase-kdf';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeLegacyVault } from '../../support/legacy-vault';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => void> = [];
/** Each passphrase unlock stretches the key with scrypt at N=2^17 (about 0.3 s on a laptop, seconds on a loaded machine). */
const KDF_TEST_TIMEOUT_MS = 60_000;
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((f) => f()),
);

function fresh(): { store: Store; dir: string } {
  const dir = makeTempDir();
  const store = openStore({ dataDir: dir.path });
  cleanups.push(
    () => dir.remove(),
    () => store.close(),
  );
  return { store, dir: dir.path };
}

describe('secret vault', () => {
  it(
    'seals values so the database file never holds them in clear, and opens them again',
    () => {
      const { store, dir } = fresh();
      const vault = createSecretVault(store.db);
      vault.unlock({ kind: 'passphrase', passphrase: 'operator passphrase' });
      const id = vault.store('password:db-1', 'Tr0ub4dor&3-known', 1);
      expect(vault.reveal(id)).toBe('Tr0ub4dor&3-known');
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('sutazai.db'))) {
        expect(fs.readFileSync(path.join(dir, file)).includes('Tr0ub4dor&3-known'), file).toBe(false);
      }
    },
    KDF_TEST_TIMEOUT_MS,
  );

  it(
    'is locked until unlocked, and refuses a wrong passphrase',
    () => {
      const { store } = fresh();
      const first = createSecretVault(store.db);
      expect(() => first.store('p', 'x', 1)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
      first.unlock({ kind: 'passphrase', passphrase: 'right passphrase' });
      const id = first.store('p', 'value', 1);
      const again = createSecretVault(store.db);
      expect(() => again.unlock({ kind: 'passphrase', passphrase: 'wrong passphrase' })).toThrow(
        expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }),
      );
      expect(() => again.reveal(id)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
      again.unlock({ kind: 'passphrase', passphrase: 'right passphrase' });
      expect(again.reveal(id)).toBe('value');
    },
    KDF_TEST_TIMEOUT_MS,
  );

  it('refuses a tampered or transplanted sealed value', () => {
    const { store } = fresh();
    const vault = createSecretVault(store.db);
    vault.unlock({ kind: 'os-secret-store', key: Buffer.alloc(32, 7) });
    const a = vault.store('password:a', 'alpha', 1);
    const b = vault.store('password:b', 'bravo', 1);
    // Moving b's sealed bytes into a's slot must not reveal bravo as a's password.
    store.db.prepare('UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE id = ?) WHERE id = ?').run(b, a);
    expect(() => vault.reveal(a)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
    const sealed = store.db.prepare('SELECT sealed FROM secrets WHERE id = ?').get(b) as { sealed: Buffer };
    sealed.sealed[sealed.sealed.length - 1]! ^= 1;
    store.db.prepare('UPDATE secrets SET sealed = ? WHERE id = ?').run(sealed.sealed, b);
    expect(() => vault.reveal(b)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
  });

  it('opens a secret for the purpose it was sealed for only, when the caller names one', () => {
    const { store } = fresh();
    const vault = createSecretVault(store.db);
    vault.unlock({ kind: 'os-secret-store', key: Buffer.alloc(32, 3) });
    const id = vault.store('password:db-1', 'alpha-secret', 1);
    expect(vault.reveal(id, 'password:db-1')).toBe('alpha-secret');
    expect(() => vault.reveal(id, 'install-ca-key:plant-7')).toThrow(
      expect.objectContaining({ code: 'SECRETS_LOCKED', message: expect.stringContaining('sealed for password:db-1') }),
    );
  });

  it('will not open an OS-store vault with a passphrase', () => {
    const { store } = fresh();
    createSecretVault(store.db).unlock({ kind: 'os-secret-store', key: Buffer.alloc(32, 1) });
    expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'long enough' })).toThrow(
      expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }),
    );
  });
});

function legacyVault(passphrase: string, secrets: Record<string, string>): { dir: string; ids: Record<string, number> } {
  const dir = makeTempDir();
  cleanups.push(() => dir.remove());
  return { dir: dir.path, ids: makeLegacyVault(dir.path, passphrase, secrets) };
}

function vaultRow(store: Store): { salt: Buffer; kdf: string | null } {
  return store.db.prepare('SELECT salt, kdf FROM vault WHERE id = 1').get() as { salt: Buffer; kdf: string | null };
}

describe('secret vault key stretching', () => {
  it(
    'stores the scrypt parameters of a new vault (OWASP strength) and refuses a new passphrase under 12 characters',
    () => {
      const { store } = fresh();
      expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'elevenchars' })).toThrow(
        expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WEAK' }),
      );
      expect(store.db.prepare('SELECT count(*) AS n FROM vault').get()).toEqual({ n: 0 });
      const outcome = createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'twelve chars' });
      expect(outcome).toEqual({ upgraded: false, warning: null });
      expect(JSON.parse(vaultRow(store).kdf!)).toEqual({ alg: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
      expect(CURRENT_KDF.N).toBeGreaterThanOrEqual(2 ** 17);
    },
    KDF_TEST_TIMEOUT_MS,
  );

  it(
    'opens an old N=2^14 vault with its 8-character passphrase, re-seals it with the current parameters, and warns',
    () => {
      const { dir, ids } = legacyVault('8letters', { 'password:db-1': 'alpha-secret', 'install-ca-key:plant': 'bravo-secret' });
      const store = openStore({ dataDir: dir });
      cleanups.push(() => store.close());
      const before = vaultRow(store);
      expect(JSON.parse(before.kdf!)).toEqual({ alg: 'scrypt', N: 2 ** 14, r: 8, p: 1 });

      expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: '8letterz' })).toThrow(
        expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }),
      );
      expect(vaultRow(store).kdf).toBe(before.kdf);

      const vault = createSecretVault(store.db);
      const outcome = vault.unlock({ kind: 'passphrase', passphrase: '8letters' });
      expect(outcome.upgraded).toBe(true);
      expect(outcome.warning).toMatchObject({
        message: expect.stringContaining('fewer than 12 characters'),
        remedy: expect.stringContaining('sutazai vault change-passphrase'),
      });
      const after = vaultRow(store);
      expect(JSON.parse(after.kdf!)).toEqual({ alg: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
      expect(after.salt.equals(before.salt)).toBe(false);
      expect(vault.reveal(ids['password:db-1']!)).toBe('alpha-secret');

      // Sealed under the new key: a fresh unlock with the same passphrase opens everything, without upgrading again.
      const again = createSecretVault(store.db);
      expect(again.unlock({ kind: 'passphrase', passphrase: '8letters' }).upgraded).toBe(false);
      expect(again.reveal(ids['install-ca-key:plant']!)).toBe('bravo-secret');
      expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'not the passphrase' })).toThrow(
        expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }),
      );
    },
    KDF_TEST_TIMEOUT_MS,
  );
});

describe('changing the vault passphrase', () => {
  it(
    're-seals every secret: the old passphrase no longer opens, the new one opens the same values',
    async () => {
      const { store } = fresh();
      const vault = createSecretVault(store.db);
      vault.unlock({ kind: 'passphrase', passphrase: 'the first passphrase' });
      const a = vault.store('password:a', 'alpha', 1);
      const b = vault.store('sudo:b', 'bravo', 1);
      const sealedBefore = store.db.prepare('SELECT sealed FROM secrets WHERE id = ?').get(a) as { sealed: Buffer };
      // Another process that unlocked with the old passphrase must not keep sealing with the old key.
      const elsewhere = createSecretVault(store.db);
      elsewhere.unlock({ kind: 'passphrase', passphrase: 'the first passphrase' });

      await expect(vault.changePassphrase('not the first one', 'the second passphrase')).rejects.toMatchObject({
        code: 'SECRETS_PASSPHRASE_WRONG',
      });
      await expect(vault.changePassphrase('the first passphrase', 'too short')).rejects.toMatchObject({ code: 'SECRETS_PASSPHRASE_WEAK' });
      expect(await vault.changePassphrase('the first passphrase', 'the second passphrase')).toEqual({ resealed: 2, unreadable: 0 });
      expect(
        (store.db.prepare('SELECT sealed FROM secrets WHERE id = ?').get(a) as { sealed: Buffer }).sealed.equals(sealedBefore.sealed),
      ).toBe(false);
      expect(vault.reveal(b)).toBe('bravo');

      expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'the first passphrase' })).toThrow(
        expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }),
      );
      expect(() => elsewhere.store('password:c', 'charlie', 1)).toThrow(
        expect.objectContaining({ code: 'SECRETS_LOCKED', message: expect.stringContaining('changed by another process') }),
      );
      const reopened = createSecretVault(store.db);
      await reopened.unlockAsync({ kind: 'passphrase', passphrase: 'the second passphrase' });
      expect(reopened.reveal(a)).toBe('alpha');
      expect(reopened.reveal(b)).toBe('bravo');
    },
    KDF_TEST_TIMEOUT_MS,
  );
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { caKeyPurpose, sealCaKey, unsealCaKey } from '../../../electron/backend/pki/seal-ca-key';
import { createSecretVault, type SecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((f) => f()),
);

function unlockedVault(): { store: Store; vault: SecretVault; dir: string } {
  const dir = makeTempDir();
  const store = openStore({ dataDir: dir.path });
  cleanups.push(
    () => dir.remove(),
    () => store.close(),
  );
  const vault = createSecretVault(store.db);
  // A random key as the desktop app's OS store gives: how the key is derived is the vault's test, not this one's
  // (a passphrase costs a 128 MiB scrypt per unlock, seconds on a loaded machine).
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  return { store, vault, dir: dir.path };
}

describe('the sealed CA key', () => {
  it('is stored only sealed, and opens again for the same install and CA', async () => {
    const { store, vault, dir } = unlockedVault();
    const ca = await createInstallCa({ installName: 'plant-7' });
    const id = sealCaKey(vault, 'plant-7', ca, 1);
    expect(store.db.prepare('SELECT purpose FROM secrets WHERE id = ?').get(id)).toEqual({ purpose: caKeyPurpose('plant-7') });
    expect(unsealCaKey(vault, id, 'plant-7', ca.certPem)).toEqual(ca);

    // Neither the PEM nor its base64 body is anywhere in the database files.
    const body = ca.keyPem.split('\n')[1]!;
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('sutazai.db'))) {
      expect(fs.readFileSync(path.join(dir, file)).includes(body), file).toBe(false);
    }
  });

  it('is not handed out for another purpose, nor another secret as a CA key', async () => {
    const { vault } = unlockedVault();
    const ca = await createInstallCa({ installName: 'plant-7' });
    const id = sealCaKey(vault, 'plant-7', ca);
    expect(() => unsealCaKey(vault, id, 'plant-8', ca.certPem)).toThrow(
      expect.objectContaining({ code: 'SECRETS_LOCKED', message: expect.stringContaining('install-ca-key:plant-7') }),
    );
    const password = vault.store('password:db-1', 'hunter2-hunter2', 1);
    expect(() => unsealCaKey(vault, password, 'plant-7', ca.certPem)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
  });

  it("refuses a key that is not the CA certificate's, sealing and unsealing", async () => {
    const { vault } = unlockedVault();
    const [ca, other] = await Promise.all([createInstallCa({ installName: 'plant-7' }), createInstallCa({ installName: 'plant-7' })]);
    expect(() => sealCaKey(vault, 'plant-7', { certPem: ca.certPem, keyPem: other.keyPem })).toThrow(
      expect.objectContaining({ code: 'PKI_KEY_MISMATCH' }),
    );
    const id = sealCaKey(vault, 'plant-7', other);
    expect(() => unsealCaKey(vault, id, 'plant-7', ca.certPem)).toThrow(expect.objectContaining({ code: 'PKI_KEY_MISMATCH' }));
  });

  it('cannot be sealed or opened while the vault is locked', async () => {
    const { store, vault } = unlockedVault();
    const ca = await createInstallCa({ installName: 'plant-7' });
    const id = sealCaKey(vault, 'plant-7', ca);
    const locked = createSecretVault(store.db);
    expect(() => sealCaKey(locked, 'plant-7', ca)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
    expect(() => unsealCaKey(locked, id, 'plant-7', ca.certPem)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateVaultKey, VAULT_KEY_FILE, type OsSecretStore } from '../../../electron/main/vault-key';
import { makeTempDir } from '../../support/temp-dir';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

/** Stands in for Electron's safeStorage (the binary is not on build machines): XOR with a fixed byte. */
function fakeStore(available = true, backend = 'gnome_libsecret'): OsSecretStore {
  const flip = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  return {
    isEncryptionAvailable: () => available,
    encryptString: (plain) => flip(Buffer.from(plain)),
    decryptString: (sealed) => flip(sealed).toString(),
    getSelectedStorageBackend: () => backend,
  };
}

describe('desktop vault key', () => {
  it('creates a random key sealed by the OS store, then returns the same key', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const first = loadOrCreateVaultKey(fakeStore(), dir.path);
    expect(first.reason).toBe('created');
    expect(first.key?.length).toBe(32);
    const file = path.join(dir.path, VAULT_KEY_FILE);
    expect(fs.readFileSync(file).includes(first.key!.toString('base64'))).toBe(false);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateVaultKey(fakeStore(), dir.path).key?.equals(first.key!)).toBe(true);
  });

  it('keeps secrets locked when there is no real OS store', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    expect(loadOrCreateVaultKey(fakeStore(false), dir.path).key).toBeNull();
    const plain = loadOrCreateVaultKey(fakeStore(true, 'basic_text'), dir.path);
    expect(plain.key === null).toBe(process.platform === 'linux');
  });
});

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeDataDir, VAULT_KEY_FILE } from '../shared-node/data-dir';

/** The part of Electron's safeStorage this needs; main.ts passes the real one. */
export interface OsSecretStore {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(sealed: Buffer): string;
  /** Linux only: 'basic_text' means no keyring, so "encryption" is a fixed key. */
  getSelectedStorageBackend?(): string;
}

export { VAULT_KEY_FILE };

/**
 * The desktop app's vault key: 32 random bytes sealed by the OS secret store (Keychain,
 * DPAPI, libsecret/kwallet) in the data directory. The backend seals passwords with it;
 * without the OS store it stays null and stored secrets stay locked.
 */
export function loadOrCreateVaultKey(store: OsSecretStore, dataDir: string): { key: Buffer | null; reason: string } {
  if (!store.isEncryptionAvailable()) return { key: null, reason: 'the OS secret store is not available' };
  if (process.platform === 'linux' && store.getSelectedStorageBackend?.() === 'basic_text') {
    return { key: null, reason: 'no keyring (gnome-keyring or kwallet) is running, so the OS secret store would not protect anything' };
  }
  const file = path.join(dataDir, VAULT_KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(store.decryptString(readFileSync(file)), 'base64');
    return key.length === 32 ? { key, reason: 'unsealed' } : { key: null, reason: `${file} does not hold a 32-byte key` };
  }
  makeDataDir(dataDir);
  const key = randomBytes(32);
  writeFileSync(file, store.encryptString(key.toString('base64')), { mode: 0o600, flag: 'wx' });
  return { key, reason: 'created' };
}

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((f) => f()));

function fresh(): { store: Store; dir: string } {
  const dir = makeTempDir();
  const store = openStore({ dataDir: dir.path });
  cleanups.push(() => dir.remove(), () => store.close());
  return { store, dir: dir.path };
}

describe('secret vault', () => {
  it('seals values so the database file never holds them in clear, and opens them again', () => {
    const { store, dir } = fresh();
    const vault = createSecretVault(store.db);
    vault.unlock({ kind: 'passphrase', passphrase: 'operator passphrase' });
    const id = vault.store('password:db-1', 'Tr0ub4dor&3-known', 1);
    expect(vault.reveal(id)).toBe('Tr0ub4dor&3-known');
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('sutazai.db'))) {
      expect(fs.readFileSync(path.join(dir, file)).includes('Tr0ub4dor&3-known'), file).toBe(false);
    }
  });

  it('is locked until unlocked, and refuses a wrong passphrase', () => {
    const { store } = fresh();
    const first = createSecretVault(store.db);
    expect(() => first.store('p', 'x', 1)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
    first.unlock({ kind: 'passphrase', passphrase: 'right passphrase' });
    const id = first.store('p', 'value', 1);
    const again = createSecretVault(store.db);
    expect(() => again.unlock({ kind: 'passphrase', passphrase: 'wrong passphrase' })).toThrow(expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }));
    expect(() => again.reveal(id)).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED' }));
    again.unlock({ kind: 'passphrase', passphrase: 'right passphrase' });
    expect(again.reveal(id)).toBe('value');
  });

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
    expect(() => vault.reveal(id, 'install-ca-key:plant-7')).toThrow(expect.objectContaining({ code: 'SECRETS_LOCKED', message: expect.stringContaining('sealed for password:db-1') }));
  });

  it('will not open an OS-store vault with a passphrase', () => {
    const { store } = fresh();
    createSecretVault(store.db).unlock({ kind: 'os-secret-store', key: Buffer.alloc(32, 1) });
    expect(() => createSecretVault(store.db).unlock({ kind: 'passphrase', passphrase: 'long enough' })).toThrow(expect.objectContaining({ code: 'SECRETS_PASSPHRASE_WRONG' }));
  });
});

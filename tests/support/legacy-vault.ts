import { randomBytes, scryptSync } from 'node:crypto';
import { seal } from '../../electron/backend/secrets/sealed-box';
import { migrations } from '../../electron/backend/store/migrations';
import { openStore } from '../../electron/backend/store/open-store';

/**
 * A data directory's vault as the app made it before the vault stored its key-stretching
 * parameters (schema 8, scrypt N=2^14, any passphrase of 8+ characters), with `secrets`
 * (purpose -> value) sealed in it. Returns the secrets' row ids by purpose.
 */
export function makeLegacyVault(dataDir: string, passphrase: string, secrets: Record<string, string>): Record<string, number> {
  const store = openStore({ dataDir, migrations: migrations.filter((m) => m.version <= 8) });
  try {
    const salt = randomBytes(16);
    const key = scryptSync(passphrase.normalize('NFC'), salt, 32, { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    store.db
      .prepare('INSERT INTO vault (id, key_source, salt, verifier, created_at) VALUES (1, ?, ?, ?, ?)')
      .run('passphrase', salt, seal(key, 'sutazai-vault-v1', 'vault'), 1);
    const ids: Record<string, number> = {};
    for (const [purpose, value] of Object.entries(secrets)) {
      const id = Number(
        store.db
          .prepare('INSERT INTO secrets (purpose, scheme, sealed, created_at) VALUES (?, ?, ?, ?)')
          .run(purpose, 'aes-256-gcm', Buffer.alloc(0), 1).lastInsertRowid,
      );
      store.db.prepare('UPDATE secrets SET sealed = ? WHERE id = ?').run(seal(key, value, `${id}:${purpose}`), id);
      ids[purpose] = id;
    }
    return ids;
  } finally {
    store.close();
  }
}

import { randomBytes, scryptSync } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '../../contract';
import { open, seal } from './sealed-box';

/**
 * Where the vault key comes from: the OS secret store (the desktop shell unwraps a
 * random key with Electron's safeStorage and hands it over), or a passphrase the
 * operator controls (web mode, CLI, tests), stretched with scrypt.
 */
export type VaultKeySource =
  | { kind: 'os-secret-store'; key: Buffer }
  | { kind: 'passphrase'; passphrase: string };

// scrypt cost: ~50 ms and 16 MiB on a laptop; paid once per unlock, not per secret.
const SCRYPT = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const VERIFIER_TEXT = 'sutazai-vault-v1';

export interface SecretVault {
  readonly unlocked: boolean;
  unlock(source: VaultKeySource): void;
  /** Seals a secret and returns its row id; the clear value never touches the database. */
  store(purpose: string, plaintext: string, now: number): number;
  /**
   * Opens a secret. With `purpose`, a row sealed for another purpose is refused, so a
   * mixed-up id cannot hand one kind of secret to code that expects another.
   */
  reveal(secretId: number, purpose?: string): string;
  remove(secretId: number): void;
}

export function createSecretVault(db: Database.Database): SecretVault {
  let key: Buffer | null = null;
  const selectVault = db.prepare<[], { key_source: string; salt: Buffer; verifier: Buffer }>('SELECT key_source, salt, verifier FROM vault WHERE id = 1');
  const insertVault = db.prepare('INSERT INTO vault (id, key_source, salt, verifier, created_at) VALUES (1, ?, ?, ?, ?)');
  const insertSecret = db.prepare('INSERT INTO secrets (purpose, scheme, sealed, created_at) VALUES (?, ?, ?, ?)');
  const selectSecret = db.prepare<[number], { purpose: string; sealed: Buffer }>('SELECT purpose, sealed FROM secrets WHERE id = ?');
  const deleteSecret = db.prepare('DELETE FROM secrets WHERE id = ?');
  const updateSealed = db.prepare('UPDATE secrets SET sealed = ? WHERE id = ?');
  const storeTx = db.transaction((k: Buffer, purpose: string, plaintext: string, now: number): number => {
    const id = Number(insertSecret.run(purpose, 'aes-256-gcm', Buffer.alloc(0), now).lastInsertRowid);
    updateSealed.run(seal(k, plaintext, `${id}:${purpose}`), id);
    return id;
  });

  const deriveKey = (source: VaultKeySource, salt: Buffer): Buffer =>
    source.kind === 'passphrase' ? scryptSync(source.passphrase.normalize('NFC'), salt, 32, SCRYPT) : source.key;

  const requireKey = (): Buffer => {
    if (key) return key;
    throw new ApiError(
      'SECRETS_LOCKED',
      'Stored passwords and passphrases are sealed and the vault is not unlocked.',
      'In web mode or the CLI, set SUTAZAI_PASSPHRASE (or --passphrase-file) to the passphrase that protects this data directory; the desktop app unlocks it with the OS secret store.',
    );
  };

  return {
    get unlocked() {
      return key !== null;
    },
    unlock(source) {
      if (source.kind === 'os-secret-store' && source.key.length !== 32) {
        throw new ApiError('SECRETS_LOCKED', 'The key from the OS secret store has the wrong length.', 'Restart the app; if it persists, report it.');
      }
      if (source.kind === 'passphrase' && source.passphrase.length < 8) {
        throw new ApiError('SECRETS_PASSPHRASE_WRONG', 'The vault passphrase must have at least 8 characters.', 'Choose a longer passphrase.');
      }
      const row = selectVault.get();
      if (!row) {
        // First unlock of this data directory: this source becomes its key.
        const salt = randomBytes(16);
        const derived = deriveKey(source, salt);
        insertVault.run(source.kind, salt, seal(derived, VERIFIER_TEXT, 'vault'), Date.now());
        key = derived;
        return;
      }
      if (row.key_source !== source.kind) {
        throw new ApiError(
          'SECRETS_PASSPHRASE_WRONG',
          `This data directory's secrets are sealed with ${row.key_source === 'passphrase' ? 'an operator passphrase' : 'the OS secret store of the desktop app'}, not ${source.kind === 'passphrase' ? 'a passphrase' : 'the OS secret store'}.`,
          row.key_source === 'passphrase' ? 'Set SUTAZAI_PASSPHRASE to the passphrase chosen when the first secret was stored.' : 'Open this data directory with the desktop app that created it.',
        );
      }
      const derived = deriveKey(source, row.salt);
      if (open(derived, row.verifier, 'vault') !== VERIFIER_TEXT) {
        throw new ApiError('SECRETS_PASSPHRASE_WRONG', 'The passphrase does not open this data directory’s secrets.', 'Use the passphrase chosen when the first secret was stored (SUTAZAI_PASSPHRASE).');
      }
      key = derived;
    },
    store(purpose, plaintext, now) {
      const k = requireKey();
      // The row id and purpose are bound into the seal, so a sealed value cannot be
      // swapped into another host's slot.
      return storeTx(k, purpose, plaintext, now);
    },
    reveal(secretId, purpose) {
      const k = requireKey();
      const row = selectSecret.get(secretId);
      if (row && purpose !== undefined && row.purpose !== purpose) {
        throw new ApiError(
          'SECRETS_LOCKED',
          `Stored secret ${secretId} was sealed for ${row.purpose}, not for ${purpose}.`,
          'This is a defect of the app (a secret id was mixed up): report it with the app log.',
        );
      }
      const value = row ? open(k, row.sealed, `${secretId}:${row.purpose}`) : null;
      if (value === null) {
        throw new ApiError('SECRETS_LOCKED', `Stored secret ${secretId} is missing or cannot be opened.`, 'Enter the password or passphrase again in the host settings.');
      }
      return value;
    },
    remove(secretId) {
      deleteSecret.run(secretId);
    },
  };
}

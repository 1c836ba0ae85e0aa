import type { Migration } from './migration';

export const migration032: Migration = {
  version: 32,
  name: 'host-key-text',
  up(db) {
    db.exec(`
      -- Key login with the private key itself, sent as text (web mode cannot name a file on
      -- this machine): the key is sealed in the vault like a password, never stored in clear.
      -- secret_id keeps the key's passphrase, as it does for a key file.
      ALTER TABLE hosts ADD COLUMN key_secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL;
    `);
  },
};

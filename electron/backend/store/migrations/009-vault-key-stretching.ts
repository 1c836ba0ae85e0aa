import type { Migration } from './migration';

export const migration009: Migration = {
  version: 9,
  name: 'the vault records how its key is stretched from the passphrase',
  up(db) {
    db.exec(`
      -- JSON scrypt parameters ({"alg":"scrypt","N":..,"r":..,"p":..}); NULL for a key
      -- from the OS secret store, which is used as it is. Vaults made before this ran
      -- used N=2^14; they are re-sealed with stronger parameters on their next unlock.
      ALTER TABLE vault ADD COLUMN kdf TEXT;
      UPDATE vault SET kdf = '{"alg":"scrypt","N":16384,"r":8,"p":1}' WHERE key_source = 'passphrase';
    `);
  },
};

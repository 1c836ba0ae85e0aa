import type Database from 'better-sqlite3';
import { ApiError, type MethodResult } from '../../contract';
import type { SecretVault } from './secret-vault';

type VaultStatus = MethodResult<'secrets.status'>;

export interface VaultUnlockLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** The vault as the API offers it: its status, and opening it with a passphrase. */
export interface VaultAccess {
  status(): VaultStatus;
  unlockWithPassphrase(passphrase: string): VaultStatus;
}

/**
 * Lets an operator open a locked vault from the window (web mode started without
 * SUTAZAI_PASSPHRASE) instead of restarting with it: the passphrase goes to the vault's
 * own unlock and nowhere else; the log says that it was opened or refused, never with what.
 * The desktop app's vault is opened by the shell with the OS secret store, so a
 * passphrase is refused there rather than allowed to seal a fresh data directory.
 */
export function createVaultAccess(db: Database.Database, vault: SecretVault, options: { acceptsPassphrase: boolean; logger: VaultUnlockLogger }): VaultAccess {
  const selectSource = db.prepare<[], { key_source: string }>('SELECT key_source FROM vault WHERE id = 1');

  const status = (): VaultStatus => {
    const source = selectSource.get()?.key_source;
    const sealedWith = source === 'passphrase' || source === 'os-secret-store' ? source : 'none';
    return { unlocked: vault.unlocked, sealedWith, acceptsPassphrase: options.acceptsPassphrase && sealedWith !== 'os-secret-store' };
  };

  return {
    status,
    unlockWithPassphrase(passphrase) {
      const before = status();
      if (!options.acceptsPassphrase) {
        throw new ApiError(
          'SECRETS_LOCKED',
          'The desktop app opens its sealed secrets with the OS secret store, not with a passphrase.',
          'Restart the app; if the secrets stay locked, check that the OS keyring is unlocked.',
        );
      }
      try {
        vault.unlock({ kind: 'passphrase', passphrase });
      } catch (error) {
        options.logger.warn({ code: error instanceof ApiError ? error.code : 'INTERNAL' }, 'vault unlock through the API refused');
        throw error;
      }
      options.logger.info({ created: before.sealedWith === 'none' }, before.sealedWith === 'none' ? 'vault sealed with a new passphrase through the API' : 'vault unlocked through the API');
      return status();
    },
  };
}

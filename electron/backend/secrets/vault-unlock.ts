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
  unlockWithPassphrase(passphrase: string): Promise<VaultStatus>;
  /** Re-seals every stored secret under a new passphrase; only the new one opens the data directory afterwards. */
  changePassphrase(passphrase: string, newPassphrase: string): Promise<{ resealed: number; unreadable: number }>;
}

/**
 * Lets an operator open a locked vault from the window (web mode started without
 * SUTAZAI_PASSPHRASE) instead of restarting with it: the passphrase goes to the vault's
 * own unlock and nowhere else; the log says that it was opened or refused, never with what.
 * The desktop app's vault is opened by the shell with the OS secret store, so a
 * passphrase is refused there rather than allowed to seal a fresh data directory.
 */
export function createVaultAccess(
  db: Database.Database,
  vault: SecretVault,
  options: { acceptsPassphrase: boolean; logger: VaultUnlockLogger },
): VaultAccess {
  const selectSource = db.prepare<[], { key_source: string }>('SELECT key_source FROM vault WHERE id = 1');

  const status = (): VaultStatus => {
    const source = selectSource.get()?.key_source;
    const sealedWith = source === 'passphrase' || source === 'os-secret-store' ? source : 'none';
    return { unlocked: vault.unlocked, sealedWith, acceptsPassphrase: options.acceptsPassphrase && sealedWith !== 'os-secret-store' };
  };

  return {
    status,
    async unlockWithPassphrase(passphrase) {
      const before = status();
      if (!options.acceptsPassphrase) throw passphraseRefusedError();
      let outcome;
      try {
        // Off the event loop: stretching the passphrase takes 128 MiB and a noticeable moment, and other clients keep being answered.
        outcome = await vault.unlockAsync({ kind: 'passphrase', passphrase });
      } catch (error) {
        options.logger.warn({ code: error instanceof ApiError ? error.code : 'INTERNAL' }, 'vault unlock through the API refused');
        throw error;
      }
      options.logger.info(
        { created: before.sealedWith === 'none', upgraded: outcome.upgraded },
        before.sealedWith === 'none' ? 'vault sealed with a new passphrase through the API' : 'vault unlocked through the API',
      );
      if (outcome.warning) options.logger.warn({ remedy: outcome.warning.remedy }, outcome.warning.message);
      return status();
    },
    async changePassphrase(passphrase, newPassphrase) {
      if (!options.acceptsPassphrase) throw passphraseRefusedError();
      try {
        const result = await vault.changePassphrase(passphrase, newPassphrase);
        options.logger.info(result, 'vault passphrase changed through the API: every secret re-sealed');
        return result;
      } catch (error) {
        options.logger.warn(
          { code: error instanceof ApiError ? error.code : 'INTERNAL' },
          'vault passphrase change through the API refused',
        );
        throw error;
      }
    },
  };
}

function passphraseRefusedError(): ApiError {
  return new ApiError(
    'SECRETS_LOCKED',
    'The desktop app opens its sealed secrets with the OS secret store, not with a passphrase.',
    'Restart the app; if the secrets stay locked, check that the OS keyring is unlocked.',
  );
}

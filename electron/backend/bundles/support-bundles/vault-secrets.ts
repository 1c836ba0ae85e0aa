import type Database from 'better-sqlite3';
import { ApiError } from '../../../contract';
import { UNLOCK_VAULT_REMEDY, type SecretVault } from '../../secrets/secret-vault';

/**
 * Every secret the vault holds, in clear: a support bundle replaces each wherever it
 * appears, so an SSH or sudo password that a program wrote to its log without a
 * `password=` before it is still never carried off the site. A locked vault that holds
 * secrets is refused, not passed over: a bundle made then would keep those passwords
 * wherever a program printed them, and its preview could not say so.
 */
export function vaultSecrets(db: Database.Database, vault: Pick<SecretVault, 'unlocked' | 'reveal'>): string[] {
  const ids = db.prepare<[], { id: number }>('SELECT id FROM secrets').all();
  if (ids.length === 0) return [];
  if (!vault.unlocked)
    throw new ApiError(
      'SECRETS_LOCKED',
      'A support bundle replaces every stored password wherever it appears, so it needs the vault unlocked, and it is locked.',
      UNLOCK_VAULT_REMEDY,
    );
  const secrets: string[] = [];
  for (const { id } of ids) {
    try {
      secrets.push(vault.reveal(id));
    } catch {
      // A secret sealed under an older key the vault can no longer open: it cannot appear in clear here either.
    }
  }
  return secrets;
}

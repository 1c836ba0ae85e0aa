import type Database from 'better-sqlite3';
import type { SecretVault } from '../../secrets/secret-vault';

/**
 * Every secret the vault holds, in clear, while it is unlocked (none while locked): a support
 * bundle replaces each wherever it appears, so an SSH or sudo password that a program wrote
 * to its log without a `password=` before it is still never carried off the site.
 */
export function vaultSecrets(db: Database.Database, vault: Pick<SecretVault, 'unlocked' | 'reveal'>): string[] {
  if (!vault.unlocked) return [];
  const ids = db.prepare<[], { id: number }>('SELECT id FROM secrets').all();
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

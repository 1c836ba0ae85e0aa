import Database from 'better-sqlite3';
import path from 'node:path';
import { createSecretVault } from '../../electron/backend/secrets/secret-vault';

/**
 * A host's sealed login secret, opened with the data directory's passphrase through a second
 * connection to its database and a vault of its own: proof that a secret is sealed, not lost,
 * without reaching into a running backend.
 */
export function revealHostSecret(dataDir: string, passphrase: string, hostName: string, purpose?: string): string {
  const db = new Database(path.join(dataDir, 'sutazai.db'));
  try {
    const row = db.prepare('SELECT secret_id AS secretId FROM hosts WHERE name = ?').get(hostName) as
      { secretId: number | null } | undefined;
    if (!row || row.secretId === null) throw new Error(`host ${hostName} has no sealed secret`);
    const vault = createSecretVault(db);
    vault.unlock({ kind: 'passphrase', passphrase });
    return vault.reveal(row.secretId, purpose);
  } finally {
    db.close();
  }
}

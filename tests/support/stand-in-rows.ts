import type Database from 'better-sqlite3';
import { createBundleKeysRepo } from '../../electron/backend/store/bundle-keys-repo';
import { createBundlesRepo } from '../../electron/backend/store/bundles-repo';
import { createHostsRepo, type HostRow } from '../../electron/backend/store/hosts-repo';

/**
 * Rows that tests of what reads the store put there directly: an SSH host nothing reaches and
 * a bundle with no file behind it. They stand in for what hosts.add and bundles.import record.
 */

/** An SSH host of the inventory (root, agent login; port 22 unless given) that nothing connects to. */
export function addStandInHost(db: Database.Database, name: string, address: string, port = 22): HostRow {
  return createHostsRepo(db).insertSsh(
    {
      name,
      address,
      port,
      user: 'root',
      authMethod: 'agent',
      keyPath: null,
      secretId: null,
      sudoSecretId: null,
      jumpHostId: null,
      role: null,
      labels: [],
    },
    1,
  );
}

/** A bundle row `sutazai@0.1.0` signed by a trusted stand-in key; answers its id. */
export function seedStandInBundle(db: Database.Database): number {
  const fingerprint = `SHA256:${'A'.repeat(43)}`;
  createBundleKeysRepo(db).trust({ fingerprint, publicKey: Buffer.alloc(32, 1), label: 'release' }, 1, 'cli');
  return createBundlesRepo(db).insert({
    name: 'sutazai',
    version: '0.1.0',
    signerFingerprint: fingerprint,
    manifest: '{}',
    fileSha256: 'a'.repeat(64),
    size: 10,
    path: 'bundles/x',
    importedAt: 1,
  });
}

import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBundleKeysRepo } from '../../../electron/backend/store/bundle-keys-repo';
import { createBundlesRepo, type BundleRow } from '../../../electron/backend/store/bundles-repo';
import { openMemoryStore } from '../../support/memory-store';

let db: Database.Database;
beforeEach(() => {
  db = openMemoryStore();
});
afterEach(() => db.close());

const key = { fingerprint: `SHA256:${'A'.repeat(43)}`, publicKey: Buffer.alloc(32, 1), label: 'release' };
const row = (sha: string): Omit<BundleRow, 'id'> => ({
  name: 'sutazai',
  version: '0.1.0',
  signerFingerprint: key.fingerprint,
  manifest: '{}',
  fileSha256: sha,
  size: 10,
  path: `bundles/sutazai-0.1.0-${sha.slice(0, 12)}.sutazai-bundle`,
  importedAt: 1,
});

describe('bundle tables (migration 4)', () => {
  it('records a bundle only under a trusted key, and keeps the key while a bundle names it', () => {
    const keys = createBundleKeysRepo(db);
    const bundles = createBundlesRepo(db);
    expect(() => bundles.insert(row('a'.repeat(64)))).toThrow(/FOREIGN KEY/);
    keys.trust(key, 5, 'cli');
    const id = bundles.insert(row('a'.repeat(64)));
    expect(bundles.get(id)).toMatchObject({ id, signerFingerprint: key.fingerprint });
    expect(keys.get(key.fingerprint)).toEqual({ ...key, trustedAt: 5, trustSource: 'cli' });
    expect(() => db.prepare('DELETE FROM bundle_signing_keys').run()).toThrow(/FOREIGN KEY/);
  });

  it('holds one row per distinct file and refuses a public key that is not 32 bytes', () => {
    const keys = createBundleKeysRepo(db);
    const bundles = createBundlesRepo(db);
    keys.trust(key, 5, 'cli');
    bundles.insert(row('b'.repeat(64)));
    expect(() => bundles.insert(row('b'.repeat(64)))).toThrow(/UNIQUE/);
    expect(bundles.bySha256('b'.repeat(64))?.version).toBe('0.1.0');
    expect(() => keys.trust({ ...key, fingerprint: 'SHA256:other', publicKey: Buffer.alloc(31) }, 5, 'cli')).toThrow(/CHECK/);
  });
});

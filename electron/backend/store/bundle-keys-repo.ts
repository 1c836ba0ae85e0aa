import type Database from 'better-sqlite3';

export interface TrustedBundleKeyRow {
  fingerprint: string;
  publicKey: Buffer;
  label: string;
  trustedAt: number;
  trustSource: string;
}

export interface BundleKeysRepo {
  get(fingerprint: string): TrustedBundleKeyRow | null;
  list(): TrustedBundleKeyRow[];
  trust(key: { fingerprint: string; publicKey: Buffer; label: string }, now: number, source: string): void;
}

/** The bundle signing keys the operator trusts, by fingerprint. */
export function createBundleKeysRepo(db: Database.Database): BundleKeysRepo {
  const columns = 'fingerprint, public_key AS publicKey, label, trusted_at AS trustedAt, trust_source AS trustSource';
  const selectOne = db.prepare<[string], TrustedBundleKeyRow>(`SELECT ${columns} FROM bundle_signing_keys WHERE fingerprint = ?`);
  const selectAll = db.prepare<[], TrustedBundleKeyRow>(`SELECT ${columns} FROM bundle_signing_keys ORDER BY trusted_at, fingerprint`);
  const insert = db.prepare(
    'INSERT INTO bundle_signing_keys (fingerprint, public_key, label, trusted_at, trust_source) VALUES (?, ?, ?, ?, ?)',
  );
  return {
    get: (fingerprint: string): TrustedBundleKeyRow | null => selectOne.get(fingerprint) ?? null,
    list: (): TrustedBundleKeyRow[] => selectAll.all(),
    trust(key: { fingerprint: string; publicKey: Buffer; label: string }, now: number, source: string): void {
      insert.run(key.fingerprint, key.publicKey, key.label, now, source);
    },
  };
}

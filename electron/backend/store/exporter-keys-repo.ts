import type Database from 'better-sqlite3';

export interface TrustedExporterRow {
  fingerprint: string;
  publicKey: Buffer;
  label: string;
  trustedAt: number;
  trustSource: string;
}

export interface OwnSigningKeyRow {
  publicKey: Buffer;
  fingerprint: string;
  privateSecretId: number;
  createdAt: number;
}

export interface ExporterKeysRepo {
  own(): OwnSigningKeyRow | null;
  /** Records the control center's key once; false when another process recorded one first. */
  setOwn(row: OwnSigningKeyRow): boolean;
  trusted(fingerprint: string): TrustedExporterRow | null;
  listTrusted(): TrustedExporterRow[];
  trust(key: { fingerprint: string; publicKey: Buffer; label: string }, now: number, source: string): void;
  /** Forgets a trusted exporter; false when it was not trusted. Its bundles are then untrusted, like any unknown key. */
  revoke(fingerprint: string): boolean;
}

/** The keys configuration bundles are signed with: this control center's own, and the exporters it trusts. */
export function createExporterKeysRepo(db: Database.Database): ExporterKeysRepo {
  const selectOwn = db.prepare<[], OwnSigningKeyRow>(
    'SELECT public_key AS publicKey, fingerprint, private_secret_id AS privateSecretId, created_at AS createdAt FROM control_center_key WHERE id = 1',
  );
  const insertOwn = db.prepare(
    'INSERT OR IGNORE INTO control_center_key (id, public_key, fingerprint, private_secret_id, created_at) VALUES (1, ?, ?, ?, ?)',
  );
  const columns = 'fingerprint, public_key AS publicKey, label, trusted_at AS trustedAt, trust_source AS trustSource';
  const selectOne = db.prepare<[string], TrustedExporterRow>(`SELECT ${columns} FROM trusted_exporters WHERE fingerprint = ?`);
  const selectAll = db.prepare<[], TrustedExporterRow>(`SELECT ${columns} FROM trusted_exporters ORDER BY trusted_at, fingerprint`);
  const insert = db.prepare(
    'INSERT OR IGNORE INTO trusted_exporters (fingerprint, public_key, label, trusted_at, trust_source) VALUES (?, ?, ?, ?, ?)',
  );
  const remove = db.prepare('DELETE FROM trusted_exporters WHERE fingerprint = ?');
  return {
    own: () => selectOwn.get() ?? null,
    setOwn: (row) => insertOwn.run(row.publicKey, row.fingerprint, row.privateSecretId, row.createdAt).changes === 1,
    trusted: (fingerprint) => selectOne.get(fingerprint) ?? null,
    listTrusted: () => selectAll.all(),
    trust(key, now, source) {
      insert.run(key.fingerprint, key.publicKey, key.label, now, source);
    },
    revoke: (fingerprint) => remove.run(fingerprint).changes === 1,
  };
}

import type Database from 'better-sqlite3';

export interface BundleRow {
  id: number;
  name: string;
  version: string;
  signerFingerprint: string;
  /** bundle.json as the bundle carried it. */
  manifest: string;
  fileSha256: string;
  size: number;
  path: string;
  importedAt: number;
}

export interface BundlesRepo {
  list(): BundleRow[];
  bySha256(sha256: string): BundleRow | null;
  get(id: number): BundleRow | null;
  /** The file imported as name@version: one, or several in a data directory from before they were refused. */
  byRelease(name: string, version: string): BundleRow[];
  insert(row: Omit<BundleRow, 'id'>): number;
}

/** Imported release bundles; the file itself lives at `path` in the data directory. */
export function createBundlesRepo(db: Database.Database): BundlesRepo {
  const columns =
    'id, name, version, signer_fingerprint AS signerFingerprint, manifest, file_sha256 AS fileSha256, size, path, imported_at AS importedAt';
  const selectAll = db.prepare<[], BundleRow>(`SELECT ${columns} FROM bundles ORDER BY imported_at DESC, id DESC`);
  const selectBySha = db.prepare<[string], BundleRow>(`SELECT ${columns} FROM bundles WHERE file_sha256 = ?`);
  const selectById = db.prepare<[number], BundleRow>(`SELECT ${columns} FROM bundles WHERE id = ?`);
  const selectByRelease = db.prepare<[string, string], BundleRow>(
    `SELECT ${columns} FROM bundles WHERE name = ? AND version = ? ORDER BY id`,
  );
  const insert = db.prepare(
    'INSERT INTO bundles (name, version, signer_fingerprint, manifest, file_sha256, size, path, imported_at) VALUES (@name, @version, @signerFingerprint, @manifest, @fileSha256, @size, @path, @importedAt)',
  );
  return {
    list: (): BundleRow[] => selectAll.all(),
    bySha256: (sha256: string): BundleRow | null => selectBySha.get(sha256) ?? null,
    get: (id: number): BundleRow | null => selectById.get(id) ?? null,
    byRelease: (name: string, version: string): BundleRow[] => selectByRelease.all(name, version),
    insert(row: Omit<BundleRow, 'id'>): number {
      return Number(insert.run(row).lastInsertRowid);
    },
  };
}

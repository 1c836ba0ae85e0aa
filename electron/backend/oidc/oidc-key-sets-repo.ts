import type Database from 'better-sqlite3';

/** The key set last read per provider source (migration 028): what a restarted control center pushes before its first read. */
export interface OidcKeySetsRepo {
  all(): Map<string, string>;
  save(source: string, jwksJson: string, readAt: number): void;
}

export function createOidcKeySetsRepo(db: Database.Database): OidcKeySetsRepo {
  const select = db.prepare<[], { source: string; jwks_json: string }>('SELECT source, jwks_json FROM oidc_key_sets');
  const upsert = db.prepare(
    `INSERT INTO oidc_key_sets (source, jwks_json, read_at) VALUES (?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET jwks_json = excluded.jwks_json, read_at = excluded.read_at`,
  );
  return {
    all: () => new Map(select.all().map((row) => [row.source, row.jwks_json])),
    save: (source, jwksJson, readAt) => void upsert.run(source, jwksJson, readAt),
  };
}

import type Database from 'better-sqlite3';
import { ApiErrorBodySchema, type ApiErrorBody, type LastProbe } from '../../contract';

export interface ProbeOutcomesRepo {
  record(hostId: number, at: number, error: ApiErrorBody | null): void;
  get(hostId: number): LastProbe | null;
}

/** How each host's last probe ended: what the hosts list shows as its status. */
export function createProbeOutcomesRepo(db: Database.Database): ProbeOutcomesRepo {
  const upsert = db.prepare(`INSERT INTO probe_outcomes (host_id, at, ok, error_code, error_message, error_remedy) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (host_id) DO UPDATE SET at = excluded.at, ok = excluded.ok, error_code = excluded.error_code,
    error_message = excluded.error_message, error_remedy = excluded.error_remedy`);
  const select = db.prepare<
    [number],
    { at: number; ok: number; error_code: string | null; error_message: string | null; error_remedy: string | null }
  >('SELECT at, ok, error_code, error_message, error_remedy FROM probe_outcomes WHERE host_id = ?');

  return {
    record(hostId: number, at: number, error: ApiErrorBody | null): void {
      upsert.run(hostId, at, error ? 0 : 1, error?.code ?? null, error?.message ?? null, error?.remedy ?? null);
    },
    get(hostId: number): LastProbe | null {
      const row = select.get(hostId);
      if (!row) return null;
      const error = row.ok
        ? null
        : ApiErrorBodySchema.safeParse({ code: row.error_code, message: row.error_message, remedy: row.error_remedy });
      return { at: row.at, ok: row.ok === 1, error: error?.success ? error.data : null };
    },
  };
}

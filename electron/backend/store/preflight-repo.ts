import type Database from 'better-sqlite3';
import { HostPreflightSchema, summarizePreflight, type HostPreflight, type LatestPreflightPage } from '../../contract';

export interface PreflightRepo {
  save(result: HostPreflight): void;
  history(hostId: number, limit: number): HostPreflight[];
  /** The newest result of each of the `limit` hosts after `after`; `next` is null after the last page. */
  latestPage(after: number, limit: number): LatestPreflightPage;
}

/** Preflight results, each tied to the facts snapshot it judged. */
export function createPreflightRepo(db: Database.Database): PreflightRepo {
  const latestSnapshot = db.prepare<[number], { id: number }>(
    'SELECT id FROM facts_snapshots WHERE host_id = ? ORDER BY probed_at DESC, id DESC LIMIT 1',
  );
  const insert = db.prepare(
    'INSERT INTO preflight_results (host_id, snapshot_id, profile, ran_at, outcome, results) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare<[number, number], { results: string }>(
    'SELECT results FROM preflight_results WHERE host_id = ? ORDER BY ran_at DESC, id DESC LIMIT ?',
  );
  // The newest result of each host in one page of the inventory (id order), in one query;
  // a host without a result still counts toward the page.
  const selectLatestPage = db.prepare<[number, number], { hostId: number; results: string | null }>(`
    SELECT h.id AS hostId, p.results AS results
    FROM (SELECT id FROM hosts WHERE id > ? ORDER BY id LIMIT ?) h
    LEFT JOIN preflight_results p ON p.id = (SELECT q.id FROM preflight_results q WHERE q.host_id = h.id ORDER BY q.ran_at DESC, q.id DESC LIMIT 1)
    ORDER BY h.id`);
  const parseRows = (rows: Array<{ results: string }>): HostPreflight[] =>
    rows
      .map((row) => HostPreflightSchema.safeParse(JSON.parse(row.results)))
      .filter((r) => r.success)
      .map((r) => r.data);

  return {
    save(result: HostPreflight): void {
      insert.run(
        result.hostId,
        latestSnapshot.get(result.hostId)?.id ?? null,
        result.profile,
        result.ranAt,
        result.outcome,
        JSON.stringify(result),
      );
    },
    history(hostId: number, limit: number): HostPreflight[] {
      return parseRows(select.all(hostId, limit));
    },
    latestPage(after: number, limit: number): LatestPreflightPage {
      const rows = selectLatestPage.all(after, limit);
      const results = parseRows(rows.flatMap((row) => (row.results === null ? [] : [{ results: row.results }]))).map(summarizePreflight);
      return { results, next: rows.length === limit ? rows[rows.length - 1]!.hostId : null };
    },
  };
}

import type Database from 'better-sqlite3';
import { HostPreflightSchema, type HostPreflight } from '../../contract';

/** Preflight results, each tied to the facts snapshot it judged. */
export function createPreflightRepo(db: Database.Database) {
  const latestSnapshot = db.prepare<[number], { id: number }>('SELECT id FROM facts_snapshots WHERE host_id = ? ORDER BY probed_at DESC, id DESC LIMIT 1');
  const insert = db.prepare('INSERT INTO preflight_results (host_id, snapshot_id, profile, ran_at, outcome, results) VALUES (?, ?, ?, ?, ?, ?)');
  const select = db.prepare<[number, number], { results: string }>('SELECT results FROM preflight_results WHERE host_id = ? ORDER BY ran_at DESC, id DESC LIMIT ?');
  // The newest result of every host in one query (the hosts list's preflight column).
  const selectLatest = db.prepare<[], { results: string }>(`SELECT results FROM preflight_results WHERE id IN (
    SELECT (SELECT q.id FROM preflight_results q WHERE q.host_id = h.id ORDER BY q.ran_at DESC, q.id DESC LIMIT 1) FROM hosts h)`);
  const parseRows = (rows: Array<{ results: string }>): HostPreflight[] =>
    rows
      .map((row) => HostPreflightSchema.safeParse(JSON.parse(row.results)))
      .filter((r) => r.success)
      .map((r) => r.data);

  return {
    save(result: HostPreflight): void {
      insert.run(result.hostId, latestSnapshot.get(result.hostId)?.id ?? null, result.profile, result.ranAt, result.outcome, JSON.stringify(result));
    },
    history(hostId: number, limit: number): HostPreflight[] {
      return parseRows(select.all(hostId, limit));
    },
    latestPerHost(): HostPreflight[] {
      return parseRows(selectLatest.all());
    },
  };
}

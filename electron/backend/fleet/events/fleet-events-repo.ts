import type Database from 'better-sqlite3';
import type { EventsListParams, EventsPage, FleetEvent, FleetEventCursor, FleetEventOrigin } from '../../../contract';

/** One event as it is written (the id and the recording time come from the store). */
export interface FleetEventRow {
  atMs: number;
  kind: string;
  origin: FleetEventOrigin;
  installName: string | null;
  hostId: number | null;
  hostName: string | null;
  process: string | null;
  instance: string | null;
  state: string | null;
  message: string;
  error: { code: string; message: string; remedy: string } | null;
  lastLines: readonly string[];
  actor: string | null;
  dedupKey: string | null;
}

/** Where a host's runtime events were read up to. */
export interface RuntimeEventCursor {
  runStartedAtMs: number;
  sequence: number;
  atMs: number;
}

export interface FleetEventsRepo {
  /** Inserts the row; null when a row with its dedup key is already there. */
  insert(row: FleetEventRow, recordedAtMs: number): FleetEvent | null;
  list(params: EventsListParams): EventsPage;
  /** Rows recorded after `id`, oldest first, at most `limit`. */
  after(id: number, limit: number): FleetEvent[];
  newestId(): number;
  cursor(hostId: number): RuntimeEventCursor | null;
  setCursor(hostId: number, cursor: RuntimeEventCursor): void;
  /** Deletes events older than `beforeMs` and all but the newest `keep`; returns how many went. */
  prune(beforeMs: number, keep: number): number;
  count(): number;
}

interface DbRow {
  id: number;
  at_ms: number;
  kind: string;
  origin: FleetEventOrigin;
  install_name: string | null;
  host_id: number | null;
  host_name: string | null;
  process: string | null;
  instance: string | null;
  state: string | null;
  message: string;
  error_code: string | null;
  error_message: string | null;
  error_remedy: string | null;
  last_lines: string | null;
  actor: string | null;
}

function toEvent(row: DbRow): FleetEvent {
  return {
    id: row.id,
    atMs: row.at_ms,
    kind: row.kind,
    origin: row.origin,
    installName: row.install_name,
    hostId: row.host_id,
    hostName: row.host_name,
    process: row.process,
    instance: row.instance,
    state: row.state,
    message: row.message,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '', remedy: row.error_remedy ?? '' },
    lastLines: row.last_lines === null ? [] : (JSON.parse(row.last_lines) as string[]),
    actor: row.actor,
  };
}

const COLUMNS =
  'id, at_ms, kind, origin, install_name, host_id, host_name, process, instance, state, message, error_code, error_message, error_remedy, last_lines, actor';

export function createFleetEventsRepo(db: Database.Database): FleetEventsRepo {
  const insert = db.prepare(`
    INSERT INTO fleet_events (at_ms, kind, origin, install_name, host_id, host_name, process, instance, state, message,
      error_code, error_message, error_remedy, last_lines, actor, dedup_key, recorded_at_ms)
    VALUES (@atMs, @kind, @origin, @installName, @hostId, @hostName, @process, @instance, @state, @message,
      @errorCode, @errorMessage, @errorRemedy, @lastLines, @actor, @dedupKey, @recordedAtMs)
    ON CONFLICT (dedup_key) DO NOTHING`);
  const byId = db.prepare<[number], DbRow>(`SELECT ${COLUMNS} FROM fleet_events WHERE id = ?`);
  const after = db.prepare<[number, number], DbRow>(`SELECT ${COLUMNS} FROM fleet_events WHERE id > ? ORDER BY id LIMIT ?`);
  const newestId = db.prepare<[], { id: number | null }>('SELECT MAX(id) AS id FROM fleet_events');
  const getCursor = db.prepare<[number], { run_started_at_ms: number; sequence: number; at_ms: number }>(
    'SELECT run_started_at_ms, sequence, at_ms FROM fleet_event_cursors WHERE host_id = ?',
  );
  const setCursor = db.prepare(`
    INSERT INTO fleet_event_cursors (host_id, run_started_at_ms, sequence, at_ms) VALUES (?, ?, ?, ?)
    ON CONFLICT (host_id) DO UPDATE SET run_started_at_ms = excluded.run_started_at_ms, sequence = excluded.sequence, at_ms = excluded.at_ms`);
  const pruneOld = db.prepare('DELETE FROM fleet_events WHERE at_ms < ?');
  const pruneBeyond = db.prepare('DELETE FROM fleet_events WHERE id <= (SELECT id FROM fleet_events ORDER BY id DESC LIMIT 1 OFFSET ?)');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM fleet_events');
  // One statement per combination of filters, prepared once.
  const listStatements = new Map<string, Database.Statement<unknown[], DbRow>>();

  return {
    insert(row, recordedAtMs) {
      const result = insert.run({
        atMs: row.atMs,
        kind: row.kind,
        origin: row.origin,
        installName: row.installName,
        hostId: row.hostId,
        hostName: row.hostName,
        process: row.process,
        instance: row.instance,
        state: row.state,
        message: row.message,
        errorCode: row.error?.code ?? null,
        errorMessage: row.error?.message ?? null,
        errorRemedy: row.error?.remedy ?? null,
        lastLines: row.lastLines.length === 0 ? null : JSON.stringify(row.lastLines),
        actor: row.actor,
        dedupKey: row.dedupKey,
        recordedAtMs,
      });
      if (result.changes === 0) return null;
      return toEvent(byId.get(Number(result.lastInsertRowid))!);
    },
    list(params) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (params.hostId !== undefined) {
        where.push('host_id = ?');
        args.push(params.hostId);
      }
      if (params.process !== undefined) {
        where.push('(process = ? OR instance = ?)');
        args.push(params.process, params.process);
      }
      if (params.kinds !== undefined) {
        where.push(`kind IN (${params.kinds.map(() => '?').join(', ')})`);
        args.push(...params.kinds);
      }
      if (params.fromMs !== undefined) {
        where.push('at_ms >= ?');
        args.push(params.fromMs);
      }
      if (params.toMs !== undefined) {
        where.push('at_ms < ?');
        args.push(params.toMs);
      }
      if (params.after !== undefined) {
        where.push('(at_ms < ? OR (at_ms = ? AND id < ?))');
        args.push(params.after.atMs, params.after.atMs, params.after.id);
      }
      const sql = `SELECT ${COLUMNS} FROM fleet_events${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY at_ms DESC, id DESC LIMIT ?`;
      let statement = listStatements.get(sql);
      if (statement === undefined) {
        statement = db.prepare<unknown[], DbRow>(sql);
        listStatements.set(sql, statement);
      }
      // One more than the page: whether there is a next page, without a count.
      const rows = statement.all(...args, params.limit + 1);
      const events = rows.slice(0, params.limit).map(toEvent);
      const last = events.at(-1);
      const next: FleetEventCursor | null = rows.length > params.limit && last !== undefined ? { atMs: last.atMs, id: last.id } : null;
      return { events, next };
    },
    after: (id, limit) => after.all(id, limit).map(toEvent),
    newestId: () => newestId.get()?.id ?? 0,
    cursor(hostId) {
      const row = getCursor.get(hostId);
      return row === undefined ? null : { runStartedAtMs: row.run_started_at_ms, sequence: row.sequence, atMs: row.at_ms };
    },
    setCursor(hostId, cursor) {
      setCursor.run(hostId, cursor.runStartedAtMs, cursor.sequence, cursor.atMs);
    },
    prune(beforeMs, keep) {
      return db.transaction(() => pruneOld.run(beforeMs).changes + pruneBeyond.run(keep).changes)();
    },
    count: () => count.get()?.n ?? 0,
  };
}

import type Database from 'better-sqlite3';
import type { Alert, AlertRuleKind, AlertSeverity, AlertState } from '../../../contract';

/** A new alert instance, as the evaluator first sees its condition hold. */
export interface NewAlert {
  rule: string;
  kind: AlertRuleKind;
  fingerprint: string;
  severity: AlertSeverity;
  labels: Record<string, string>;
  summary: string;
  value: number | null;
  hostId: number | null;
  state: Exclude<AlertState, 'resolved'>;
  atMs: number;
}

export interface AlertListQuery {
  states?: readonly AlertState[] | undefined;
  hostId?: number | undefined;
  rule?: string | undefined;
  /** Resolved alerts that resolved at or after this time. */
  resolvedSinceMs: number;
  limit: number;
}

export interface AlertHistoryEntry {
  change: 'pending' | 'firing' | 'resolved' | 'acknowledged';
  atMs: number;
  actor: string | null;
  value: number | null;
}

/** A step of an alert's life that another process wrote to the store (the CLI's acknowledgement). */
export interface OtherProcessChange {
  change: AlertHistoryEntry['change'];
  alert: StoredAlert;
}

/** An alert with the key the evaluator matches conditions by. */
export type StoredAlert = Alert & { fingerprint: string };

export interface AlertsRepo {
  /** Pending and firing alerts. */
  open(): StoredAlert[];
  get(id: number): StoredAlert | undefined;
  insert(alert: NewAlert): StoredAlert;
  /** Pending to firing, or firing to resolved. */
  advance(id: number, to: 'firing' | 'resolved', atMs: number, value: number | null): StoredAlert;
  /** The value and summary while the condition holds (no history entry: it is not a change of state). */
  refresh(id: number, value: number | null, summary: string): void;
  /** A pending alert whose condition stopped holding before `for:` elapsed: no trace is kept. */
  drop(id: number): void;
  /** Records the first acknowledgement; a later one changes nothing. Undefined when there is no such alert. */
  acknowledge(id: number, by: string, atMs: number): { alert: StoredAlert; changed: boolean } | undefined;
  list(query: AlertListQuery): StoredAlert[];
  history(id: number): AlertHistoryEntry[];
  /**
   * Starts telling this repo's own history entries from those other processes write (each
   * process has its own connection and repo); returns the newest entry's id, where reading
   * the others' changes starts.
   */
  watchOthers(): number;
  /**
   * Up to `limit` history entries after `afterId`: those other processes wrote, oldest first,
   * each with its alert as it is now (skipped when the alert is gone since), and the id read up to.
   */
  changesByOthers(afterId: number, limit: number): { changes: OtherProcessChange[]; readUpTo: number };
  /** Deletes resolved alerts (and their history) that resolved before `beforeMs`. */
  pruneResolved(beforeMs: number): number;
  transaction<T>(fn: () => T): T;
}

interface AlertDbRow {
  id: number;
  rule: string;
  kind: AlertRuleKind;
  fingerprint: string;
  severity: AlertSeverity;
  labels: string;
  summary: string;
  value: number | null;
  hostId: number | null;
  state: AlertState;
  activeSince: number;
  firingSince: number | null;
  resolvedAt: number | null;
  ackedBy: string | null;
  ackedAt: number | null;
}

const COLUMNS = `id, rule, kind, fingerprint, severity, labels, summary, value, host_id AS hostId, state,
  active_since AS activeSince, firing_since AS firingSince, resolved_at AS resolvedAt, acked_by AS ackedBy, acked_at AS ackedAt`;

// Firing first, then pending, then resolved; newest first within each.
const ORDER = `CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
  COALESCE(resolved_at, firing_since, active_since) DESC, id DESC`;

export function createAlertsRepo(db: Database.Database): AlertsRepo {
  const byId = db.prepare<[number], AlertDbRow>(`SELECT ${COLUMNS} FROM alerts WHERE id = ?`);
  const openRows = db.prepare<[], AlertDbRow>(`SELECT ${COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY id`);
  const insertRow = db.prepare(
    `INSERT INTO alerts (rule, kind, fingerprint, severity, labels, summary, value, host_id, state, active_since, firing_since)
     VALUES (@rule, @kind, @fingerprint, @severity, @labels, @summary, @value, @hostId, @state, @atMs, @firingSince)`,
  );
  const addHistory = db.prepare<[number, number, string, string | null, number | null]>(
    'INSERT INTO alert_history (alert_id, at, change, actor, value) VALUES (?, ?, ?, ?, ?)',
  );
  const toFiring = db.prepare<[number, number | null, number]>(
    `UPDATE alerts SET state = 'firing', firing_since = ?, value = COALESCE(?, value) WHERE id = ? AND state = 'pending'`,
  );
  const toResolved = db.prepare<[number, number]>(
    `UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ? AND state = 'firing'`,
  );
  const refreshRow = db.prepare<[number | null, string, number]>('UPDATE alerts SET value = ?, summary = ? WHERE id = ?');
  const dropRow = db.prepare<[number]>(`DELETE FROM alerts WHERE id = ? AND state = 'pending'`);
  const ackRow = db.prepare<[string, number, number]>('UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL');
  const historyRows = db.prepare<[number], AlertHistoryEntry>(
    'SELECT change, at AS atMs, actor, value FROM alert_history WHERE alert_id = ? ORDER BY id',
  );
  const prune = db.prepare<[number]>(`DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?`);
  const newestHistory = db.prepare<[], { id: number | null }>('SELECT MAX(id) AS id FROM alert_history');
  const historyAfter = db.prepare<[number, number], { id: number; alertId: number; change: AlertHistoryEntry['change'] }>(
    'SELECT id, alert_id AS alertId, change FROM alert_history WHERE id > ? ORDER BY id LIMIT ?',
  );
  // The history entries this repo wrote since watchOthers, until the reading of others' changes passes them.
  let own: Set<number> | null = null;
  const record = (...args: [number, number, string, string | null, number | null]): void => {
    const id = Number(addHistory.run(...args).lastInsertRowid);
    own?.add(id);
  };

  const require = (id: number): StoredAlert => {
    const row = byId.get(id);
    if (!row) throw new Error(`alert ${id} vanished`);
    return fromRow(row);
  };

  return {
    open: () => openRows.all().map(fromRow),
    get: (id) => {
      const row = byId.get(id);
      return row && fromRow(row);
    },
    insert(alert) {
      const id = Number(
        insertRow.run({
          ...alert,
          labels: JSON.stringify(alert.labels),
          firingSince: alert.state === 'firing' ? alert.atMs : null,
        }).lastInsertRowid,
      );
      record(id, alert.atMs, alert.state, null, alert.value);
      return require(id);
    },
    advance(id, to, atMs, value) {
      const changed = to === 'firing' ? toFiring.run(atMs, value, id) : toResolved.run(atMs, id);
      if (changed.changes !== 1) throw new Error(`alert ${id} cannot become ${to}`);
      record(id, atMs, to, null, value);
      return require(id);
    },
    refresh: (id, value, summary) => void refreshRow.run(value, summary, id),
    drop: (id) => void dropRow.run(id),
    acknowledge(id, by, atMs) {
      if (!byId.get(id)) return undefined;
      const changed = ackRow.run(by, atMs, id).changes === 1;
      if (changed) record(id, atMs, 'acknowledged', by, null);
      return { alert: require(id), changed };
    },
    list(query) {
      const where: string[] = [];
      const params: Record<string, unknown> = { resolvedSince: query.resolvedSinceMs, limit: query.limit };
      if (query.states) {
        where.push(`state IN (${query.states.map((_, i) => `@state${i}`).join(', ')})`);
        query.states.forEach((state, i) => (params[`state${i}`] = state));
      }
      where.push(`(state <> 'resolved' OR resolved_at >= @resolvedSince)`);
      if (query.hostId !== undefined) {
        where.push('host_id = @hostId');
        params.hostId = query.hostId;
      }
      if (query.rule !== undefined) {
        where.push('rule = @rule');
        params.rule = query.rule;
      }
      return db
        .prepare<Record<string, unknown>, AlertDbRow>(
          `SELECT ${COLUMNS} FROM alerts WHERE ${where.join(' AND ')} ORDER BY ${ORDER} LIMIT @limit`,
        )
        .all(params)
        .map(fromRow);
    },
    history: (id) => historyRows.all(id),
    watchOthers() {
      own ??= new Set();
      return newestHistory.get()?.id ?? 0;
    },
    changesByOthers(afterId, limit) {
      const changes: OtherProcessChange[] = [];
      let readUpTo = afterId;
      for (const row of historyAfter.all(afterId, limit)) {
        readUpTo = row.id;
        if (own?.delete(row.id)) continue;
        const alert = byId.get(row.alertId);
        if (alert) changes.push({ change: row.change, alert: fromRow(alert) });
      }
      return { changes, readUpTo };
    },
    pruneResolved: (beforeMs) => prune.run(beforeMs).changes,
    transaction: (fn) => db.transaction(fn)(),
  };
}

function fromRow(row: AlertDbRow): StoredAlert {
  return {
    id: row.id,
    rule: row.rule,
    kind: row.kind,
    fingerprint: row.fingerprint,
    severity: row.severity,
    state: row.state,
    labels: JSON.parse(row.labels) as Record<string, string>,
    summary: row.summary,
    value: row.value,
    hostId: row.hostId,
    activeSinceMs: row.activeSince,
    firingSinceMs: row.firingSince,
    resolvedAtMs: row.resolvedAt,
    acknowledged: row.ackedBy !== null && row.ackedAt !== null ? { by: row.ackedBy, atMs: row.ackedAt } : null,
  };
}

import type Database from 'better-sqlite3';
import {
  REFUSAL_CODES,
  type AuditAnchor,
  type AuditEntry,
  type AuditListParams,
  type AuditPage,
  type AuditVerification,
  type HostKeyHistoryEvent,
} from '../../contract';
import { auditHash, GENESIS_HASH, verifyAuditRows, type AuditFields, type AuditRow } from '../../../agents-runtime/src/wire';

/** The audit log's table (migration 019): appended to as state-changing calls end, read by page, verified whole. */
export interface AuditLog {
  /** Appends one entry after the newest, chained to it; answers its seq. */
  append(fields: AuditFields): number;
  list(params: AuditListParams): AuditPage;
  verify(anchor?: AuditAnchor): AuditVerification;
  hostKeys(params: HostKeyHistoryParams): { events: HostKeyHistoryEvent[]; next: number | null };
}

export interface HostKeyHistoryParams {
  host?: string | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  after?: number | undefined;
  limit: number;
}

const COLUMNS = 'seq, at AS atMs, operator, actor, peer, action, method, target, outcome, prev_hash AS prevHash, hash FROM audit_log';

export function createAuditLog(db: Database.Database): AuditLog {
  const newest = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  // AUTOINCREMENT's record of the highest seq ever used: what was cut off the end still counts.
  const highest = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'");
  const insert = db.prepare(
    `INSERT INTO audit_log (seq, at, operator, actor, peer, action, method, target, outcome, prev_hash, hash)
     VALUES (@seq, @atMs, @operator, @actor, @peer, @action, @method, @target, @outcome, @prevHash, @hash)`,
  );
  const allRows = db.prepare<[], AuditRow>(`SELECT ${COLUMNS} ORDER BY seq`);
  const seqOfHash = db.prepare<[string], { seq: number }>('SELECT seq FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1');
  const rowAt = db.prepare<[number], AuditRow>(`SELECT ${COLUMNS} WHERE seq = ?`);

  // Immediate: the read of the newest entry and the insert after it are one step, whichever
  // backend (the app, a command) appends on the same data directory.
  const append = db.transaction((fields: AuditFields): number => {
    const last = newest.get();
    const seq = Math.max(last?.seq ?? 0, highest.get()?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    insert.run({ ...fields, seq, prevHash, hash: auditHash(fields, prevHash) });
    return seq;
  });

  return {
    append: (fields) => append.immediate(fields),
    list(params) {
      const where: string[] = [];
      const values: Array<string | number> = [];
      if (params.who !== undefined) {
        where.push("(operator LIKE ? ESCAPE '\\' OR actor LIKE ? ESCAPE '\\')");
        values.push(containing(params.who), containing(params.who));
      }
      if (params.action !== undefined) {
        where.push('action = ?');
        values.push(params.action);
      }
      if (params.target !== undefined) {
        where.push("target LIKE ? ESCAPE '\\'");
        values.push(containing(params.target));
      }
      if (params.outcome === 'error') where.push("outcome <> 'ok'");
      else if (params.outcome === 'refused') {
        where.push(`outcome IN (${REFUSAL_CODES.map(() => '?').join(', ')})`);
        values.push(...REFUSAL_CODES);
      } else if (params.outcome !== undefined) {
        where.push('outcome = ?');
        values.push(params.outcome);
      }
      if (params.fromMs !== undefined) {
        where.push('at >= ?');
        values.push(params.fromMs);
      }
      if (params.toMs !== undefined) {
        where.push('at < ?');
        values.push(params.toMs);
      }
      const newestFirst = params.order === 'newest';
      if (params.after !== undefined) {
        where.push(newestFirst ? 'seq < ?' : 'seq > ?');
        values.push(params.after);
      }
      // One more than the page says whether there is a next one.
      const rows = db
        .prepare<Array<string | number>, AuditEntry>(
          `SELECT ${COLUMNS} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
        )
        .all(...values, params.limit + 1);
      const entries = rows.slice(0, params.limit);
      return { entries, next: rows.length > params.limit ? entries.at(-1)!.seq : null };
    },
    verify: (anchor) =>
      verifyAuditRows({
        rows: allRows.iterate(),
        highestSeq: highest.get()?.seq ?? 0,
        seqOfHash: (hash) => seqOfHash.get(hash)?.seq ?? null,
        rowAt: (seq) => rowAt.get(seq) ?? null,
        ...(anchor !== undefined ? { anchor } : {}),
      }),
    hostKeys(params) {
      const where: string[] = [];
      const values: Array<string | number> = [];
      if (params.host !== undefined) {
        where.push("host_name LIKE ? ESCAPE '\\'");
        values.push(containing(params.host));
      }
      if (params.fromMs !== undefined) {
        where.push('at >= ?');
        values.push(params.fromMs);
      }
      if (params.toMs !== undefined) {
        where.push('at < ?');
        values.push(params.toMs);
      }
      if (params.after !== undefined) {
        where.push('id < ?');
        values.push(params.after);
      }
      const rows = db
        .prepare<Array<string | number>, HostKeyHistoryEvent>(
          `SELECT id, at AS atMs, host_id AS hostId, host_name AS hostName, event, key_type AS keyType, fingerprint,
                  previous_fingerprint AS previousFingerprint, source
           FROM host_key_history ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...values, params.limit + 1);
      const events = rows.slice(0, params.limit);
      return { events, next: rows.length > params.limit ? events.at(-1)!.id : null };
    },
  };
}

/** A LIKE pattern matching `text` anywhere, its own % and _ taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

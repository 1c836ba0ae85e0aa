import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

/** How long a browser's sign-in lasts: idle (no call) and in all, whatever its use. */
export interface WebSessionPolicy {
  readonly idleMs: number;
  readonly absoluteMs: number;
}

export const DEFAULT_WEB_SESSION_POLICY: WebSessionPolicy = { idleMs: 30 * 60_000, absoluteMs: 12 * 60 * 60_000 };

/**
 * A use of a session moves its idle expiry only when the last recorded use is older than
 * this: a page makes many calls a second, and one write per call would cost more than the
 * idle limit's precision is worth.
 */
const TOUCH_EVERY_MS = 10_000;

export interface WebSessionInfo {
  id: number;
  operatorId: number;
  operatorName: string;
  createdAt: number;
  lastSeenAt: number;
  /** When it ends if not used before (last use plus the idle limit, capped by expiresAt). */
  idleExpiresAt: number;
  /** When it ends whatever its use. */
  expiresAt: number;
  address: string;
  userAgent: string;
}

export interface WebSessionOrigin {
  address: string;
  userAgent: string;
}

/**
 * Browser sign-ins of web mode for a team (issue 14, item 5), in the store (migration 022):
 * the cookie's secret is returned once at creation and only its hash kept. A session is live
 * until idle past the idle limit, past its absolute expiry, or ended (signed out, revoked,
 * its operator removed or disabled).
 */
export interface WebSessions {
  /** `stepUpUntil`: the sign-in proved a two-factor code, which counts as the session's step-up until then (step-up.ts). */
  create(
    operatorId: number,
    origin: WebSessionOrigin,
    stepUpUntil?: number,
  ): { token: string; id: number; createdAt: number; expiresAt: number };
  /** Until when a code proved on the live session `id` lets admin actions through, or undefined (in memory: a restart forgets it). */
  stepUpUntil(id: number): number | undefined;
  /** A code was proved on the session (at sign-in or a step-up in any of its tabs). */
  markStepUp(id: number, until: number): void;
  /** The live session this cookie secret names, or undefined. */
  byToken(token: string): { id: number; operatorId: number } | undefined;
  /** The operator of session `id` while it is live; undefined once it has ended (read at every call: no caching). */
  operatorOf(id: number): number | undefined;
  /** A call on the session: moves its idle expiry. */
  touch(id: number): void;
  /** Live sessions, of one operator or of all. */
  list(operatorId?: number): WebSessionInfo[];
  /** Ends a live session; false when there is none (ended already, or unknown). */
  end(id: number, reason: string): boolean;
  /** Ends every live session of an operator (removed, disabled, password changed); how many ended. */
  endAllOf(operatorId: number, reason: string): number;
}

interface Row {
  id: number;
  operator_id: number;
  operator_name: string;
  created_at: number;
  last_seen_at: number;
  idle_ms: number;
  expires_at: number;
  address: string;
  user_agent: string;
  ended_at: number | null;
}

export function createWebSessions(deps: { db: Database.Database; now: () => number; policy?: WebSessionPolicy }): WebSessions {
  const { db, now } = deps;
  const policy = deps.policy ?? DEFAULT_WEB_SESSION_POLICY;
  const columns = `s.id, s.operator_id, o.name AS operator_name, s.created_at, s.last_seen_at, s.idle_ms, s.expires_at, s.address,
    s.user_agent, s.ended_at FROM web_sessions s JOIN operators o ON o.id = s.operator_id`;
  const insert = db.prepare(
    `INSERT INTO web_sessions (token_hash, operator_id, created_at, last_seen_at, idle_ms, expires_at, address, user_agent)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const byHash = db.prepare<[Buffer], Row>(`SELECT ${columns} WHERE s.token_hash = ?`);
  const byId = db.prepare<[number], Row>(`SELECT ${columns} WHERE s.id = ?`);
  const openRows = db.prepare<[], Row>(`SELECT ${columns} WHERE s.ended_at IS NULL ORDER BY s.id`);
  const openRowsOf = db.prepare<[number], Row>(`SELECT ${columns} WHERE s.ended_at IS NULL AND s.operator_id = ? ORDER BY s.id`);
  const touchRow = db.prepare('UPDATE web_sessions SET last_seen_at = ? WHERE id = ? AND ended_at IS NULL');
  const endRow = db.prepare('UPDATE web_sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL');
  const endRowsOf = db.prepare('UPDATE web_sessions SET ended_at = ?, end_reason = ? WHERE operator_id = ? AND ended_at IS NULL');
  // Ended and expired rows are of no use after a day: the audit log keeps who signed in when.
  const prune = db.prepare('DELETE FROM web_sessions WHERE coalesce(ended_at, min(expires_at, last_seen_at + idle_ms)) < ?');

  /** Step-ups by session id: never in the database (a copied store must not carry a fresh proof), dropped once past. */
  const stepUps = new Map<number, number>();
  const forgetPastStepUps = (at: number) => {
    for (const [id, until] of stepUps) if (until <= at) stepUps.delete(id);
  };

  const idleEnd = (row: Row) => Math.min(row.last_seen_at + row.idle_ms, row.expires_at);
  const live = (row: Row | undefined, at: number): row is Row => row !== undefined && row.ended_at === null && idleEnd(row) > at;
  const info = (row: Row): WebSessionInfo => ({
    id: row.id,
    operatorId: row.operator_id,
    operatorName: row.operator_name,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: idleEnd(row),
    expiresAt: row.expires_at,
    address: row.address,
    userAgent: row.user_agent,
  });

  return {
    create(operatorId, origin, stepUpUntil) {
      const at = now();
      prune.run(at - 24 * 60 * 60_000);
      forgetPastStepUps(at);
      const token = randomBytes(32).toString('base64url');
      const { lastInsertRowid } = insert.run(
        tokenHash(token),
        operatorId,
        at,
        at,
        policy.idleMs,
        at + policy.absoluteMs,
        origin.address,
        origin.userAgent.slice(0, 256),
      );
      const id = Number(lastInsertRowid);
      if (stepUpUntil !== undefined && stepUpUntil > at) stepUps.set(id, stepUpUntil);
      return { token, id, createdAt: at, expiresAt: at + policy.absoluteMs };
    },
    stepUpUntil(id) {
      const until = stepUps.get(id);
      const at = now();
      return until !== undefined && until > at && live(byId.get(id), at) ? until : undefined;
    },
    markStepUp(id, until) {
      if (live(byId.get(id), now())) stepUps.set(id, Math.max(until, stepUps.get(id) ?? 0));
    },
    byToken(token) {
      const row = byHash.get(tokenHash(token));
      return live(row, now()) ? { id: row.id, operatorId: row.operator_id } : undefined;
    },
    operatorOf(id) {
      const row = byId.get(id);
      return live(row, now()) ? row.operator_id : undefined;
    },
    touch(id) {
      const at = now();
      const row = byId.get(id);
      if (live(row, at) && at - row.last_seen_at >= TOUCH_EVERY_MS) touchRow.run(at, id);
    },
    list(operatorId) {
      const at = now();
      return (operatorId === undefined ? openRows.all() : openRowsOf.all(operatorId)).filter((row) => live(row, at)).map(info);
    },
    end(id, reason) {
      stepUps.delete(id);
      const row = byId.get(id);
      if (!live(row, now())) return false;
      return endRow.run(now(), reason, id).changes > 0;
    },
    endAllOf(operatorId, reason) {
      return endRowsOf.run(now(), reason, operatorId).changes;
    },
  };
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

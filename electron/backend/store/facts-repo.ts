import type Database from 'better-sqlite3';
import { HostFactsSchema, visibleStrings, type HostFacts } from '../../contract';
import type { StoreLogger } from './open-store';
import { hostNotFoundError, isForeignKeyViolation } from './host-not-found';

export interface FactsRepo {
  save(hostId: number, facts: HostFacts): void;
  /** The newest snapshot that still parses, or null when there is none. */
  latest(hostId: number): HostFacts | null;
  /** Up to `limit` snapshots that still parse, newest first. */
  history(hostId: number, limit: number): Array<{ probedAt: number; facts: HostFacts }>;
}

interface SnapshotRow {
  id: number;
  probedAt: number;
  facts: string;
}

/**
 * Facts are stored as JSON so the schema can grow without a migration per field; a row
 * written by an older schema that no longer parses is logged and skipped, never fatal.
 */
export function createFactsRepo(db: Database.Database, logger?: StoreLogger): FactsRepo {
  const insert = db.prepare<[number, number, string]>('INSERT INTO facts_snapshots (host_id, probed_at, facts) VALUES (?, ?, ?)');
  const newestFirst = db.prepare<[number], SnapshotRow>(
    'SELECT id, probed_at AS probedAt, facts FROM facts_snapshots WHERE host_id = ? ORDER BY probed_at DESC, id DESC',
  );

  function parse(hostId: number, row: SnapshotRow): HostFacts | null {
    let json: unknown;
    try {
      json = JSON.parse(row.facts);
    } catch (error) {
      logger?.warn({ hostId, snapshotId: row.id, error: String(error) }, 'skipping a facts snapshot that is not JSON');
      return null;
    }
    const parsed = HostFactsSchema.safeParse(json);
    if (!parsed.success) {
      logger?.warn(
        { hostId, snapshotId: row.id, issues: parsed.error.issues.slice(0, 5) },
        'skipping a facts snapshot that no longer matches the facts schema',
      );
      return null;
    }
    // Snapshots stored before the probe parser escaped control characters may hold raw
    // ones; escaping on the way out covers them (and is a no-op for newer ones).
    return visibleStrings(parsed.data);
  }

  function* parsedNewestFirst(hostId: number): Generator<{ probedAt: number; facts: HostFacts }> {
    for (const row of newestFirst.iterate(hostId)) {
      const facts = parse(hostId, row);
      if (facts !== null) yield { probedAt: row.probedAt, facts };
    }
  }

  return {
    save(hostId, facts) {
      try {
        insert.run(hostId, facts.probedAt, JSON.stringify(facts));
      } catch (error) {
        if (isForeignKeyViolation(error)) throw hostNotFoundError(hostId, error);
        throw error;
      }
    },
    latest(hostId) {
      // Returning from the loop ends the iterator, which resets the statement.
      for (const snapshot of parsedNewestFirst(hostId)) return snapshot.facts;
      return null;
    },
    history(hostId, limit) {
      const result: Array<{ probedAt: number; facts: HostFacts }> = [];
      if (limit <= 0) return result;
      for (const snapshot of parsedNewestFirst(hostId)) {
        result.push(snapshot);
        if (result.length >= limit) break;
      }
      return result;
    },
  };
}

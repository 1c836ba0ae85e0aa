import type Database from 'better-sqlite3';
import { hostNotFoundError, isForeignKeyViolation } from '../store/host-not-found';

/** A minute of 1 s samples held in memory until it is flushed and rolled up. */
export interface OpenChunk {
  /** Start of the minute, ms. */
  readonly t: number;
  readonly slots: Float64Array;
  /** Changed since it was last written. */
  dirty: boolean;
}

export interface SeriesState {
  readonly id: number;
  readonly hostId: number;
  readonly metric: string;
  /** The newest minute this series has received; written at every flush. */
  current: OpenChunk | null;
  /** Older minutes (just completed, or reopened by a late sample) that the next flush rolls up. */
  readonly pending: Map<number, OpenChunk>;
  /**
   * The newest minute the store may hold a row of (1 s chunk or 1 min rollup), ms; -Infinity
   * for none. A later minute is new to the store, so opening it reads nothing from disk:
   * once a minute per series instead of once a minute per series and a query.
   */
  storedThrough: number;
}

/**
 * Maps (host, metric name) to its metric_series row, creating it on first use, and holds
 * each series' in-memory minutes. Ids are cached: the 1 Hz path never asks SQLite twice.
 */
export class SeriesRegistry {
  private readonly byHost = new Map<number, Map<string, SeriesState>>();
  private readonly selectId: Database.Statement<[number, string], number>;
  private readonly insert: Database.Statement<[number, string]>;
  private readonly newestStored: Database.Statement<[{ seriesId: number }], number | null>;

  constructor(db: Database.Database) {
    this.selectId = db.prepare<[number, string], number>('SELECT id FROM metric_series WHERE host_id = ? AND metric = ?').pluck();
    this.insert = db.prepare<[number, string]>('INSERT INTO metric_series (host_id, metric) VALUES (?, ?)');
    this.newestStored = db
      .prepare<[{ seriesId: number }], number | null>(
        `SELECT max(coalesce((SELECT max(t) FROM samples_1s WHERE series_id = @seriesId), -1),
                    coalesce((SELECT max(t) FROM samples_1m WHERE series_id = @seriesId), -1))`,
      )
      .pluck();
  }

  /** The series, created when missing; throws HOST_NOT_FOUND for a host that does not exist. */
  resolve(hostId: number, metric: string): SeriesState {
    const cached = this.byHost.get(hostId)?.get(metric);
    if (cached !== undefined) return cached;
    let id = this.selectId.get(hostId, metric);
    if (id === undefined) {
      try {
        id = Number(this.insert.run(hostId, metric).lastInsertRowid);
      } catch (error) {
        if (isForeignKeyViolation(error)) throw hostNotFoundError(hostId, error);
        throw error;
      }
    }
    return this.remember(hostId, metric, id);
  }

  /** The series if it exists; never creates one. */
  find(hostId: number, metric: string): SeriesState | undefined {
    const cached = this.byHost.get(hostId)?.get(metric);
    if (cached !== undefined) return cached;
    const id = this.selectId.get(hostId, metric);
    return id === undefined ? undefined : this.remember(hostId, metric, id);
  }

  /** The series of one host that are held in memory (resolved or found since the store opened). */
  *ofHost(hostId: number): Generator<SeriesState> {
    const metrics = this.byHost.get(hostId);
    if (metrics !== undefined) yield* metrics.values();
  }

  *all(): Generator<SeriesState> {
    for (const metrics of this.byHost.values()) yield* metrics.values();
  }

  /** Drops a series whose row is gone (its host was removed). */
  forget(state: SeriesState): void {
    const metrics = this.byHost.get(state.hostId);
    metrics?.delete(state.metric);
    if (metrics?.size === 0) this.byHost.delete(state.hostId);
  }

  private remember(hostId: number, metric: string, id: number): SeriesState {
    const newest = this.newestStored.get({ seriesId: id }) ?? -1;
    const storedThrough = newest < 0 ? Number.NEGATIVE_INFINITY : newest;
    const state: SeriesState = { id, hostId, metric, current: null, pending: new Map(), storedThrough };
    let metrics = this.byHost.get(hostId);
    if (metrics === undefined) {
      metrics = new Map();
      this.byHost.set(hostId, metrics);
    }
    metrics.set(metric, state);
    return state;
  }
}

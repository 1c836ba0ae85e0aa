import type Database from 'better-sqlite3';
import type { MetricTier } from '../../contract';
import type { Cell } from './rollup';

/** Every SQL statement of the metric store, prepared once when the store is created. */
export interface MetricStatements {
  seriesExists: Database.Statement<[number], number>;
  allSeriesIds: Database.Statement<[], number>;
  loadChunk: Database.Statement<[number, number], Buffer>;
  upsertChunk: Database.Statement<[number, number, Buffer]>;
  /** A sealed chunk goes in as a new row (see writeSealedChunk), so these two instead of the upsert. */
  deleteChunk: Database.Statement<[number, number]>;
  insertChunk: Database.Statement<[number, number, Buffer]>;
  /** Raw rows [t, vals] of one series' chunks with first <= t <= last, by time. */
  chunksInRange: Database.Statement<[number, number, number], [number, Buffer]>;
  /**
   * Raw rows [series id, t, vals] of every series' chunks newer than its newest minute rollup
   * (open minutes, or left by a crash before sealing), in one statement.
   */
  unsealedChunks: Database.Statement<[], [number, number, Buffer]>;
  /** The newest minute with 1 s data of any series of a host, as raw rows [t, vals], one per series. */
  newestChunksOfHost: Database.Statement<[{ hostId: number }], [number, Buffer]>;
  upsertMinute: Database.Statement<[number, number, number, number, number, number]>;
  minuteExists: Database.Statement<[number, number], number>;
  /** Adds one minute, new to the store, to its hour's rollup (count-weighted mean, extremes, count). */
  addToHour: Database.Statement<[number, number, number, number, number, number]>;
  /** Recomputes the rollup of one series over [start, end) from its minute rollups. */
  rollHour: Database.Statement<[{ seriesId: number; start: number; end: number }]>;
  cells: Record<'1m' | '1h', Database.Statement<[number, number, number], Cell>>;
  /** Appends one commit's samples to the journal (sample-journal.ts). */
  appendJournal: Database.Statement<[Buffer]>;
  /** Every journal row's records, oldest first. */
  journalRows: Database.Statement<[], Buffer>;
  /** Empties the journal: its samples are in the 1 s tier's chunks now (a replay, which read every row in the same transaction). */
  clearJournal: Database.Statement<[]>;
  /** Deletes one journal row: its samples are in the 1 s tier's chunks now (a flush, of the rows its store committed). */
  deleteJournalRow: Database.Statement<[number]>;
  /** Deletes the rows of one series whose period starts at or before the given time. */
  prune: Record<MetricTier, Database.Statement<[number, number]>>;
}

export function prepareMetricStatements(db: Database.Database): MetricStatements {
  const rollupCells = (table: string) =>
    db.prepare<[number, number, number], Cell>(
      `SELECT t, mean, min, max, count FROM ${table} WHERE series_id = ? AND t BETWEEN ? AND ? ORDER BY t`,
    );
  const pruneRows = (table: string) => db.prepare<[number, number]>(`DELETE FROM ${table} WHERE series_id = ? AND t <= ?`);

  return {
    seriesExists: db.prepare<[number], number>('SELECT 1 FROM metric_series WHERE id = ?').pluck(),
    allSeriesIds: db.prepare<[], number>('SELECT id FROM metric_series ORDER BY id').pluck(),
    loadChunk: db.prepare<[number, number], Buffer>('SELECT vals FROM samples_1s WHERE series_id = ? AND t = ?').pluck(),
    upsertChunk: db.prepare<[number, number, Buffer]>(
      'INSERT INTO samples_1s (series_id, t, vals) VALUES (?, ?, ?) ON CONFLICT (series_id, t) DO UPDATE SET vals = excluded.vals',
    ),
    deleteChunk: db.prepare<[number, number]>('DELETE FROM samples_1s WHERE series_id = ? AND t = ?'),
    insertChunk: db.prepare<[number, number, Buffer]>('INSERT INTO samples_1s (series_id, t, vals) VALUES (?, ?, ?)'),
    chunksInRange: db
      .prepare<[number, number, number], [number, Buffer]>(
        'SELECT t, vals FROM samples_1s WHERE series_id = ? AND t BETWEEN ? AND ? ORDER BY t',
      )
      .raw(),
    unsealedChunks: db
      .prepare<[], [number, number, Buffer]>(
        `SELECT s.series_id, s.t, s.vals FROM metric_series m
         JOIN samples_1s s ON s.series_id = m.id AND s.t > coalesce((SELECT max(t) FROM samples_1m WHERE series_id = m.id), -1)
         ORDER BY s.series_id, s.t`,
      )
      .raw(),
    newestChunksOfHost: db
      .prepare<[{ hostId: number }], [number, Buffer]>(
        `SELECT s.t, s.vals FROM samples_1s s JOIN metric_series m ON m.id = s.series_id
         WHERE m.host_id = @hostId
           AND s.t = (SELECT max((SELECT max(t) FROM samples_1s WHERE series_id = m2.id)) FROM metric_series m2 WHERE m2.host_id = @hostId)`,
      )
      .raw(),
    upsertMinute: db.prepare<[number, number, number, number, number, number]>(
      `INSERT INTO samples_1m (series_id, t, mean, min, max, count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (series_id, t) DO UPDATE SET mean = excluded.mean, min = excluded.min, max = excluded.max, count = excluded.count`,
    ),
    minuteExists: db.prepare<[number, number], number>('SELECT 1 FROM samples_1m WHERE series_id = ? AND t = ?').pluck(),
    addToHour: db.prepare<[number, number, number, number, number, number]>(
      `INSERT INTO samples_1h (series_id, t, mean, min, max, count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (series_id, t) DO UPDATE SET
         mean = (mean * count + excluded.mean * excluded.count) / (count + excluded.count),
         min = min(min, excluded.min), max = max(max, excluded.max), count = count + excluded.count`,
    ),
    rollHour: db.prepare<[{ seriesId: number; start: number; end: number }]>(
      `INSERT INTO samples_1h (series_id, t, mean, min, max, count)
       SELECT series_id, @start, sum(mean * count) / sum(count), min(min), max(max), sum(count)
       FROM samples_1m WHERE series_id = @seriesId AND t >= @start AND t < @end
       GROUP BY series_id
       ON CONFLICT (series_id, t) DO UPDATE SET mean = excluded.mean, min = excluded.min, max = excluded.max, count = excluded.count`,
    ),
    cells: { '1m': rollupCells('samples_1m'), '1h': rollupCells('samples_1h') },
    appendJournal: db.prepare<[Buffer]>('INSERT INTO samples_journal (vals) VALUES (?)'),
    journalRows: db.prepare<[], Buffer>('SELECT vals FROM samples_journal ORDER BY id').pluck(),
    clearJournal: db.prepare<[]>('DELETE FROM samples_journal'),
    deleteJournalRow: db.prepare<[number]>('DELETE FROM samples_journal WHERE id = ?'),
    prune: { '1s': pruneRows('samples_1s'), '1m': pruneRows('samples_1m'), '1h': pruneRows('samples_1h') },
  };
}

import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { isApiError, type MetricPoint, type MetricsQueryParamsSchema, type MetricsQueryResult, type MetricTier } from '../../contract';
import type { StoreLogger } from '../store/open-store';
import { storeWriteFailedError } from '../store/store-errors';
import { chooseStepMs, chooseTier } from './choose-tier';
import { Downsampler } from './downsample';
import { prepareMetricStatements } from './metric-statements';
import { DEFAULT_RETENTION_MS, TIER_MS, floorTo, type RetentionMs } from './metric-tiers';
import { mergeRollups, summarizeSlots, type Cell } from './rollup';
import { CHUNK_MS, decodeChunk, emptyChunk, encodeChunk, encodeSealedChunk, SECONDS_PER_CHUNK } from './sample-chunk-codec';
import { decodeJournal, JournalBuffer, JOURNAL_RECORD_FLOATS } from './sample-journal';
import { SeriesRegistry, type OpenChunk, type SeriesState } from './series-registry';

export type MetricsQueryParams = z.output<typeof MetricsQueryParamsSchema>;

/** What a command's store reads of the serving backend's unsealed minutes (series id -> minute -> slots); null for the serving store. */
type Unsealed = Map<number, Map<number, Float64Array>> | null;

export interface MetricStoreOptions {
  clock?: () => number;
  /** How long a recorded sample may wait before it is committed (to the journal); default 1 s. */
  commitDelayMs?: number;
  /** How often buffered samples are written into the tiers (and the journal emptied); default 60 s. */
  flushIntervalMs?: number;
  /** How long each tier is kept, ms; default 1s: 24 h, 1m: 30 days, 1h: 2 years. */
  retention?: RetentionMs;
  /**
   * Prune by itself as the clock moves (default true). A one-shot command's store says false:
   * the backend serving the app owns retention, and a command run with other settings (or
   * none) must not prune what that backend keeps.
   */
  enforceRetention?: boolean;
  /**
   * Seal at open what a run that ended before its flush left (default true). A one-shot
   * command's store says false: what it finds unsealed is usually the serving backend's open
   * minutes and journal, which that backend seals itself (or the next one to start, after a
   * crash); the command reads them for its queries instead and writes nothing at open.
   * Its newestSampleMs does not see them (only a serving backend resumes streams).
   */
  ownsJournal?: boolean;
  /**
   * While writing fails (a commit or a flush), at most this many samples recorded since the
   * last successful flush are held in memory (default 1,000,000: minutes of a large fleet);
   * later ones are dropped, counted, and the count logged once writing works again.
   */
  maxHeldSamples?: number;
  logger?: StoreLogger;
}

export interface MetricStore {
  record(hostId: number, tMs: number, values: Partial<Record<string, number>>): void;
  /**
   * The start of the newest second that holds a sample of any series of the host (in memory
   * or stored), ms; null when the host has none. A stream from a runtime resumes after it.
   */
  newestSampleMs(hostId: number): number | null;
  flush(): void;
  query(params: MetricsQueryParams): MetricsQueryResult;
  prune(nowMs: number): void;
  close(): void;
}

const HOUR_MS = TIER_MS['1h'];
const stderrLogger: StoreLogger = {
  info: () => {},
  warn: (details, message) => console.warn(message, details),
  error: (details, message) => console.error(message, details),
};
// The journal has every sample on disk within the commit delay, so the chunks need not be:
// a minute's row is written about twice (partly, then sealed) instead of once per flush.
const DEFAULT_FLUSH_INTERVAL_MS = 60_000;
// One commit a second whatever the number of hosts: each host's sample arrives at its own
// phase of the second, so a shorter delay made a commit (a WAL write and a data_version bump
// every reader of the file wakes for) per few hosts, about four a second for a fleet. Waiting a
// second loses nothing a restart cannot get back: the links backfill from the newest stored
// second out of each runtime's history (900 samples: 15 minutes at 1 s, 75 unwatched at 5 s);
// only the local machine's last second can go.
const DEFAULT_COMMIT_DELAY_MS = 1_000;
const DEFAULT_MAX_HELD_SAMPLES = 1_000_000;
/** Retention is enforced by the store itself this often, so no caller can forget it. */
const PRUNE_INTERVAL_MS = HOUR_MS;

/**
 * Time series in three tiers: 1 s samples packed one row per (series, minute), and 1 min
 * and 1 h rollups (mean, min, max, count).
 *
 * Writing: `record` touches memory (the series' current minute) and adds the sample to the
 * journal's buffer, which is committed as one row `commitDelayMs` after its first sample
 * (sample-journal.ts): a sample is on disk within that delay, for one statement per commit
 * whatever the number of series. Every `flushIntervalMs` by the clock (checked on `record`
 * and by an unref'd timer) one transaction seals completed minutes (written compressed, see
 * sample-chunk-codec.ts), writes each changed open minute as a fixed-size row, and deletes
 * the journal rows this store committed (only those: another store on the
 * file, the serving backend's when this one is a command's, keeps its own until its flush
 * or a replay): a minute is completed when its series moves on to a later minute, or when
 * it got nothing new since the last flush and the clock has passed its end. Sealing writes its 1 min rollup
 * and adds it to its hour's 1 h rollup (see sealChunk), so both tiers stay current to the
 * last sealed minute. Memory changes only after the transaction commits; a failed flush keeps
 * everything buffered and is retried.
 *
 * A store that opens after a run that ended without its last flush (a crash, a kill)
 * replays the journal into the chunks and seals the minutes it touched, and the open minutes
 * the run wrote, so nothing committed is lost and every tier agrees (a command's store only
 * reads them: see `ownsJournal`).
 *
 * Memory: while writing fails, at most `maxHeldSamples` recorded samples wait in memory; the
 * rest are dropped and counted in the log.
 *
 * Late samples (for a minute older than the series' current one) are merged into that
 * minute's stored row, and its rollups are recomputed at the next flush; nothing is
 * dropped, so a runtime's backfill after a reconnect lands where it belongs.
 *
 * Reading: every minute with data is either in memory or has an up-to-date rollup, so a
 * query reads its tier's table and overlays what memory holds (see `chooseTier`).
 */
export function createMetricStore(db: Database.Database, options: MetricStoreOptions = {}): MetricStore {
  const clock = options.clock ?? Date.now;
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const commitDelayMs = options.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS;
  const retention = options.retention ?? DEFAULT_RETENTION_MS;
  const enforceRetention = options.enforceRetention ?? true;
  const ownsJournal = options.ownsJournal ?? true;
  const maxHeldSamples = options.maxHeldSamples ?? DEFAULT_MAX_HELD_SAMPLES;
  // A background flush has no caller to throw to, so its failures must reach some log.
  const logger: StoreLogger = options.logger ?? stderrLogger;
  if (!(flushIntervalMs > 0)) throw new RangeError(`flushIntervalMs must be positive, got ${flushIntervalMs}`);
  if (!(maxHeldSamples > 0)) throw new RangeError(`maxHeldSamples must be positive, got ${maxHeldSamples}`);
  if (!(commitDelayMs >= 0)) throw new RangeError(`commitDelayMs must be zero or positive, got ${commitDelayMs}`);
  for (const [tier, ms] of Object.entries(retention)) {
    if (!(ms > 0)) throw new RangeError(`retention for ${tier} must be positive, got ${ms}`);
  }

  const sql = prepareMetricStatements(db);
  const registry = new SeriesRegistry(db);
  let lastFlushAt = clock();
  let lastPruneAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  const journal = new JournalBuffer();
  let commitTimer: NodeJS.Timeout | undefined;
  let commitFailing = false;
  let flushFailing = false;
  // Samples recorded since the last successful flush (in memory until then), and those refused while writing failed.
  let heldSamples = 0;
  let droppedSamples = 0;
  // The journal rows this store committed since its last flush, whose samples that flush writes.
  let committedRows: number[] = [];

  let overlay: Map<number, Map<number, Float64Array>> | null = null;
  let overlayVersion = 0;
  if (ownsJournal) sealLeftovers();
  const timer = setInterval(() => flushIfDue(), flushIntervalMs);
  timer.unref();

  function openChunk(state: SeriesState, t: number): OpenChunk {
    if (t > state.storedThrough) return { t, slots: emptyChunk(), dirty: false };
    return loadChunk(state.id, t);
  }

  function loadChunk(seriesId: number, t: number): OpenChunk {
    const stored = sql.loadChunk.get(seriesId, t);
    if (stored === undefined) return { t, slots: emptyChunk(), dirty: false };
    try {
      return { t, slots: decodeChunk(stored), dirty: false };
    } catch (error) {
      // Rewriting a row we cannot read loses nothing readable; refusing samples would.
      logger.warn({ seriesId, t, error: String(error) }, 'replacing an unreadable 1 s chunk');
      return { t, slots: emptyChunk(), dirty: true };
    }
  }

  function chunkFor(state: SeriesState, t: number): OpenChunk {
    const current = state.current;
    if (current !== null && current.t === t) return current;
    if (current === null || t > current.t) {
      if (current !== null) state.pending.set(current.t, current);
      const next = state.pending.get(t) ?? openChunk(state, t);
      state.pending.delete(t);
      state.current = next;
      return next;
    }
    let late = state.pending.get(t);
    if (late === undefined) {
      late = openChunk(state, t);
      state.pending.set(t, late);
    }
    return late;
  }

  /**
   * Writes the minute's rollup, and its hour's: a minute new to the 1 min tier is added to
   * its hour at once, without reading the hour's other minutes; one sealed before (a late
   * sample, a minute continued after a restart, one sealed by another process on the data
   * directory) is put in `hours` for rollHours to recompute from the minutes, so no minute
   * counts twice.
   */
  function sealChunk(seriesId: number, t: number, slots: Float64Array, hours: Set<number>): void {
    const rollup = summarizeSlots(slots);
    if (rollup === null) return;
    const sealedBefore = sql.minuteExists.get(seriesId, t) !== undefined;
    sql.upsertMinute.run(seriesId, t, rollup.mean, rollup.min, rollup.max, rollup.count);
    const hour = floorTo(t, HOUR_MS);
    if (sealedBefore) hours.add(hour);
    else sql.addToHour.run(seriesId, hour, rollup.mean, rollup.min, rollup.max, rollup.count);
  }

  function rollHours(seriesId: number, hours: Set<number>): void {
    for (const hour of hours) sql.rollHour.run({ seriesId, start: hour, end: hour + HOUR_MS });
  }

  /**
   * A completed minute's row, in the sealed encoding. Deleted and inserted rather than updated:
   * a rowid table appends the new row to its last page, so sealed rows pack densely there, and
   * the open rows they replace, written together at the previous flush, leave whole pages
   * free for the next ones instead of a hole in every page.
   */
  function writeSealedChunk(seriesId: number, t: number, slots: Float64Array): void {
    sql.deleteChunk.run(seriesId, t);
    sql.insertChunk.run(seriesId, t, encodeSealedChunk(slots));
  }

  const writeFlush = db.transaction((now: number) => {
    const written: OpenChunk[] = [];
    const sealed: SeriesState[] = [];
    const idle: SeriesState[] = [];
    const gone: SeriesState[] = [];
    const open: SeriesState[] = [];
    for (const state of registry.all()) {
      const current = state.current;
      const idleOver = current !== null && !current.dirty && now >= current.t + CHUNK_MS;
      if (state.pending.size === 0 && !current?.dirty && !idleOver) continue;
      // A host removed since (ON DELETE CASCADE) takes its series with it.
      if (sql.seriesExists.get(state.id) === undefined) {
        gone.push(state);
        continue;
      }
      const completed = [...state.pending.values()];
      if (current?.dirty) open.push(state);
      else if (idleOver) {
        completed.push(current);
        idle.push(state);
      }
      if (completed.length === 0) continue;
      const hours = new Set<number>();
      for (const chunk of completed) {
        writeSealedChunk(state.id, chunk.t, chunk.slots);
        state.storedThrough = Math.max(state.storedThrough, chunk.t);
        written.push(chunk);
        sealChunk(state.id, chunk.t, chunk.slots, hours);
      }
      rollHours(state.id, hours);
      sealed.push(state);
    }
    // The open minutes last, after every sealed row: together at the end of the table, so
    // sealing them next time frees their pages whole.
    for (const state of open) {
      const current = state.current as OpenChunk;
      sql.upsertChunk.run(state.id, current.t, encodeChunk(current.slots));
      // Raised inside the transaction: a rollback leaves it too high, which only costs a read.
      state.storedThrough = Math.max(state.storedThrough, current.t);
      written.push(current);
    }
    // Every sample of this store's rows is in a chunk written above or before (or its host is gone).
    for (const id of committedRows) sql.deleteJournalRow.run(id);
    return { written, sealed, idle, gone };
  });

  function flush(): void {
    const now = clock();
    lastFlushAt = now;
    let outcome: ReturnType<typeof writeFlush>;
    try {
      outcome = writeFlush(now);
    } catch (error) {
      flushFailing = true;
      throw isApiError(error) ? error : storeWriteFailedError(db.name, 'metrics', error);
    }
    for (const chunk of outcome.written) chunk.dirty = false;
    for (const state of outcome.sealed) state.pending.clear();
    for (const state of outcome.idle) state.current = null;
    for (const state of outcome.gone) registry.forget(state);
    journal.clear();
    committedRows = [];
    heldSamples = 0;
    flushFailing = false;
    writingWorks();
    if (enforceRetention && now - lastPruneAt >= PRUNE_INTERVAL_MS) prune(now);
  }

  function scheduleCommit(): void {
    if (commitTimer !== undefined || journal.size === 0) return;
    commitTimer = setTimeout(commitJournal, commitDelayMs);
    commitTimer.unref();
  }

  /** Commits the journal's buffer as one row; on failure it stays buffered (and in memory) for the next. */
  function commitJournal(): void {
    commitTimer = undefined;
    if (closed || journal.size === 0) return;
    try {
      committedRows.push(Number(sql.appendJournal.run(journal.toBytes()).lastInsertRowid));
    } catch (error) {
      // Said once per failing spell, not four times a second; the flush says it too.
      if (!commitFailing) {
        const failure = isApiError(error) ? error : storeWriteFailedError(db.name, 'metrics', error);
        logger.error({ ...failure.toBody(), path: db.name }, 'committing recorded metrics failed; they stay in memory and are retried');
      }
      commitFailing = true;
      return;
    }
    journal.clear();
    if (commitFailing) logger.info({ path: db.name }, 'recorded metrics are committed again');
    commitFailing = false;
    writingWorks();
  }

  /** Whether a sample must be dropped: writing fails and memory already holds the most it may. */
  function overHeldBound(): boolean {
    if (!(commitFailing || flushFailing) || heldSamples < maxHeldSamples) return false;
    if (droppedSamples === 0) {
      logger.error(
        { path: db.name, held: heldSamples },
        `dropping metric samples: writing them keeps failing and ${heldSamples} are held in memory, the most kept`,
      );
    }
    droppedSamples++;
    return true;
  }

  /** Says how many samples were dropped while writing failed, once it works again. */
  function writingWorks(): void {
    if (droppedSamples === 0 || commitFailing || flushFailing) return;
    logger.warn({ path: db.name, dropped: droppedSamples }, `${droppedSamples} metric samples were dropped while writing failed`);
    droppedSamples = 0;
  }

  function flushIfDue(): void {
    if (closed || clock() - lastFlushAt < flushIntervalMs) return;
    try {
      flush();
    } catch (error) {
      // Nobody waits on a background flush: log it; the data stays buffered for the next.
      const body = isApiError(error) ? error.toBody() : { message: String(error) };
      logger.error({ ...body, path: db.name }, 'writing buffered metrics failed');
    }
  }

  function prune(nowMs: number): void {
    lastPruneAt = nowMs;
    // A row goes once the whole period it covers is older than the tier's retention.
    const lastChunkStart = nowMs - retention['1s'] - CHUNK_MS;
    const lastMinuteStart = nowMs - retention['1m'] - TIER_MS['1m'];
    const lastHourStart = nowMs - retention['1h'] - HOUR_MS;
    try {
      db.transaction(() => {
        for (const seriesId of sql.allSeriesIds.all()) {
          sql.prune['1s'].run(seriesId, lastChunkStart);
          sql.prune['1m'].run(seriesId, lastMinuteStart);
          sql.prune['1h'].run(seriesId, lastHourStart);
        }
      })();
    } catch (error) {
      throw isApiError(error) ? error : storeWriteFailedError(db.name, 'metric retention changes', error);
    }
  }

  /**
   * The minutes on disk that no flush sealed, as the next flush would have written them: the
   * open-format rows newer than their series' newest 1 min rollup (written as a run's current
   * minute), with every journal record applied on top, in commit order. Left by a run that
   * ended before its flush, or, for a command's store, the serving backend's open minutes.
   * Read in one pass (one statement for the rows, one for the journal) however many series.
   * A row that cannot be decoded is left out, and named to `unreadable` when given.
   */
  function readUnsealed(unreadable?: (seriesId: number, t: number) => void): Map<number, Map<number, Float64Array>> {
    const chunks = new Map<number, Map<number, Float64Array>>();
    const ofSeries = (seriesId: number) => {
      let minutes = chunks.get(seriesId);
      if (minutes === undefined) chunks.set(seriesId, (minutes = new Map()));
      return minutes;
    };
    for (const [seriesId, t, vals] of sql.unsealedChunks.all()) {
      try {
        ofSeries(seriesId).set(t, decodeChunk(vals));
      } catch (error) {
        logger.warn({ seriesId, t, error: String(error) }, 'skipping an unreadable 1 s chunk');
        unreadable?.(seriesId, t);
      }
    }
    const exists = new Map<number, boolean>();
    for (const row of sql.journalRows.all()) {
      let records: Float64Array;
      try {
        records = decodeJournal(row);
      } catch (error) {
        logger.warn({ error: String(error) }, 'skipping an unreadable metric journal row');
        continue;
      }
      for (let i = 0; i < records.length; i += JOURNAL_RECORD_FLOATS) {
        const seriesId = records[i] as number;
        const secondMs = records[i + 1] as number;
        // A host removed since took its series with it.
        let known = exists.get(seriesId);
        if (known === undefined) {
          known = sql.seriesExists.get(seriesId) !== undefined;
          exists.set(seriesId, known);
        }
        if (!known || !Number.isSafeInteger(secondMs) || secondMs % 1000 !== 0) continue;
        const t = floorTo(secondMs, CHUNK_MS);
        const minutes = ofSeries(seriesId);
        let slots = minutes.get(t);
        if (slots === undefined) {
          slots = loadChunk(seriesId, t).slots;
          minutes.set(t, slots);
        }
        slots[(secondMs - t) / 1000] = records[i + 2] as number;
      }
    }
    return chunks;
  }

  /**
   * Seals what a run that ended before its flush left (see readUnsealed) into every tier and
   * empties the journal, so nothing committed is lost and every tier agrees. Read and written
   * under the write lock: a row committed meanwhile by another store is either sealed here or
   * still there after.
   */
  function sealLeftovers(): void {
    // Looked for first without the write lock: usually there is nothing, and a busy serving backend is not made to wait.
    if (sql.journalRows.get() === undefined && sql.unsealedChunks.get() === undefined) return;
    const seal = db.transaction(() => {
      const unreadable: Array<[number, number]> = [];
      const unsealed = readUnsealed((seriesId, t) => unreadable.push([seriesId, t]));
      // Rows that cannot be sealed (unreadable, or without a single sample) get no rollup, so
      // every later start would find them again: they go, as they hold nothing a query shows.
      // Deleted before the sealing, which may write a new row for the same minute from the journal.
      for (const [seriesId, t] of unreadable) sql.deleteChunk.run(seriesId, t);
      for (const [seriesId, minutes] of unsealed) {
        const hours = new Set<number>();
        for (const [t, slots] of minutes) {
          if (summarizeSlots(slots) === null) {
            sql.deleteChunk.run(seriesId, t);
            continue;
          }
          writeSealedChunk(seriesId, t, slots);
          sealChunk(seriesId, t, slots, hours);
        }
        rollHours(seriesId, hours);
      }
      sql.clearJournal.run();
    });
    try {
      seal.immediate();
    } catch (error) {
      throw isApiError(error) ? error : storeWriteFailedError(db.name, 'metrics committed by a run that ended before writing them', error);
    }
  }

  /**
   * A command's store (ownsJournal false) reads what the serving backend has not sealed yet
   * instead of sealing it: read again whenever another connection committed since. Asked
   * once per query or look-up (the caller hands it down), not once per series: each ask is
   * a pragma round trip.
   */
  function unsealedOverlay(): Unsealed {
    if (ownsJournal) return null;
    const version = db.pragma('data_version', { simple: true }) as number;
    if (overlay === null || version !== overlayVersion) {
      overlay = db.transaction(readUnsealed)();
      overlayVersion = version;
    }
    return overlay;
  }

  function memoryChunks(state: SeriesState, first: number, last: number, unsealed: Unsealed): OpenChunk[] {
    const chunks: OpenChunk[] = [];
    for (const [t, slots] of unsealed?.get(state.id) ?? []) chunks.push({ t, slots, dirty: false });
    // After the overlay: what this store recorded itself is newer.
    chunks.push(...state.pending.values());
    if (state.current !== null) chunks.push(state.current);
    return chunks.filter((chunk) => chunk.t >= first && chunk.t <= last);
  }

  function addSecondCells(state: SeriesState, fromMs: number, toMs: number, out: Downsampler, unsealed: Unsealed): void {
    const seriesId = state.id;
    const first = floorTo(fromMs, CHUNK_MS);
    const last = floorTo(toMs, CHUNK_MS);
    const chunks = new Map<number, Float64Array>();
    for (const [t, vals] of sql.chunksInRange.iterate(seriesId, first, last)) {
      try {
        chunks.set(t, decodeChunk(vals));
      } catch (error) {
        logger.warn({ seriesId, t, error: String(error) }, 'skipping an unreadable 1 s chunk');
      }
    }
    // Memory holds everything the stored row does and more.
    for (const chunk of memoryChunks(state, first, last, unsealed)) chunks.set(chunk.t, chunk.slots);
    for (const t of [...chunks.keys()].sort((a, b) => a - b)) {
      const slots = chunks.get(t) as Float64Array;
      for (let i = 0; i < SECONDS_PER_CHUNK; i++) {
        const value = slots[i] as number;
        const second = t + i * 1000;
        if (Number.isNaN(value) || second + 1000 <= fromMs || second > toMs) continue;
        out.add(second, value, value, value, 1);
      }
    }
  }

  function minuteCells(state: SeriesState, fromMs: number, toMs: number, unsealed: Unsealed): Cell[] {
    const first = floorTo(fromMs, TIER_MS['1m']);
    const cells = sql.cells['1m'].all(state.id, first, toMs);
    const fresh = new Map<number, Cell>();
    for (const chunk of memoryChunks(state, first, toMs, unsealed)) {
      const rollup = summarizeSlots(chunk.slots);
      if (rollup !== null) fresh.set(chunk.t, { t: chunk.t, ...rollup });
    }
    if (fresh.size === 0) return cells;
    return [...cells.filter((cell) => !fresh.has(cell.t)), ...fresh.values()].sort((a, b) => a.t - b.t);
  }

  function hourCells(state: SeriesState, fromMs: number, toMs: number, unsealed: Unsealed): Cell[] {
    const first = floorTo(fromMs, HOUR_MS);
    const cells = sql.cells['1h'].all(state.id, first, toMs);
    // An hour with minutes still in memory is recomputed from its minutes.
    const freshHours = new Set(memoryChunks(state, first, toMs, unsealed).map((chunk) => floorTo(chunk.t, HOUR_MS)));
    if (freshHours.size === 0) return cells;
    const fresh: Cell[] = [];
    for (const hour of freshHours) {
      const rollup = mergeRollups(minuteCells(state, hour, hour + HOUR_MS - 1, unsealed));
      if (rollup !== null) fresh.push({ t: hour, ...rollup });
    }
    return [...cells.filter((cell) => !freshHours.has(cell.t)), ...fresh].sort((a, b) => a.t - b.t);
  }

  function pointsFor(params: MetricsQueryParams, metric: string, tier: MetricTier, stepMs: number, unsealed: Unsealed): MetricPoint[] {
    const state = registry.find(params.hostId, metric);
    if (state === undefined) return [];
    const { fromMs, toMs } = params;
    const out = new Downsampler(stepMs);
    if (tier === '1s') {
      addSecondCells(state, fromMs, toMs, out, unsealed);
    } else {
      const cells = tier === '1m' ? minuteCells(state, fromMs, toMs, unsealed) : hourCells(state, fromMs, toMs, unsealed);
      for (const cell of cells) out.add(cell.t, cell.mean, cell.min, cell.max, cell.count);
    }
    return out.finish();
  }

  function newestSampleMs(hostId: number): number | null {
    let newest: number | null = null;
    const consider = (t: number, slots: Float64Array): void => {
      for (let i = SECONDS_PER_CHUNK - 1; i >= 0; i--) {
        if (Number.isNaN(slots[i] as number)) continue;
        const second = t + i * 1000;
        if (newest === null || second > newest) newest = second;
        return;
      }
    };
    for (const [t, vals] of sql.newestChunksOfHost.all({ hostId })) {
      try {
        consider(t, decodeChunk(vals));
      } catch {
        // An unreadable row holds no sample anyone can read; the query path logs it.
      }
    }
    const unsealed = unsealedOverlay();
    for (const state of registry.ofHost(hostId)) {
      for (const chunk of memoryChunks(state, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, unsealed)) consider(chunk.t, chunk.slots);
    }
    return newest;
  }

  return {
    record(hostId, tMs, values) {
      if (closed) throw new Error('the metric store is closed');
      if (!Number.isFinite(tMs)) throw new RangeError(`sample time must be a finite number of ms, got ${tMs}`);
      const second = Math.floor(tMs / 1000);
      const chunkT = floorTo(second * 1000, CHUNK_MS);
      const slot = second - chunkT / 1000;
      for (const metric in values) {
        const value = values[metric];
        // NaN marks a missing second on disk, so non-finite readings are not stored.
        if (value === undefined || !Number.isFinite(value) || overHeldBound()) continue;
        const state = registry.resolve(hostId, metric);
        const chunk = chunkFor(state, chunkT);
        chunk.slots[slot] = value;
        chunk.dirty = true;
        journal.add(state.id, second * 1000, value);
        heldSamples++;
      }
      flushIfDue();
      scheduleCommit();
    },

    newestSampleMs,

    flush() {
      if (closed) return;
      flush();
    },

    query(params) {
      const tier = chooseTier(params, clock(), retention);
      const stepMs = chooseStepMs(params, TIER_MS[tier]);
      const unsealed = unsealedOverlay();
      return {
        tier,
        stepMs,
        series: params.metrics.map((metric) => ({ metric, points: pointsFor(params, metric, tier, stepMs, unsealed) })),
      };
    },

    prune,

    close() {
      if (closed) return;
      clearInterval(timer);
      clearTimeout(commitTimer);
      // Seal every open minute so all tiers on disk are complete.
      for (const state of registry.all()) {
        if (state.current !== null) {
          state.pending.set(state.current.t, state.current);
          state.current = null;
        }
      }
      try {
        flush();
      } catch (error) {
        // What cannot be written into the tiers is at least committed, for the next open to replay.
        commitJournal();
        throw error;
      } finally {
        closed = true;
      }
    },
  };
}

import { bytesToFloat64s, float64sToBytes } from './sample-chunk-codec';

/** Floats per journal record: the series' id, the start of the sample's second (ms), the value. */
export const JOURNAL_RECORD_FLOATS = 3;

/** Records a new buffer has room for, and the least it shrinks back to after a burst. */
const INITIAL_RECORDS = 1024;

/**
 * Samples recorded since the last commit, packed for one journal row (samples_journal):
 * (series id, second, value) as float64 triples, little-endian on disk like the chunks.
 *
 * Why a journal: the 1 s tier keeps a series' minute in one 480-byte row, so committing
 * every second by rewriting each series' row would write 60 times the data, one statement
 * per series. One row per commit holds just the new samples of every series, so a sample
 * is on disk within a second for one statement; the chunks are written less often, and
 * the flush that writes them empties the journal in the same transaction.
 */
export class JournalBuffer {
  private floats = new Float64Array(JOURNAL_RECORD_FLOATS * INITIAL_RECORDS);
  private used = 0;

  /** Records held. */
  get size(): number {
    return this.used / JOURNAL_RECORD_FLOATS;
  }

  /** Records it has room for before it grows. */
  get capacity(): number {
    return this.floats.length / JOURNAL_RECORD_FLOATS;
  }

  add(seriesId: number, secondMs: number, value: number): void {
    if (this.used + JOURNAL_RECORD_FLOATS > this.floats.length) {
      const grown = new Float64Array(this.floats.length * 2);
      grown.set(this.floats);
      this.floats = grown;
    }
    const floats = this.floats;
    floats[this.used] = seriesId;
    floats[this.used + 1] = secondMs;
    floats[this.used + 2] = value;
    this.used += JOURNAL_RECORD_FLOATS;
  }

  /** The records held, as a row's bytes: the buffer's own memory, valid until the next add or clear. */
  toBytes(): Buffer {
    return float64sToBytes(this.floats.subarray(0, this.used));
  }

  /**
   * Empties it, and gives back room a burst grew it to (a backfill, a spell of failed
   * commits) once a commit uses less than a quarter of it, so one burst does not hold its
   * peak for the process's life.
   */
  clear(): void {
    const records = this.size;
    this.used = 0;
    if (this.capacity > INITIAL_RECORDS && records < this.capacity / 4) {
      this.floats = new Float64Array(JOURNAL_RECORD_FLOATS * Math.max(INITIAL_RECORDS, this.capacity / 2));
    }
  }
}

/**
 * A journal row's records as float64 triples (series id, second ms, value), in the order
 * they were recorded. Throws on a blob that is not whole records: damage, not data.
 */
export function decodeJournal(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % (JOURNAL_RECORD_FLOATS * 8) !== 0) {
    throw new RangeError(`a journal row holds ${JOURNAL_RECORD_FLOATS * 8}-byte records, got ${bytes.byteLength} bytes`);
  }
  return bytesToFloat64s(bytes);
}

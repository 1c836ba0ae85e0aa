import type Database from 'better-sqlite3';

/** Which keys a host's keyed families have series of: read from the series table, never created. */
export interface SeriesKeys {
  /** Up to `limit` keys of `family` for the host, in bytewise order. */
  keysOf(hostId: number, family: string, limit: number): string[];
}

/**
 * The keys of `family:key` series, from metric_series (a row is made when a series gets its
 * first sample, so this lists what the store holds, memory included). A family never holds a
 * colon, and ';' follows ':' in every encoding, so the range (family:, family;) is exactly
 * the family's keyed names, read from the (host_id, metric) unique index.
 */
export function createSeriesKeys(db: Database.Database): SeriesKeys {
  const select = db
    .prepare<[number, string, string, number], string>(
      'SELECT metric FROM metric_series WHERE host_id = ? AND metric > ? AND metric < ? ORDER BY metric LIMIT ?',
    )
    .pluck();
  return {
    keysOf(hostId, family, limit) {
      return select.all(hostId, `${family}:`, `${family};`, limit).map((metric) => metric.slice(family.length + 1));
    },
  };
}

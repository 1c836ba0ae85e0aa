import type { Migration } from './migration';

export const migration001: Migration = {
  version: 1,
  name: 'hosts, facts snapshots and metric tiers',
  up(db) {
    db.exec(`
      CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL CHECK (kind IN ('local','ssh')), address TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE facts_snapshots (id INTEGER PRIMARY KEY, host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, probed_at INTEGER NOT NULL, facts TEXT NOT NULL);
      CREATE INDEX facts_snapshots_by_host ON facts_snapshots(host_id, probed_at DESC);
      CREATE TABLE metric_series (id INTEGER PRIMARY KEY, host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, metric TEXT NOT NULL, UNIQUE (host_id, metric));

      -- 1 s tier: one row per (series, minute); vals packs 60 little-endian float64
      -- seconds, NaN where no sample came. A rowid table, so rows written in time
      -- order append to full pages; the unique index finds a series' minutes.
      CREATE TABLE samples_1s (
        series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
        t INTEGER NOT NULL,
        vals BLOB NOT NULL
      );
      CREATE UNIQUE INDEX samples_1s_by_series ON samples_1s(series_id, t);

      -- 1 min and 1 h tiers: rollups keyed by the start of their period (ms).
      CREATE TABLE samples_1m (
        series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
        t INTEGER NOT NULL,
        mean REAL NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (series_id, t)
      ) WITHOUT ROWID;
      CREATE TABLE samples_1h (
        series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
        t INTEGER NOT NULL,
        mean REAL NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (series_id, t)
      ) WITHOUT ROWID;
    `);
  },
};

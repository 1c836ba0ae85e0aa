import type { Migration } from './migration';

export const migration016: Migration = {
  version: 16,
  name: 'alerts and their history',
  up(db) {
    db.exec(`
      -- One row per alert instance: a rule's condition holding for one subject (a host, a
      -- process instance, a mount, a GPU, a certificate), from pending through firing to
      -- resolved. A pending one whose condition stops holding is deleted (Prometheus keeps
      -- no record of it either); a resolved one stays as history until retention prunes it.
      -- AUTOINCREMENT: an id is never reused after a dropped alert, so an acknowledgement by id
      -- (sutazai alerts --ack ID) can never land on a different alert than the one listed.
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
        labels TEXT NOT NULL,
        summary TEXT NOT NULL,
        value REAL,
        host_id INTEGER REFERENCES hosts(id) ON DELETE SET NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
        active_since INTEGER NOT NULL,
        firing_since INTEGER,
        resolved_at INTEGER,
        acked_by TEXT,
        acked_at INTEGER,
        CHECK ((acked_by IS NULL) = (acked_at IS NULL))
      );
      -- A subject has at most one alert of a rule that is not resolved.
      CREATE UNIQUE INDEX alerts_one_open_per_fingerprint ON alerts(fingerprint) WHERE state <> 'resolved';
      CREATE INDEX alerts_by_state ON alerts(state, resolved_at);

      -- Every step of an alert's life, with who acknowledged it.
      CREATE TABLE alert_history (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('pending', 'firing', 'resolved', 'acknowledged')),
        actor TEXT,
        value REAL
      );
      CREATE INDEX alert_history_by_alert ON alert_history(alert_id, id);
    `);
  },
};

import type { Migration } from './migration';

export const migration015: Migration = {
  version: 15,
  name: 'the fleet events: what runtimes reported, links up and down, operator actions',
  up(db) {
    db.exec(`
      -- One row per event, in the order recorded (id). A runtime's events are at the runtime's
      -- clock, the others at this machine's. The host's and install's names are copied so the
      -- history reads the same after a host is removed (then host_id becomes NULL).
      CREATE TABLE fleet_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('runtime', 'link', 'operator')),
        install_name TEXT,
        host_id INTEGER REFERENCES hosts(id) ON DELETE SET NULL,
        host_name TEXT,
        process TEXT,
        instance TEXT,
        state TEXT,
        message TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        error_remedy TEXT,
        -- JSON array of the instance's last log lines, for a crash; NULL otherwise.
        last_lines TEXT,
        actor TEXT,
        -- A runtime event's identity (host, the runtime's run, its sequence): the same event
        -- sent again after a reconnect is not stored twice. NULL for the others.
        dedup_key TEXT UNIQUE,
        recorded_at_ms INTEGER NOT NULL
      );
      -- The timeline's orders and filters: newest first, by host, by host and process, by kind.
      CREATE INDEX fleet_events_by_time ON fleet_events(at_ms, id);
      CREATE INDEX fleet_events_by_host ON fleet_events(host_id, at_ms, id);
      CREATE INDEX fleet_events_by_process ON fleet_events(host_id, process, at_ms, id);
      CREATE INDEX fleet_events_by_instance ON fleet_events(host_id, instance, at_ms, id);
      CREATE INDEX fleet_events_by_kind ON fleet_events(kind, at_ms, id);

      -- Where each host's runtime events were read up to (the newest one's run, sequence and
      -- time): a reconnect resumes from it, and an event retention pruned is not taken again
      -- from the runtime's ring. Not pruned with the events.
      CREATE TABLE fleet_event_cursors (
        host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
        run_started_at_ms INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
      );
    `);
  },
};

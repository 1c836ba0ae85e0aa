import type { Migration } from './migration';

export const migration019: Migration = {
  version: 19,
  name: 'the audit log (hash-chained, append-only) and the host-key history kept past a host',
  up(db) {
    db.exec(`
      -- One row per state-changing call (issue 14, item 6): who (the operator signed in, the
      -- pipe's actor), from where (the pipe's peer), what (the action, the method, the host,
      -- install or process it named; never a secret) and how it ended (ok or the error code).
      -- Each entry's hash covers its fields and the previous entry's hash (audit/audit-chain.ts),
      -- so an edited, removed or reordered entry breaks the chain where it was changed.
      -- AUTOINCREMENT keeps the highest seq ever used in sqlite_sequence: removing the newest
      -- entries leaves that number behind, which the verification compares.
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        operator TEXT,
        actor TEXT NOT NULL,
        peer TEXT NOT NULL,
        action TEXT NOT NULL,
        method TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_time ON audit_log(at, seq);
      CREATE INDEX audit_log_by_action ON audit_log(action, seq);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries are never changed'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries are never removed'); END;

      -- Every host-key decision and refusal (host_key_events), copied as it is written with the
      -- host's name: host_key_events goes with its host (ON DELETE CASCADE), this stays for
      -- the audit page. Append-only like the audit log. Its own ids: host_key_events may reuse
      -- the id of an event that went with its host.
      CREATE TABLE host_key_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        host_id INTEGER,
        host_name TEXT NOT NULL,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        previous_fingerprint TEXT,
        source TEXT NOT NULL
      );
      CREATE INDEX host_key_history_by_time ON host_key_history(at, id);
      INSERT INTO host_key_history (host_id, host_name, at, event, key_type, fingerprint, previous_fingerprint, source)
        SELECT e.host_id, COALESCE(h.name, 'host ' || e.host_id), e.at, e.event, e.key_type, e.fingerprint, e.previous_fingerprint, e.source
        FROM host_key_events e LEFT JOIN hosts h ON h.id = e.host_id ORDER BY e.id;
      CREATE TRIGGER host_key_events_to_history AFTER INSERT ON host_key_events
        BEGIN
          INSERT INTO host_key_history (host_id, host_name, at, event, key_type, fingerprint, previous_fingerprint, source)
          VALUES (NEW.host_id, COALESCE((SELECT name FROM hosts WHERE id = NEW.host_id), 'host ' || NEW.host_id),
                  NEW.at, NEW.event, NEW.key_type, NEW.fingerprint, NEW.previous_fingerprint, NEW.source);
        END;
      CREATE TRIGGER host_key_history_no_update BEFORE UPDATE ON host_key_history
        BEGIN SELECT RAISE(ABORT, 'the host-key history is append-only'); END;
      CREATE TRIGGER host_key_history_no_delete BEFORE DELETE ON host_key_history
        BEGIN SELECT RAISE(ABORT, 'the host-key history is append-only'); END;
    `);
  },
};

import type { Migration } from './migration';

export const migration030: Migration = {
  version: 30,
  name: 'host-audit-heads',
  up(db) {
    db.exec(`
      -- The newest entry of each host's runtime audit log that the control center last found
      -- intact (audit.verifyHost, audit.hostLog): an implicit anchor, so entries cut off the end
      -- of that log (or its newest segments removed with the drops they recorded) are found
      -- without an anchor written down by hand. One row per host; the runtime it belongs to is
      -- named by the install (its id and name, and the serial of its CA certificate: install ids
      -- are reused once an install is removed, a CA's random serial is not) and the state
      -- directory the log is in: a reinstalled runtime (another install, another place) is told
      -- apart, and its fresh log is taken only when an admin accepts it (audit.acceptHostReset),
      -- never on its own.
      -- No reference to install_hosts: an uninstall must not forget the head either. Removing the
      -- host record forgets it (a new host record starts afresh).
      CREATE TABLE host_audit_heads (
        host_id INTEGER PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
        install_id INTEGER NOT NULL,
        install_name TEXT NOT NULL,
        install_ca_serial TEXT NOT NULL,
        state_dir TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq > 0),
        hash TEXT NOT NULL CHECK (length(hash) = 64),
        verified_at INTEGER NOT NULL,
        verified_by TEXT NOT NULL,
        -- Set when the head was taken by an admin's accepted reset rather than a verify: who and when.
        accepted_at INTEGER,
        accepted_by TEXT
      );
    `);
  },
};

import type { Migration } from './migration';

export const migration005: Migration = {
  version: 5,
  name: 'installs: hosts and roles, steps for resume, releases per host',
  up(db) {
    db.exec(`
      -- One install: a bundle on a set of hosts, with its own CA (the key only sealed).
      CREATE TABLE installs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        bundle_id INTEGER NOT NULL REFERENCES bundles(id) ON DELETE RESTRICT,
        install_file TEXT NOT NULL,
        config_snapshot TEXT NOT NULL,
        ca_cert TEXT NOT NULL,
        ca_key_secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- A host runs one runtime, so it belongs to one install at a time. mode, root_dir and
      -- service are decided by the first apply and kept, so a later apply (or uninstall)
      -- finds the same place; created_paths lists what the install made there.
      CREATE TABLE install_hosts (
        install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('core','agent','both')),
        gpu INTEGER NOT NULL DEFAULT 0 CHECK (gpu IN (0, 1)),
        state TEXT NOT NULL CHECK (state IN ('planned','installing','installed','failed')),
        mode TEXT CHECK (mode IN ('system','user')),
        root_dir TEXT,
        service TEXT CHECK (service IN ('systemd','detached')),
        created_paths TEXT NOT NULL DEFAULT '[]',
        config TEXT NOT NULL DEFAULT '{}',
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (install_id, host_id)
      );
      CREATE UNIQUE INDEX install_hosts_one_install_per_host ON install_hosts(host_id);
      -- Each step of each host for one release: what apply resumes from.
      CREATE TABLE install_steps (
        id INTEGER PRIMARY KEY,
        install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        release_version TEXT NOT NULL,
        step TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')),
        changed INTEGER NOT NULL DEFAULT 0 CHECK (changed IN (0, 1)),
        output TEXT NOT NULL DEFAULT '',
        error_code TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        UNIQUE (install_id, host_id, release_version, step)
      );
      -- Releases on each host: rollback is a switch of current to a previous one.
      CREATE TABLE host_releases (
        id INTEGER PRIMARY KEY,
        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        bundle_sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('current','previous','failed')),
        installed_at INTEGER NOT NULL,
        UNIQUE (host_id, version)
      );
      CREATE UNIQUE INDEX host_releases_one_current ON host_releases(host_id) WHERE state = 'current';
    `);
  },
};

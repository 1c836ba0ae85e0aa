import type Database from 'better-sqlite3';
import { storeMigrationFailedError, storeNewerVersionError } from './store-errors';

/**
 * The schema as an ordered list of code migrations (the Signal Desktop way): each runs
 * in its own transaction together with the `PRAGMA user_version` bump, so a database is
 * always exactly at one version of this list.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const migrations: readonly Migration[] = [
  {
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
  },
  {
    version: 2,
    name: 'SSH inventory: login, credentials, jump hosts, labels; pinned host keys; sealed secrets; preflight results',
    up(db) {
      db.exec(`
        -- Sealed secrets (passwords, key passphrases): never a clear value in this file.
        CREATE TABLE secrets (
          id INTEGER PRIMARY KEY,
          purpose TEXT NOT NULL,
          scheme TEXT NOT NULL,
          sealed BLOB NOT NULL,
          created_at INTEGER NOT NULL
        );
        -- What unlocks the secrets: the salt of the operator's passphrase (or the desktop
        -- key's origin) and a sealed known value that tells a wrong passphrase at once.
        CREATE TABLE vault (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          key_source TEXT NOT NULL,
          salt BLOB NOT NULL,
          verifier BLOB NOT NULL,
          created_at INTEGER NOT NULL
        );
        ALTER TABLE hosts ADD COLUMN port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535);
        ALTER TABLE hosts ADD COLUMN login_user TEXT NOT NULL DEFAULT '';
        ALTER TABLE hosts ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'none' CHECK (auth_method IN ('none','key','agent','password'));
        ALTER TABLE hosts ADD COLUMN key_path TEXT;
        ALTER TABLE hosts ADD COLUMN secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL;
        ALTER TABLE hosts ADD COLUMN sudo_secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL;
        ALTER TABLE hosts ADD COLUMN jump_host_id INTEGER REFERENCES hosts(id) ON DELETE RESTRICT;
        ALTER TABLE hosts ADD COLUMN role TEXT CHECK (role IN ('core','agent','both'));
        ALTER TABLE hosts ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE hosts ADD COLUMN updated_at INTEGER;

        -- The host key the operator confirmed; one per host.
        CREATE TABLE host_keys (
          host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
          key_type TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          public_key BLOB NOT NULL,
          trusted_at INTEGER NOT NULL,
          trust_source TEXT NOT NULL
        );
        -- Every trust decision and every refused key, for the record.
        CREATE TABLE host_key_events (
          id INTEGER PRIMARY KEY,
          host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
          at INTEGER NOT NULL,
          event TEXT NOT NULL CHECK (event IN ('trusted','retrusted','refused')),
          key_type TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          previous_fingerprint TEXT,
          source TEXT NOT NULL
        );
        CREATE INDEX host_key_events_by_host ON host_key_events(host_id, at DESC);

        CREATE TABLE preflight_results (
          id INTEGER PRIMARY KEY,
          host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
          snapshot_id INTEGER REFERENCES facts_snapshots(id) ON DELETE SET NULL,
          profile TEXT NOT NULL,
          ran_at INTEGER NOT NULL,
          outcome TEXT NOT NULL CHECK (outcome IN ('pass','warn','fail')),
          results TEXT NOT NULL
        );
        CREATE INDEX preflight_results_by_host ON preflight_results(host_id, ran_at DESC);
      `);
    },
  },
  {
    version: 3,
    name: 'the outcome of each host’s last probe, for the status column',
    up(db) {
      db.exec(`
        CREATE TABLE probe_outcomes (
          host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
          at INTEGER NOT NULL,
          ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
          error_code TEXT,
          error_message TEXT,
          error_remedy TEXT
        );
      `);
    },
  },
  {
    version: 4,
    name: 'release bundles: trusted signing keys and imported bundles',
    up(db) {
      db.exec(`
        -- The Ed25519 keys the operator trusts to sign release bundles (like pinned host keys).
        CREATE TABLE bundle_signing_keys (
          fingerprint TEXT PRIMARY KEY,
          public_key BLOB NOT NULL CHECK (length(public_key) = 32),
          label TEXT NOT NULL,
          trusted_at INTEGER NOT NULL,
          trust_source TEXT NOT NULL
        );
        -- Bundles verified and copied into <data dir>/bundles; one row per distinct file.
        CREATE TABLE bundles (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          version TEXT NOT NULL,
          signer_fingerprint TEXT NOT NULL REFERENCES bundle_signing_keys(fingerprint) ON DELETE RESTRICT,
          manifest TEXT NOT NULL,
          file_sha256 TEXT NOT NULL UNIQUE,
          size INTEGER NOT NULL,
          path TEXT NOT NULL,
          imported_at INTEGER NOT NULL
        );
        CREATE INDEX bundles_by_name ON bundles(name, imported_at DESC);
      `);
    },
  },
  {
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
  },
  {
    version: 6,
    name: 'install wizard drafts',
    up(db) {
      db.exec(`
        -- Where the operator is in the install wizard and what they chose, so that closing
        -- the app mid-way and opening it again continues there. Host ids and roles are JSON
        -- arrays; a host removed since is dropped when the draft is read.
        CREATE TABLE wizard_drafts (
          id TEXT PRIMARY KEY,
          step TEXT NOT NULL CHECK (step IN ('bundle','hosts','preflight','roles','configuration','review','install','done')),
          bundle_id INTEGER REFERENCES bundles(id) ON DELETE SET NULL,
          install_name TEXT NOT NULL DEFAULT '',
          host_ids TEXT NOT NULL DEFAULT '[]',
          roles TEXT NOT NULL DEFAULT '[]',
          environment TEXT CHECK (environment IN ('development','staging','production')),
          config_name TEXT NOT NULL,
          config_text TEXT NOT NULL DEFAULT '',
          preflight_accepted INTEGER NOT NULL DEFAULT 0 CHECK (preflight_accepted IN (0, 1)),
          probe_job_id TEXT,
          install_job_id TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX wizard_drafts_by_update ON wizard_drafts(updated_at DESC);
      `);
    },
  },
  {
    version: 7,
    name: 'install jobs with their hosts and steps; the definition each install was last applied with',
    up(db) {
      db.exec(`
        -- The hosts, roles and configuration layers last applied (JSON), so the app can
        -- upgrade, roll back or uninstall an install by its name alone.
        ALTER TABLE installs ADD COLUMN definition TEXT;
        -- Jobs (apply, upgrade, rollback, uninstall) as they run, so installs.status answers
        -- after a restart. owner_pid is the backend process that runs a job: one that is gone
        -- while the job still says running was interrupted.
        CREATE TABLE install_jobs (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('apply','upgrade','rollback','uninstall')),
          install_name TEXT NOT NULL,
          bundle TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('running','succeeded','failed','cancelled','interrupted')),
          error TEXT,
          seq INTEGER NOT NULL DEFAULT 0,
          owner_pid INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          finished_at INTEGER
        );
        CREATE INDEX install_jobs_by_install ON install_jobs(install_name, started_at DESC);
        CREATE INDEX install_jobs_by_start ON install_jobs(started_at DESC);
        CREATE INDEX install_jobs_running ON install_jobs(state) WHERE state = 'running';
        CREATE TABLE install_job_hosts (
          job_id TEXT NOT NULL REFERENCES install_jobs(id) ON DELETE CASCADE,
          position INTEGER NOT NULL,
          host TEXT NOT NULL,
          state TEXT NOT NULL,
          error TEXT,
          upload TEXT,
          notes TEXT NOT NULL DEFAULT '[]',
          PRIMARY KEY (job_id, host)
        ) WITHOUT ROWID;
        CREATE TABLE install_job_steps (
          job_id TEXT NOT NULL REFERENCES install_jobs(id) ON DELETE CASCADE,
          host TEXT NOT NULL,
          position INTEGER NOT NULL,
          step TEXT NOT NULL,
          status TEXT NOT NULL,
          detail TEXT NOT NULL DEFAULT '',
          output TEXT,
          started_at INTEGER,
          finished_at INTEGER,
          PRIMARY KEY (job_id, host, step)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 8,
    name: 'install wizard drafts: per-host configuration overrides',
    up(db) {
      db.exec(`
        -- The per-host override layer the operator typed in the wizard: a JSON array of
        -- {hostId, config: {name, text}}, at most one per chosen host.
        ALTER TABLE wizard_drafts ADD COLUMN host_configs TEXT NOT NULL DEFAULT '[]';
      `);
    },
  },
  {
    version: 9,
    name: 'the vault records how its key is stretched from the passphrase',
    up(db) {
      db.exec(`
        -- JSON scrypt parameters ({"alg":"scrypt","N":..,"r":..,"p":..}); NULL for a key
        -- from the OS secret store, which is used as it is. Vaults made before this ran
        -- used N=2^14; they are re-sealed with stronger parameters on their next unlock.
        ALTER TABLE vault ADD COLUMN kdf TEXT;
        UPDATE vault SET kdf = '{"alg":"scrypt","N":16384,"r":8,"p":1}' WHERE key_source = 'passphrase';
      `);
    },
  },
  {
    version: 10,
    name: 'one writer per install and one serving backend per data directory, across processes',
    up(db) {
      db.exec(`
        -- The job changing an install's hosts now (apply, upgrade, rollback, uninstall), from
        -- whichever process runs it; claimed in a transaction, so a second one is refused.
        -- The owner is its pid with the process's start time (a pid reused after the owner
        -- died does not count as it) and the claim's token (a claim left by an earlier
        -- backend of the same process does not either).
        CREATE TABLE install_locks (
          install_name TEXT PRIMARY KEY,
          operation TEXT NOT NULL,
          job_id TEXT,
          holder TEXT NOT NULL,
          owner_pid INTEGER NOT NULL,
          owner_started TEXT,
          token TEXT NOT NULL,
          acquired_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- The web-mode or desktop backend serving this data directory, the same way.
        CREATE TABLE data_dir_owner (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          holder TEXT NOT NULL,
          owner_pid INTEGER NOT NULL,
          owner_started TEXT,
          token TEXT NOT NULL,
          acquired_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 14,
    name: 'one bundle file per name@version',
    up(db) {
      db.exec(`
        -- Two different files claiming one name@version must not both be imported (the newer
        -- would silently win). A trigger rather than a UNIQUE index: data directories may
        -- already hold such pairs, which stay as they are; no new one can be added, by any
        -- process writing this database.
        CREATE TRIGGER bundles_one_file_per_version BEFORE INSERT ON bundles
        WHEN EXISTS (SELECT 1 FROM bundles WHERE name = NEW.name AND version = NEW.version AND file_sha256 <> NEW.file_sha256)
        BEGIN
          SELECT RAISE(ABORT, 'BUNDLE_VERSION_CONFLICT: another file is imported as this name@version');
        END;
      `);
    },
  },
];

/** Throws when the list is not ordered 1, then strictly increasing; a programming error. */
export function validateMigrations(list: readonly Migration[]): void {
  let previous = 0;
  for (const [index, migration] of list.entries()) {
    const { version } = migration;
    if (!Number.isInteger(version) || version <= previous || (index === 0 && version !== 1)) {
      throw new Error(
        `Migration list is invalid at position ${index} ("${migration.name}", version ${version}): versions must start at 1 and strictly increase.`,
      );
    }
    previous = version;
  }
}

export function latestVersion(list: readonly Migration[]): number {
  return list.at(-1)?.version ?? 0;
}

export function readUserVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the newest migration in `list`. A migration that throws is
 * rolled back with its version bump, so the database stays at the previous version.
 */
export function runMigrations(db: Database.Database, list: readonly Migration[] = migrations): { from: number; to: number } {
  validateMigrations(list);
  const from = readUserVersion(db);
  const known = latestVersion(list);
  if (from > known) throw storeNewerVersionError(db.name, from, known);

  let current = from;
  for (const migration of list) {
    if (migration.version <= current) continue;
    const apply = db.transaction(() => {
      migration.up(db);
      // PRAGMA takes no bound parameters; the version is a validated integer.
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      // IMMEDIATE takes the write lock up front, so two processes cannot both migrate.
      apply.immediate();
    } catch (error) {
      throw storeMigrationFailedError(db.name, migration, current, error);
    }
    current = migration.version;
  }
  return { from, to: current };
}

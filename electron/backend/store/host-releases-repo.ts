import type Database from 'better-sqlite3';

export type ReleaseState = 'current' | 'previous' | 'failed';

export interface HostReleaseRow {
  hostId: number;
  installId: number;
  version: string;
  bundleSha256: string;
  /** The release directory on the host, e.g. /opt/sutazai/releases/0.1.0. */
  path: string;
  state: ReleaseState;
  /** When it last became current (or failed): the most recent of the non-current ones is the previous release. */
  installedAt: number;
}

export interface HostReleasesRepo {
  ofHost(hostId: number): HostReleaseRow[];
  current(hostId: number): HostReleaseRow | null;
  /** Records `version` as the host's current release; the one before becomes previous. */
  markCurrent(row: Omit<HostReleaseRow, 'state'>): void;
  /**
   * Records `version` as a release that failed its health check on the host (and was
   * left for the one before); never the current one, which the caller keeps.
   */
  markFailed(row: Omit<HostReleaseRow, 'state'>): void;
  /** Forgets a release whose directory was removed from the host (pruned). */
  remove(hostId: number, version: string): void;
  /** Forgets every release of an install on a host (uninstalled). */
  removeHost(hostId: number, installId: number): void;
  /**
   * Sets the releases of an install on a host to exactly `rows` (a configuration import), in
   * the order given: the first is the newest (installed_at descending from `now`).
   */
  replace(
    hostId: number,
    installId: number,
    rows: ReadonlyArray<Pick<HostReleaseRow, 'version' | 'bundleSha256' | 'path' | 'state'>>,
    now: number,
  ): void;
}

/**
 * The releases on each host. At most one is current (what `<root>/current` points at);
 * the previous ones stay on disk, so a rollback is a switch of `current` plus a restart.
 */
export function createHostReleasesRepo(db: Database.Database): HostReleasesRepo {
  const columns =
    'host_id AS hostId, install_id AS installId, version, bundle_sha256 AS bundleSha256, path, state, installed_at AS installedAt';
  const ofHost = db.prepare<[number], HostReleaseRow>(
    `SELECT ${columns} FROM host_releases WHERE host_id = ? ORDER BY installed_at DESC, id DESC`,
  );
  const current = db.prepare<[number], HostReleaseRow>(`SELECT ${columns} FROM host_releases WHERE host_id = ? AND state = 'current'`);
  const demote = db.prepare("UPDATE host_releases SET state = 'previous' WHERE host_id = ? AND state = 'current' AND version <> ?");
  const upsert = db.prepare(
    `INSERT INTO host_releases (host_id, install_id, version, bundle_sha256, path, state, installed_at)
     VALUES (@hostId, @installId, @version, @bundleSha256, @path, 'current', @installedAt)
     ON CONFLICT (host_id, version) DO UPDATE SET install_id = excluded.install_id, bundle_sha256 = excluded.bundle_sha256, path = excluded.path, state = 'current', installed_at = excluded.installed_at`,
  );
  const markCurrent = db.transaction((row: Omit<HostReleaseRow, 'state'>) => {
    demote.run(row.hostId, row.version);
    upsert.run(row);
  });
  const upsertFailed = db.prepare(
    `INSERT INTO host_releases (host_id, install_id, version, bundle_sha256, path, state, installed_at)
     VALUES (@hostId, @installId, @version, @bundleSha256, @path, 'failed', @installedAt)
     ON CONFLICT (host_id, version) DO UPDATE SET install_id = excluded.install_id, bundle_sha256 = excluded.bundle_sha256, path = excluded.path, state = 'failed', installed_at = excluded.installed_at`,
  );
  const removeOne = db.prepare('DELETE FROM host_releases WHERE host_id = ? AND version = ?');
  const removeHost = db.prepare('DELETE FROM host_releases WHERE host_id = ? AND install_id = ?');
  const upsertAny = db.prepare(
    `INSERT INTO host_releases (host_id, install_id, version, bundle_sha256, path, state, installed_at)
     VALUES (@hostId, @installId, @version, @bundleSha256, @path, @state, @installedAt)
     ON CONFLICT (host_id, version) DO UPDATE SET install_id = excluded.install_id, bundle_sha256 = excluded.bundle_sha256, path = excluded.path, state = excluded.state, installed_at = excluded.installed_at`,
  );
  const replace = db.transaction(
    (
      hostId: number,
      installId: number,
      rows: ReadonlyArray<Pick<HostReleaseRow, 'version' | 'bundleSha256' | 'path' | 'state'>>,
      now: number,
    ) => {
      removeHost.run(hostId, installId);
      rows.forEach((row, index) => upsertAny.run({ ...row, hostId, installId, installedAt: now - index }));
    },
  );
  return {
    ofHost: (hostId: number): HostReleaseRow[] => ofHost.all(hostId),
    replace(hostId, installId, rows, now): void {
      replace(hostId, installId, rows, now);
    },
    current: (hostId: number): HostReleaseRow | null => current.get(hostId) ?? null,
    markCurrent(row: Omit<HostReleaseRow, 'state'>): void {
      markCurrent(row);
    },
    markFailed(row: Omit<HostReleaseRow, 'state'>): void {
      upsertFailed.run(row);
    },
    remove(hostId: number, version: string): void {
      removeOne.run(hostId, version);
    },
    removeHost(hostId: number, installId: number): void {
      removeHost.run(hostId, installId);
    },
  };
}

import type Database from 'better-sqlite3';
import type { HostRole } from '../../contract';

export interface InstallRow {
  id: number;
  name: string;
  bundleId: number;
  /** The install file last applied (its absolute path). */
  installFile: string;
  /** JSON: each host's merged configuration as last applied. */
  configSnapshot: string;
  caCert: string;
  /** The vault's id of the sealed CA key; null once the secret was removed. */
  caKeySecretId: number | null;
  /** JSON of the hosts, roles and layers last applied (a RecordedDefinition); null for installs applied before it was kept. */
  definition: string | null;
  createdAt: number;
  updatedAt: number;
}

export type InstallHostState = 'planned' | 'installing' | 'installed' | 'failed';
export type InstallMode = 'system' | 'user';
export type ServiceKind = 'systemd' | 'detached';

export interface InstallHostRow {
  installId: number;
  hostId: number;
  role: HostRole;
  gpu: boolean;
  state: InstallHostState;
  /** Decided by the first apply and kept: a later apply or uninstall goes to the same place. */
  mode: InstallMode | null;
  rootDir: string | null;
  service: ServiceKind | null;
  /** What the install made on the host (directories, links, unit files): what uninstall removes. */
  createdPaths: string[];
  /** JSON of the host's merged configuration. */
  config: string;
  updatedAt: number;
}

type RawHostRow = Omit<InstallHostRow, 'gpu' | 'createdPaths'> & { gpu: number; createdPaths: string };

const INSTALL_COLUMNS =
  'id, name, bundle_id AS bundleId, install_file AS installFile, config_snapshot AS configSnapshot, ca_cert AS caCert, ca_key_secret_id AS caKeySecretId, definition, created_at AS createdAt, updated_at AS updatedAt';
const HOST_COLUMNS =
  'install_id AS installId, host_id AS hostId, role, gpu, state, mode, root_dir AS rootDir, service, created_paths AS createdPaths, config, updated_at AS updatedAt';

function toHostRow(raw: RawHostRow): InstallHostRow {
  return { ...raw, gpu: raw.gpu === 1, createdPaths: JSON.parse(raw.createdPaths) as string[] };
}

export interface InstallsRepo {
  /** Every install's name, sorted. */
  names(): string[];
  findByName(name: string): InstallRow | null;
  get(id: number): InstallRow | null;
  insert(row: Omit<InstallRow, 'id' | 'definition' | 'createdAt' | 'updatedAt'>, now: number): number;
  update(id: number, row: Pick<InstallRow, 'bundleId' | 'installFile' | 'configSnapshot'>, now: number): void;
  /** Points the install at another sealed CA key (an imported one); the old secret is the caller's to remove. */
  setCaKeySecret(id: number, secretId: number): void;
  /** Keeps what an apply was given (hosts, roles, layers), for operations on the install by its name. */
  setDefinition(id: number, definition: string): void;
  hosts(installId: number): InstallHostRow[];
  host(installId: number, hostId: number): InstallHostRow | null;
  /** The install a host belongs to, if any: a host runs one runtime, for one install. */
  installOfHost(hostId: number): { installId: number; name: string } | null;
  upsertHost(row: { installId: number; hostId: number; role: HostRole; gpu: boolean; config: string }, now: number): void;
  setHostState(installId: number, hostId: number, state: InstallHostState, now: number): void;
  setPlacement(
    installId: number,
    hostId: number,
    placement: { mode: InstallMode; rootDir: string; service: ServiceKind },
    now: number,
  ): void;
  /** Adds to the paths the install made on the host; each is kept once. */
  addCreatedPaths(installId: number, hostId: number, paths: readonly string[], now: number): void;
  /** Takes paths off the list once they were removed from the host (a pruned release). */
  removeCreatedPaths(installId: number, hostId: number, paths: readonly string[], now: number): void;
  /** The host left the install (uninstalled); its steps and releases are the caller's to remove. */
  removeHost(installId: number, hostId: number): void;
  /** The install is gone; its hosts, steps and releases go with it (ON DELETE CASCADE). */
  remove(installId: number): void;
}

/** Installs and the hosts each one covers. */
export function createInstallsRepo(db: Database.Database): InstallsRepo {
  const byName = db.prepare<[string], InstallRow>(`SELECT ${INSTALL_COLUMNS} FROM installs WHERE name = ?`);
  const allNames = db.prepare<[], { name: string }>('SELECT name FROM installs ORDER BY name');
  const byId = db.prepare<[number], InstallRow>(`SELECT ${INSTALL_COLUMNS} FROM installs WHERE id = ?`);
  const insertInstall = db.prepare(
    `INSERT INTO installs (name, bundle_id, install_file, config_snapshot, ca_cert, ca_key_secret_id, created_at, updated_at)
     VALUES (@name, @bundleId, @installFile, @configSnapshot, @caCert, @caKeySecretId, @now, @now)`,
  );
  const updateInstall = db.prepare(
    'UPDATE installs SET bundle_id = @bundleId, install_file = @installFile, config_snapshot = @configSnapshot, updated_at = @now WHERE id = @id',
  );
  const hostsOf = db.prepare<[number], RawHostRow>(`SELECT ${HOST_COLUMNS} FROM install_hosts WHERE install_id = ? ORDER BY host_id`);
  const hostRow = db.prepare<[number, number], RawHostRow>(
    `SELECT ${HOST_COLUMNS} FROM install_hosts WHERE install_id = ? AND host_id = ?`,
  );
  const installOfHost = db.prepare<[number], { installId: number; name: string }>(
    'SELECT i.id AS installId, i.name AS name FROM install_hosts h JOIN installs i ON i.id = h.install_id WHERE h.host_id = ?',
  );
  const upsertHost = db.prepare(
    `INSERT INTO install_hosts (install_id, host_id, role, gpu, state, config, updated_at)
     VALUES (@installId, @hostId, @role, @gpu, 'planned', @config, @now)
     ON CONFLICT (install_id, host_id) DO UPDATE SET role = excluded.role, gpu = excluded.gpu, config = excluded.config, updated_at = excluded.updated_at`,
  );
  const setState = db.prepare(
    'UPDATE install_hosts SET state = @state, updated_at = @now WHERE install_id = @installId AND host_id = @hostId',
  );
  const setPlacement = db.prepare(
    'UPDATE install_hosts SET mode = @mode, root_dir = @rootDir, service = @service, updated_at = @now WHERE install_id = @installId AND host_id = @hostId',
  );
  const setCreated = db.prepare(
    'UPDATE install_hosts SET created_paths = @createdPaths, updated_at = @now WHERE install_id = @installId AND host_id = @hostId',
  );
  const setDefinition = db.prepare('UPDATE installs SET definition = @definition WHERE id = @id');
  const setCaKey = db.prepare('UPDATE installs SET ca_key_secret_id = @secretId WHERE id = @id');
  const deleteHost = db.prepare('DELETE FROM install_hosts WHERE install_id = ? AND host_id = ?');
  const deleteInstall = db.prepare('DELETE FROM installs WHERE id = ?');

  return {
    names: (): string[] => allNames.all().map((row) => row.name),
    findByName: (name: string): InstallRow | null => byName.get(name) ?? null,
    get: (id: number): InstallRow | null => byId.get(id) ?? null,
    insert(row: Omit<InstallRow, 'id' | 'definition' | 'createdAt' | 'updatedAt'>, now: number): number {
      return Number(insertInstall.run({ ...row, now }).lastInsertRowid);
    },
    update(id: number, row: Pick<InstallRow, 'bundleId' | 'installFile' | 'configSnapshot'>, now: number): void {
      updateInstall.run({ ...row, id, now });
    },
    setCaKeySecret(id: number, secretId: number): void {
      setCaKey.run({ id, secretId });
    },
    setDefinition(id: number, definition: string): void {
      setDefinition.run({ id, definition });
    },
    hosts: (installId: number): InstallHostRow[] => hostsOf.all(installId).map(toHostRow),
    host(installId: number, hostId: number): InstallHostRow | null {
      const raw = hostRow.get(installId, hostId);
      return raw ? toHostRow(raw) : null;
    },
    installOfHost: (hostId: number): { installId: number; name: string } | null => installOfHost.get(hostId) ?? null,
    upsertHost(row: { installId: number; hostId: number; role: HostRole; gpu: boolean; config: string }, now: number): void {
      upsertHost.run({ ...row, gpu: row.gpu ? 1 : 0, now });
    },
    setHostState(installId: number, hostId: number, state: InstallHostState, now: number): void {
      setState.run({ installId, hostId, state, now });
    },
    setPlacement(
      installId: number,
      hostId: number,
      placement: { mode: InstallMode; rootDir: string; service: ServiceKind },
      now: number,
    ): void {
      setPlacement.run({ installId, hostId, ...placement, now });
    },
    addCreatedPaths(installId: number, hostId: number, paths: readonly string[], now: number): void {
      if (paths.length === 0) return;
      const current = hostRow.get(installId, hostId);
      if (!current) return;
      const merged = [...new Set([...(JSON.parse(current.createdPaths) as string[]), ...paths])];
      setCreated.run({ installId, hostId, createdPaths: JSON.stringify(merged), now });
    },
    removeCreatedPaths(installId: number, hostId: number, paths: readonly string[], now: number): void {
      const current = hostRow.get(installId, hostId);
      if (!current || paths.length === 0) return;
      const gone = new Set(paths);
      const kept = (JSON.parse(current.createdPaths) as string[]).filter((p) => !gone.has(p));
      setCreated.run({ installId, hostId, createdPaths: JSON.stringify(kept), now });
    },
    removeHost(installId: number, hostId: number): void {
      deleteHost.run(installId, hostId);
    },
    remove(installId: number): void {
      deleteInstall.run(installId);
    },
  };
}

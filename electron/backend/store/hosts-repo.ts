import type Database from 'better-sqlite3';
import type { HostRole } from '../../contract';

export type AuthMethod = 'none' | 'key' | 'agent' | 'password';

export interface HostRow {
  id: number;
  name: string;
  kind: 'local' | 'ssh';
  address: string;
  createdAt: number;
  port: number;
  user: string;
  authMethod: AuthMethod;
  keyPath: string | null;
  /** Sealed password (password auth) or key passphrase (key auth). */
  secretId: number | null;
  /** Key auth with the private key sealed in the vault (sent as text); keyPath is null then. */
  keySecretId: number | null;
  sudoSecretId: number | null;
  jumpHostId: number | null;
  role: HostRole | null;
  labels: string[];
  updatedAt: number | null;
}

export type NewSshHost = Omit<HostRow, 'id' | 'kind' | 'createdAt' | 'updatedAt' | 'keySecretId'> & { keySecretId?: number | null };
export type HostRowChanges = Partial<Omit<HostRow, 'id' | 'kind' | 'createdAt'>>;

export interface HostsRepo {
  /** The machine the app runs on, created on first use; the same row every time after. */
  ensureLocal(now: number): HostRow;
  list(): HostRow[];
  /** At most `limit` hosts with an id above `after`, in id order (one page of hosts.list). */
  page(after: number, limit: number): HostRow[];
  get(id: number): HostRow | undefined;
  findByName(name: string): HostRow | undefined;
  insertSsh(host: NewSshHost, now: number): HostRow;
  update(id: number, changes: HostRowChanges, now: number): HostRow;
  remove(id: number): void;
  /** Hosts that reach their target through this one. */
  dependents(id: number): HostRow[];
}

export const LOCAL_HOST_NAME = 'local';
const LOCAL_HOST_ADDRESS = '127.0.0.1';

const COLUMNS = `id, name, kind, address, created_at AS createdAt, port, login_user AS user,
  auth_method AS authMethod, key_path AS keyPath, secret_id AS secretId, key_secret_id AS keySecretId, sudo_secret_id AS sudoSecretId,
  jump_host_id AS jumpHostId, role, labels, updated_at AS updatedAt`;

type RawRow = Omit<HostRow, 'labels'> & { labels: string };

const COLUMN_OF: Record<keyof HostRowChanges, string> = {
  name: 'name',
  address: 'address',
  port: 'port',
  user: 'login_user',
  authMethod: 'auth_method',
  keyPath: 'key_path',
  secretId: 'secret_id',
  keySecretId: 'key_secret_id',
  sudoSecretId: 'sudo_secret_id',
  jumpHostId: 'jump_host_id',
  role: 'role',
  labels: 'labels',
  updatedAt: 'updated_at',
};

function fromRaw(raw: RawRow | undefined): HostRow | undefined {
  if (!raw) return undefined;
  let labels: string[] = [];
  try {
    const parsed: unknown = JSON.parse(raw.labels);
    if (Array.isArray(parsed)) labels = parsed.filter((l): l is string => typeof l === 'string');
  } catch {
    // A hand-edited labels column reads as no labels rather than a broken inventory.
  }
  return { ...raw, labels };
}

export function createHostsRepo(db: Database.Database): HostsRepo {
  const insertLocal = db.prepare<[string, string, number]>(
    "INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'local', ?, ?) ON CONFLICT (name) DO NOTHING",
  );
  const selectAll = db.prepare<[], RawRow>(`SELECT ${COLUMNS} FROM hosts ORDER BY id`);
  const selectPage = db.prepare<[number, number], RawRow>(`SELECT ${COLUMNS} FROM hosts WHERE id > ? ORDER BY id LIMIT ?`);
  const selectById = db.prepare<[number], RawRow>(`SELECT ${COLUMNS} FROM hosts WHERE id = ?`);
  const selectByName = db.prepare<[string], RawRow>(`SELECT ${COLUMNS} FROM hosts WHERE name = ?`);
  const selectDependents = db.prepare<[number], RawRow>(`SELECT ${COLUMNS} FROM hosts WHERE jump_host_id = ? ORDER BY id`);
  const insertSshStmt = db.prepare(`INSERT INTO hosts (name, kind, address, created_at, port, login_user, auth_method, key_path,
    secret_id, key_secret_id, sudo_secret_id, jump_host_id, role, labels, updated_at) VALUES (?, 'ssh', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const deleteStmt = db.prepare('DELETE FROM hosts WHERE id = ?');

  const get = (id: number) => fromRaw(selectById.get(id));
  const findByName = (name: string) => fromRaw(selectByName.get(name));
  const mustGet = (id: number): HostRow => {
    const row = get(id);
    if (!row) throw new Error(`host ${id} vanished inside its own transaction`);
    return row;
  };

  return {
    ensureLocal(now) {
      insertLocal.run(LOCAL_HOST_NAME, LOCAL_HOST_ADDRESS, now);
      const row = findByName(LOCAL_HOST_NAME);
      if (row === undefined) throw new Error('the local host row vanished right after it was ensured');
      return row;
    },
    list: () => selectAll.all().map((raw) => fromRaw(raw)!),
    page: (after, limit) => selectPage.all(after, limit).map((raw) => fromRaw(raw)!),
    get,
    findByName,
    insertSsh(host, now) {
      const id = Number(
        insertSshStmt.run(
          host.name,
          host.address,
          now,
          host.port,
          host.user,
          host.authMethod,
          host.keyPath,
          host.secretId,
          host.keySecretId ?? null,
          host.sudoSecretId,
          host.jumpHostId,
          host.role,
          JSON.stringify(host.labels),
          now,
        ).lastInsertRowid,
      );
      return mustGet(id);
    },
    update(id, changes, now) {
      const entries = Object.entries({ ...changes, updatedAt: now }) as Array<[keyof HostRowChanges, unknown]>;
      const sets = entries.map(([field]) => `${COLUMN_OF[field]} = ?`).join(', ');
      const values = entries.map(([field, value]) => (field === 'labels' ? JSON.stringify(value) : value));
      db.prepare(`UPDATE hosts SET ${sets} WHERE id = ?`).run(...values, id);
      return mustGet(id);
    },
    remove(id) {
      deleteStmt.run(id);
    },
    dependents: (id) => selectDependents.all(id).map((raw) => fromRaw(raw)!),
  };
}

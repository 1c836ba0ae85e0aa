import type Database from 'better-sqlite3';

export interface HostRow {
  id: number;
  name: string;
  kind: 'local' | 'ssh';
  address: string;
  createdAt: number;
}

export interface HostsRepo {
  /** The machine the app runs on, created on first use; the same row every time after. */
  ensureLocal(now: number): HostRow;
  list(): HostRow[];
  get(id: number): HostRow | undefined;
  findByName(name: string): HostRow | undefined;
}

export const LOCAL_HOST_NAME = 'local';
const LOCAL_HOST_ADDRESS = '127.0.0.1';

const COLUMNS = 'id, name, kind, address, created_at AS createdAt';

export function createHostsRepo(db: Database.Database): HostsRepo {
  const insertLocal = db.prepare<[string, string, number]>(
    "INSERT INTO hosts (name, kind, address, created_at) VALUES (?, 'local', ?, ?) ON CONFLICT (name) DO NOTHING",
  );
  const selectAll = db.prepare<[], HostRow>(`SELECT ${COLUMNS} FROM hosts ORDER BY id`);
  const selectById = db.prepare<[number], HostRow>(`SELECT ${COLUMNS} FROM hosts WHERE id = ?`);
  const selectByName = db.prepare<[string], HostRow>(`SELECT ${COLUMNS} FROM hosts WHERE name = ?`);

  const findByName = (name: string): HostRow | undefined => selectByName.get(name);

  return {
    ensureLocal(now) {
      insertLocal.run(LOCAL_HOST_NAME, LOCAL_HOST_ADDRESS, now);
      const row = findByName(LOCAL_HOST_NAME);
      // The insert above either created the row or found it there; both leave it readable.
      if (row === undefined) throw new Error('the local host row vanished right after it was ensured');
      return row;
    },
    list: () => selectAll.all(),
    get: (id) => selectById.get(id),
    findByName,
  };
}

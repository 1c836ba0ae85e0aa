import type Database from 'better-sqlite3';
import { OperatorAttributesSchema, type Operator, type OperatorAttributes, type Role } from '../../contract';
import type { PasswordHash } from './operator-passwords';

interface OperatorRow {
  id: number;
  name: string;
  role: Role;
  attributes: string;
  password_hash: Buffer;
  password_salt: Buffer;
  password_kdf: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export interface NewOperatorRow {
  name: string;
  role: Role;
  attributes: OperatorAttributes;
  password: PasswordHash;
  now: number;
}

export interface OperatorChanges {
  role?: Role;
  attributes?: OperatorAttributes;
  password?: PasswordHash;
  disabled?: boolean;
}

/** The `operators` table (migration 020): rows in and out as the contract's Operator, the hash only for checking a password. */
export interface OperatorsRepo {
  count(): number;
  list(): Operator[];
  get(id: number): Operator | undefined;
  /** Names compare without case: `Alice` and `alice` are one operator. */
  byName(name: string): Operator | undefined;
  passwordOf(id: number): PasswordHash | undefined;
  insert(row: NewOperatorRow): Operator;
  update(id: number, changes: OperatorChanges, now: number): Operator;
  remove(id: number): void;
  /** Enabled admins other than `exceptId`: a change must leave one while any operator is left. */
  enabledAdminsBesides(exceptId: number | null): number;
  /** The provider account (migration 029) the operator first signed in through the provider with, if any. */
  providerSubjectOf(id: number): { issuer: string; subject: string } | undefined;
  /** The operator the provider account is linked to, if any. */
  operatorOfProviderSubject(issuer: string, subject: string): number | undefined;
  linkProviderSubject(id: number, issuer: string, subject: string, now: number): void;
  /** Whether there was a link to clear. */
  clearProviderSubject(id: number): boolean;
  transaction<T>(fn: () => T): T;
}

export function createOperatorsRepo(db: Database.Database): OperatorsRepo {
  const countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM operators');
  const selectAll = db.prepare<[], OperatorRow>('SELECT * FROM operators ORDER BY name COLLATE NOCASE');
  const selectById = db.prepare<[number], OperatorRow>('SELECT * FROM operators WHERE id = ?');
  const selectByName = db.prepare<[string], OperatorRow>('SELECT * FROM operators WHERE name = ?');
  const insertRow = db.prepare(
    `INSERT INTO operators (id, name, role, attributes, password_hash, password_salt, password_kdf, disabled, created_at, updated_at)
     VALUES (@id, @name, @role, @attributes, @hash, @salt, @kdf, 0, @now, @now)`,
  );
  // Ids are never handed out twice (migration 026): a window signed in as a removed operator must not become the next one added.
  const nextId = db.prepare<[], { id: number }>(
    'SELECT MAX(COALESCE((SELECT id FROM operator_id_high_water WHERE only_row = 1), 0), COALESCE((SELECT MAX(id) FROM operators), 0)) + 1 AS id',
  );
  const raiseHighWater = db.prepare<[number]>(
    'INSERT INTO operator_id_high_water (only_row, id) VALUES (1, ?) ON CONFLICT (only_row) DO UPDATE SET id = excluded.id',
  );
  const updateRow = db.prepare(
    `UPDATE operators SET role = @role, attributes = @attributes, password_hash = @hash, password_salt = @salt,
       password_kdf = @kdf, disabled = @disabled, updated_at = @now WHERE id = @id`,
  );
  const deleteRow = db.prepare('DELETE FROM operators WHERE id = ?');
  const countAdmins = db.prepare<[number], { n: number }>(
    "SELECT COUNT(*) AS n FROM operators WHERE role = 'admin' AND disabled = 0 AND id != ?",
  );

  const selectSubject = db.prepare<[number], { issuer: string; subject: string }>(
    'SELECT issuer, subject FROM operator_provider_subjects WHERE operator_id = ?',
  );
  const selectSubjectOwner = db.prepare<[string, string], { operator_id: number }>(
    'SELECT operator_id FROM operator_provider_subjects WHERE issuer = ? AND subject = ?',
  );
  const insertSubject = db.prepare('INSERT INTO operator_provider_subjects (operator_id, issuer, subject, linked_at) VALUES (?, ?, ?, ?)');
  const deleteSubject = db.prepare('DELETE FROM operator_provider_subjects WHERE operator_id = ?');

  const required = (id: number): OperatorRow => {
    const row = selectById.get(id);
    if (!row) throw new Error(`operator ${id} vanished during a change`);
    return row;
  };

  return {
    count: () => countAll.get()!.n,
    list: () => selectAll.all().map(toOperator),
    get: (id) => {
      const row = selectById.get(id);
      return row && toOperator(row);
    },
    byName: (name) => {
      const row = selectByName.get(name);
      return row && toOperator(row);
    },
    passwordOf: (id) => {
      const row = selectById.get(id);
      return row && { hash: row.password_hash, salt: row.password_salt, kdf: row.password_kdf };
    },
    insert: ({ name, role, attributes, password, now }) => {
      const id = nextId.get()!.id;
      raiseHighWater.run(id);
      const { lastInsertRowid } = insertRow.run({
        id,
        name,
        role,
        attributes: JSON.stringify(attributes),
        hash: password.hash,
        salt: password.salt,
        kdf: password.kdf,
        now,
      });
      return toOperator(required(Number(lastInsertRowid)));
    },
    update: (id, changes, now) => {
      const row = required(id);
      updateRow.run({
        id,
        role: changes.role ?? row.role,
        attributes: changes.attributes === undefined ? row.attributes : JSON.stringify(changes.attributes),
        hash: changes.password?.hash ?? row.password_hash,
        salt: changes.password?.salt ?? row.password_salt,
        kdf: changes.password?.kdf ?? row.password_kdf,
        disabled: changes.disabled === undefined ? row.disabled : changes.disabled ? 1 : 0,
        now,
      });
      return toOperator(required(id));
    },
    remove: (id) => {
      deleteSubject.run(id);
      deleteRow.run(id);
    },
    providerSubjectOf: (id) => {
      const row = selectSubject.get(id);
      return row && { issuer: row.issuer, subject: row.subject };
    },
    operatorOfProviderSubject: (issuer, subject) => selectSubjectOwner.get(issuer, subject)?.operator_id,
    linkProviderSubject: (id, issuer, subject, now) => void insertSubject.run(id, issuer, subject, now),
    clearProviderSubject: (id) => deleteSubject.run(id).changes > 0,
    enabledAdminsBesides: (exceptId) => countAdmins.get(exceptId ?? 0)!.n,
    transaction: (fn) => db.transaction(fn).immediate(),
  };
}

function toOperator(row: OperatorRow): Operator {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    attributes: parseAttributes(row.attributes),
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A row edited by hand into something the schema refuses selects nothing narrower than the role. */
function parseAttributes(text: string): OperatorAttributes {
  try {
    const parsed = OperatorAttributesSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

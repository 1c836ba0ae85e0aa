import { ApiError, type ConfigReviewItem } from '../../../contract';
import type { PasswordHash } from '../../operators/operator-passwords';
import { parseKdf } from '../../secrets/passphrase-kdf';
import type { ConfigDocument, ExportedOperator } from './config-document';
import type { ConfigStore } from './store-document';

/**
 * Operators in a configuration import: an existing one's role, attributes and disabled flag
 * are updated; a new one is created without a password (a file never carries one), so it
 * cannot sign in until an admin sets it one here. Whatever is chosen, an enabled admin who
 * can sign in must remain (the last-admin rule of operator-service.ts), or the import is refused.
 */

/** What the review shows for a new operator's password. */
export const NO_PASSWORD_YET = 'none yet: cannot sign in until an admin sets one here';

/**
 * A stored password no password matches: its parameters name no key-stretching this version
 * knows, and passwordMatches() refuses such a row (operator-passwords.ts). Empty salt and hash.
 */
const UNSET_KDF = 'unset:config-import';
export const unsetPassword = (): PasswordHash => ({ hash: Buffer.alloc(0), salt: Buffer.alloc(0), kdf: UNSET_KDF });

function canSignIn(store: ConfigStore, operatorId: number): boolean {
  const stored = store.operators.passwordOf(operatorId);
  return stored !== undefined && parseKdf(stored.kdf) !== null;
}

interface OperatorState {
  role: ExportedOperator['role'];
  disabled: boolean;
  canSignIn: boolean;
}

/**
 * Whether, with the file's operators named in `chosen` applied, the store still has no
 * operator at all (the bootstrap: every pipe acts as the one admin) or an enabled admin who
 * can sign in. Names compare without case, as operators' names do.
 */
export function adminRemains(store: ConfigStore, operators: readonly ExportedOperator[], chosen: (name: string) => boolean): boolean {
  const after = new Map<string, OperatorState>();
  for (const op of store.operators.list())
    after.set(op.name.toLowerCase(), { role: op.role, disabled: op.disabled, canSignIn: canSignIn(store, op.id) });
  for (const op of operators) {
    if (!chosen(op.name)) continue;
    const current = after.get(op.name.toLowerCase());
    after.set(op.name.toLowerCase(), { role: op.role, disabled: op.disabled, canSignIn: current?.canSignIn ?? false });
  }
  if (after.size === 0) return true;
  return [...after.values()].some((o) => o.role === 'admin' && !o.disabled && o.canSignIn);
}

/** The reason an operator item cannot be applied with the others: it would leave no admin who can sign in. */
function lastAdminReason(store: ConfigStore): string {
  return store.operators.count() === 0
    ? 'this control center has no operators yet: importing them turns sign-in on, and an imported operator has no password here, so no one could sign in. Add an admin here first (Operators page or `sutazai operators add`), then import them'
    : 'importing it with the other operator changes would leave no enabled admin who can sign in here';
}

/**
 * Review items for the file's operators: new (with no password yet), changed field by field,
 * unchanged. An item whose change would break the last-admin rule (judged with every new and
 * changed operator applied, as "all" would) is a conflict when it demotes or disables an
 * admin, or blocked when the store has no operators to sign in with.
 */
export function reviewOperators(
  store: ConfigStore,
  document: ConfigDocument,
  fieldChanges: (current: object | null, next: object) => ConfigReviewItem['changes'],
  item: (name: string, status: ConfigReviewItem['status'], changes: ConfigReviewItem['changes'], reason: string | null) => ConfigReviewItem,
): ConfigReviewItem[] {
  const operators = document.operators ?? [];
  const items = operators.map((op) => {
    const local = store.operators.byName(op.name);
    if (!local) return item(op.name, 'new', [...fieldChanges(null, op), { field: 'password', from: '', to: NO_PASSWORD_YET }], null);
    const current: ExportedOperator = { name: local.name, role: local.role, attributes: local.attributes, disabled: local.disabled };
    const changes = fieldChanges(current, op);
    return item(op.name, changes.length ? 'changed' : 'unchanged', changes, null);
  });
  const applying = new Set(items.filter((i) => i.status === 'new' || i.status === 'changed').map((i) => i.name.toLowerCase()));
  if (adminRemains(store, operators, (name) => applying.has(name.toLowerCase()))) return items;
  const reason = lastAdminReason(store);
  const empty = store.operators.count() === 0;
  return items.map((i, index) => {
    const op = operators[index]!;
    const local = store.operators.byName(op.name);
    const takesAdmin = local !== undefined && local.role === 'admin' && !local.disabled && (op.role !== 'admin' || op.disabled);
    if (empty && i.status === 'new') return { ...i, status: 'blocked', reason };
    if (takesAdmin && i.status === 'changed') return { ...i, status: 'conflict', reason };
    return i;
  });
}

/**
 * Applies the chosen operator items (inside the import's transaction) and checks the
 * last-admin rule against the rows as they are then: a breach throws, and the whole import
 * is rolled back. Returns the names created without a password.
 */
export function applyOperators(
  store: ConfigStore,
  document: ConfigDocument,
  chosen: ReadonlySet<string>,
  now: number,
  operatorDisabled: (operator: { id: number; name: string }, reason: string) => void,
): { applied: string[]; withoutPassword: string[] } {
  const applied: string[] = [];
  const withoutPassword: string[] = [];
  for (const op of document.operators ?? []) {
    const id = `operator:${op.name}`;
    if (!chosen.has(id)) continue;
    const local = store.operators.byName(op.name);
    if (!local) {
      const created = store.operators.insert({ name: op.name, role: op.role, attributes: op.attributes, password: unsetPassword(), now });
      if (op.disabled) store.operators.update(created.id, { disabled: true }, now);
      withoutPassword.push(op.name);
    } else {
      store.operators.update(local.id, { role: op.role, attributes: op.attributes, disabled: op.disabled }, now);
      if (op.disabled && !local.disabled) operatorDisabled(local, 'operator disabled by a configuration import');
    }
    applied.push(id);
  }
  if (applied.length > 0 && !adminRemains(store, [], () => false)) {
    throw new ApiError(
      'OPERATOR_LAST_ADMIN',
      `This import would leave no enabled admin who can sign in (${applied.join(', ')}). Nothing was imported.`,
      'Leave out the operator items that demote or disable the admins here, or make another operator here an admin first; an imported operator has no password until an admin sets one.',
      {
        cliRemedy:
          'Leave out those operator items (choose items with --item), or make another operator an admin first with `sutazai operators set NAME --role admin`.',
      },
    );
  }
  return { applied, withoutPassword };
}

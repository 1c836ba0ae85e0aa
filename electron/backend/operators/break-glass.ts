import type Database from 'better-sqlite3';
import { ApiError, LOCAL_AUDIT_METHODS, MIN_OPERATOR_PASSWORD_LENGTH, type LocalAuditMethod } from '../../contract';
import { createAuditLog } from '../audit/audit-log';
import { localUser } from '../audit/local-user';
import { createSecretVault } from '../secrets/secret-vault';
import { createOperatorMfaRepo } from './operator-mfa-repo';
import { hashPassword } from './operator-passwords';
import { createOperatorsRepo } from './operators-repo';
import { operatorKeyOf } from './sign-in-limiter';
import { createWebSessions } from './web-sessions';

/** What `sutazai operators reset-admin` did, for its output and its audit entry. */
export interface BreakGlassResult {
  name: string;
  /** No operator had the name: a new admin was added. */
  created: boolean;
  /** Its earlier role, when it was not an admin. */
  wasRole: string | null;
  wasDisabled: boolean;
  /** Its two-factor enrolment was removed (it must enrol again). */
  mfaRemoved: boolean;
  /** Its browser sign-ins ended. */
  sessionsEnded: number;
  auditSeq: number;
}

/**
 * Break-glass (issue 14): when every admin is locked out (password forgotten, authenticator
 * lost, disabled by mistake), someone with the data directory itself (the account that owns
 * it, or root, on the machine the control center runs on) makes one operator an enabled admin
 * again with a new password and no two-factor enrolment. There is no operator to sign in as,
 * so the proof is the filesystem: whoever can write the store owns the control center anyway.
 * It goes through no pipe (never offered over the contract, so no window or browser can ask
 * for it) and is recorded in the audit log, in the same transaction, naming the local user and
 * machine. Its sign-in throttle is cleared; its runtime certificates are left as they are.
 */
export async function resetAdmin(
  db: Database.Database,
  input: { name: string; password: string; now: () => number },
): Promise<BreakGlassResult> {
  if ([...input.password].length < MIN_OPERATOR_PASSWORD_LENGTH)
    throw new ApiError(
      'OPERATOR_PASSWORD_WEAK',
      `An operator password needs at least ${MIN_OPERATOR_PASSWORD_LENGTH} characters.`,
      'Choose a longer one (a few words make a good one).',
    );
  // Hashed before the transaction: the memory-hard hash takes a while and holds no lock.
  const password = await hashPassword(input.password);
  const operators = createOperatorsRepo(db);
  const mfa = createOperatorMfaRepo(db);
  const vault = createSecretVault(db);
  const sessions = createWebSessions({ db, now: input.now });
  const audit = createAuditLog(db);
  const clearThrottle = db.prepare('DELETE FROM sign_in_failures WHERE key = ?');
  return db.transaction((): BreakGlassResult => {
    const now = input.now();
    const existing = operators.byName(input.name);
    const operator = existing
      ? operators.update(existing.id, { role: 'admin', disabled: false, password }, now)
      : operators.insert({ name: input.name, role: 'admin', attributes: {}, password, now });
    const secretId = mfa.forget(operator.id);
    // The sealed secret needs no key to be deleted: the vault may stay locked.
    if (secretId !== undefined) vault.remove(secretId);
    const sessionsEnded = existing ? sessions.endAllOf(operator.id, 'break-glass reset of the operator') : 0;
    clearThrottle.run(operatorKeyOf(operator.name));
    const result = {
      name: operator.name,
      created: existing === undefined,
      wasRole: existing && existing.role !== 'admin' ? existing.role : null,
      wasDisabled: existing?.disabled ?? false,
      mfaRemoved: secretId !== undefined,
      sessionsEnded,
    };
    const auditSeq = audit.append({
      atMs: now,
      operator: null,
      actor: `break-glass by ${localUser()}`,
      peer: 'local',
      action: LOCAL_AUDIT_METHODS['operators.resetAdmin'].action,
      method: 'operators.resetAdmin' satisfies LocalAuditMethod,
      target: `operator ${operator.name}`,
      outcome: 'ok',
    });
    return { ...result, auditSeq };
  })();
}

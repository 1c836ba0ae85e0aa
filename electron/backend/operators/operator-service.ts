import { ApiError, MIN_OPERATOR_PASSWORD_LENGTH, type Operator, type OperatorAttributes, type Role, type Session } from '../../contract';
import { decoyHash, hashPassword, passwordMatches, passwordUsable } from './operator-passwords';
import type { OperatorChanges, OperatorsRepo } from './operators-repo';

/** The operator a pipe acts as, as the dispatcher's Caller carries it. */
export interface SignedInOperator {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

export interface NewOperator {
  name: string;
  role: Role;
  password: string;
  attributes: OperatorAttributes;
}

export interface OperatorUpdate {
  role?: Role | undefined;
  password?: string | undefined;
  attributes?: OperatorAttributes | undefined;
  disabled?: boolean | undefined;
  /** Forgets the provider account the operator is linked to (its next provider sign-in links the account it comes with). */
  clearProviderSubject?: boolean | undefined;
}

/** Operators (issue 14, item 1): who they are, their passwords, and the rule that an admin always remains. */
export interface OperatorService {
  /** Whether any operator exists: none means every pipe acts as the one admin (the bootstrap). */
  exist(): boolean;
  list(): Operator[];
  /** Whether the operator has a password it can sign in with (false for one imported from a configuration bundle until set). */
  passwordSet(id: number): boolean;
  add(input: NewOperator): Promise<Operator>;
  set(name: string, update: OperatorUpdate): Promise<Operator>;
  remove(name: string): { removed: string };
  /** The operator of this name (OPERATOR_NOT_FOUND when there is none). */
  named(name: string): Operator;
  /** The operator whose name and password these are, enabled; SIGN_IN_FAILED otherwise (the same for every reason). */
  verify(name: string, password: string): Promise<Operator>;
  /**
   * Binds a provider sign-in to the operator: the first one links the provider account
   * (issuer, subject) to it; later ones must come from that account, and an account linked
   * to another operator signs in as no one else. OIDC_OPERATOR_REFUSED otherwise.
   */
  bindProviderSubject(operator: Operator, issuer: string, subject: string): void;
  /**
   * The same check, writing nothing: OIDC_OPERATOR_REFUSED when the operator is linked to
   * another provider account or this account to another operator. Made before a provider
   * sign-in asks for a two-factor code, so a stranger's account is refused before it learns
   * that the operator has one or can spend the operator's sign-in tries.
   */
  checkProviderSubject(operator: Operator, issuer: string, subject: string): void;
  /** The operator a pipe signed in as, as it is now: undefined once removed or disabled. */
  current(id: number): SignedInOperator | undefined;
  /** What session.whoami answers for a pipe signed in as `operatorId` (or none). */
  sessionOf(operatorId: number | undefined): Session;
}

export function createOperatorService(deps: {
  repo: OperatorsRepo;
  now: () => number;
  /** Called inside a removal's transaction, before the row goes: what else the operator owns goes with it (its sealed TOTP secret). */
  onRemove?: (operatorId: number) => void;
  /** Called inside the transaction that removes or disables an operator or changes its password: its browser sign-ins end. */
  endSignIns?: (operatorId: number, reason: string) => void;
  /** Called after an operator was added, changed or removed (committed): the runtimes are told at once, not at their links' next check. */
  changed?: () => void;
  /** Revokes the operator's runtime credentials (their client certificates): called when one is removed or disabled, in the same transaction. */
  revokeCredentials?: (name: string) => void;
}): OperatorService {
  const { repo, now } = deps;
  const committed = <T>(result: T): T => {
    deps.changed?.();
    return result;
  };

  const requireOperator = (name: string): Operator => {
    const operator = repo.byName(name);
    if (!operator)
      throw new ApiError('OPERATOR_NOT_FOUND', `There is no operator named "${name}".`, 'Pick one from the Operators page.', {
        cliRemedy: 'List them with `sutazai operators list`.',
      });
    return operator;
  };

  const current = (id: number): SignedInOperator | undefined => {
    const operator = repo.get(id);
    if (!operator || operator.disabled) return undefined;
    return { id: operator.id, name: operator.name, role: operator.role };
  };

  /** 'linked' when the operator is linked to this account already, 'free' when neither is linked elsewhere; refused otherwise. */
  const checkProviderSubject = (operator: Operator, issuer: string, subject: string): 'linked' | 'free' => {
    const linked = repo.providerSubjectOf(operator.id);
    const owner = repo.operatorOfProviderSubject(issuer, subject);
    if (linked !== undefined && linked.issuer === issuer && linked.subject === subject) return 'linked';
    if (linked !== undefined || (owner !== undefined && owner !== operator.id))
      throw new ApiError(
        'OIDC_OPERATOR_REFUSED',
        linked !== undefined
          ? `${operator.name} is linked to another account at the provider than the one that signed in (subject ${JSON.stringify(subject)}).`
          : `The provider account that signed in (subject ${JSON.stringify(subject)}) is linked to another operator.`,
        'Sign in with the provider account you first signed in with. When your account there changed, an admin clears the link: `sutazai operators set NAME --clear-provider-subject`.',
      );
    return 'free';
  };

  return {
    bindProviderSubject(operator, issuer, subject) {
      repo.transaction(() => {
        if (checkProviderSubject(operator, issuer, subject) === 'linked') return;
        repo.linkProviderSubject(operator.id, issuer, subject, now());
      });
    },
    checkProviderSubject(operator, issuer, subject) {
      checkProviderSubject(operator, issuer, subject);
    },
    exist: () => repo.count() > 0,
    list: () => repo.list(),
    passwordSet: (id) => {
      const stored = repo.passwordOf(id);
      return stored !== undefined && passwordUsable(stored);
    },
    async add({ name, role, password, attributes }) {
      checkStrength(password);
      const hash = await hashPassword(password);
      return committed(
        repo.transaction(() => {
          if (repo.byName(name)) throw nameTaken(name);
          if (repo.count() === 0 && role !== 'admin')
            throw noAdminLeft(
              `The first operator must be an admin (${name} would be ${role}).`,
              'Add an admin first; then add the others with any role.',
            );
          return repo.insert({ name, role, attributes, password: hash, now: now() });
        }),
      );
    },
    async set(name, update) {
      if (update.password !== undefined) checkStrength(update.password);
      const hash = update.password === undefined ? undefined : await hashPassword(update.password);
      return committed(
        repo.transaction(() => {
          const operator = requireOperator(name);
          const staysAdmin = (update.role ?? operator.role) === 'admin' && !(update.disabled ?? operator.disabled);
          if (!staysAdmin && repo.enabledAdminsBesides(operator.id) === 0)
            throw noAdminLeft(`${operator.name} is the last enabled admin; this change would leave none.`);
          const changes: OperatorChanges = {
            ...(update.role !== undefined ? { role: update.role } : {}),
            ...(update.attributes !== undefined ? { attributes: update.attributes } : {}),
            ...(update.disabled !== undefined ? { disabled: update.disabled } : {}),
            ...(hash !== undefined ? { password: hash } : {}),
          };
          const updated = repo.update(operator.id, changes, now());
          if (update.clearProviderSubject === true) repo.clearProviderSubject(operator.id);
          if (update.disabled === true && !operator.disabled) {
            deps.endSignIns?.(operator.id, 'operator disabled');
            deps.revokeCredentials?.(operator.name);
          } else if (hash !== undefined) deps.endSignIns?.(operator.id, 'password changed');
          return updated;
        }),
      );
    },
    remove(name) {
      return committed(
        repo.transaction(() => {
          const operator = requireOperator(name);
          // The last operator of all may go (back to the bootstrap); an admin must remain while others do.
          if (repo.count() > 1 && repo.enabledAdminsBesides(operator.id) === 0)
            throw noAdminLeft(`${operator.name} is the last enabled admin; the other operators would have none.`);
          deps.onRemove?.(operator.id);
          deps.endSignIns?.(operator.id, 'operator removed');
          deps.revokeCredentials?.(operator.name);
          repo.remove(operator.id);
          return { removed: operator.name };
        }),
      );
    },
    named: requireOperator,
    async verify(name, password) {
      const operator = repo.byName(name);
      const stored = operator ? repo.passwordOf(operator.id) : undefined;
      // An unknown name costs the same scrypt as a known one: the answer's time tells nothing.
      const matches = await passwordMatches(password, stored ?? decoyHash());
      if (!operator || !stored || !matches || operator.disabled) throw signInFailed();
      return operator;
    },
    current,
    sessionOf(operatorId) {
      const exists = repo.count() > 0;
      const signedIn = operatorId === undefined ? undefined : repo.get(operatorId);
      const operator = signedIn && !signedIn.disabled ? signedIn : undefined;
      return {
        operatorsExist: exists,
        operator: operator ? { id: operator.id, name: operator.name, role: operator.role, attributes: operator.attributes } : null,
        role: !exists ? 'admin' : (operator?.role ?? null),
      };
    },
  };
}

/**
 * The one answer to a wrong name, password or two-factor code at sign-in: which of them was
 * wrong is not said (an attacker learns nothing from it); the audit log records each try.
 */
export function signInFailed(): ApiError {
  return new ApiError(
    'SIGN_IN_FAILED',
    'The name and password do not match an enabled operator. Where a code was asked for, it may be wrong or used already.',
    'Check the name, the password and the code; an admin can reset a password, two-factor sign-in or enable an operator on the Operators page.',
    {
      cliRemedy:
        'Check the name given to --as, the password and the code; an admin can reset them with `sutazai operators set NAME --reset-password` or `sutazai operators mfa reset NAME`.',
    },
  );
}

function checkStrength(password: string): void {
  if ([...password].length < MIN_OPERATOR_PASSWORD_LENGTH)
    throw new ApiError(
      'OPERATOR_PASSWORD_WEAK',
      `An operator password needs at least ${MIN_OPERATOR_PASSWORD_LENGTH} characters.`,
      `Choose a longer one (a few words make a good one).`,
    );
}

function nameTaken(name: string): ApiError {
  return new ApiError('OPERATOR_NAME_TAKEN', `An operator named "${name}" exists already (names ignore case).`, 'Choose another name.');
}

function noAdminLeft(message: string, remedy?: string): ApiError {
  if (remedy !== undefined) return new ApiError('OPERATOR_LAST_ADMIN', message, remedy);
  return new ApiError('OPERATOR_LAST_ADMIN', message, 'Make another operator an admin first (or add one), then change this one.', {
    cliRemedy:
      'Make another operator an admin first: `sutazai operators add NAME --role admin` or `sutazai operators set NAME --role admin`.',
  });
}

import { roleAllows, roleRefusal, type AccessDecision, type Action, type Session } from '../../../electron/contract';

/** Whether this window must show the sign-in screen before anything else. */
export function mustSignIn(session: Session | undefined): boolean {
  return session !== undefined && session.operatorsExist && session.role === null;
}

export interface Allowed {
  allowed: boolean;
  /** Why not, in a sentence for beside the disabled control; null when allowed. */
  reason: string | null;
}

/**
 * Whether `role` may take `action` (the table the backend checks every call against), with
 * the reason when not; for several actions, whether it may take every one, the reason naming
 * those it may not. An unknown role (the session not read yet, or no sign-in needed)
 * leaves the control usable: the backend refuses a call the role does not allow anyway.
 */
export function allowedFor(role: Session['role'] | undefined, action: Action | readonly Action[]): Allowed {
  if (role === undefined || role === null) return { allowed: true, reason: null };
  const refused = (typeof action === 'string' ? [action] : action).filter((a) => !roleAllows(role, a));
  if (refused.length === 0) return { allowed: true, reason: null };
  return { allowed: false, reason: `You are ${roleRefusal(role, refused)}.` };
}

/**
 * The backend's decision on a resource (access.explain) as the note beside a disabled control:
 * the rule or attribute of the install's access policy that refuses it. While the answer is
 * not in, the control stays usable: the backend refuses a call the policy does not allow anyway.
 */
export function policyAllowed(decision: AccessDecision | undefined): Allowed {
  if (decision === undefined || decision.allowed) return { allowed: true, reason: null };
  if (decision.by === 'role') return { allowed: false, reason: `You are not allowed: ${decision.reason ?? 'your role may not'}.` };
  return { allowed: false, reason: `The access policy refuses it: ${decision.reason ?? 'no rule allows it'}.` };
}

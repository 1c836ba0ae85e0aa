import { roleAllows, roleRefusal, type Action, type Session } from '../../../electron/contract';

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
 * the reason when not. An unknown role (the session not read yet, or no sign-in needed)
 * leaves the control usable: the backend refuses a call the role does not allow anyway.
 */
export function allowedFor(role: Session['role'] | undefined, action: Action): Allowed {
  if (role === undefined || role === null || roleAllows(role, action)) return { allowed: true, reason: null };
  return { allowed: false, reason: `You are ${roleRefusal(role, action)}.` };
}

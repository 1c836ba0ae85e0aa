import type { Action, MethodParams } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { allowedFor, policyAllowed, type Allowed } from './session-rules';

/** Read again now and then: an admin may change this operator's role, or disable it, meanwhile. */
const SESSION_REFRESH_MS = 15_000;

/** Who this window acts as (session.whoami): the bootstrap's admin, a signed-in operator, or no one yet. */
export function useSession() {
  return useApiQuery('session.whoami', {}, { refetchInterval: SESSION_REFRESH_MS });
}

/** A host (and a process on it) or an install that an action is taken on. */
export type AccessResourceRef = Omit<MethodParams<'access.explain'>, 'action'>;

/**
 * Whether the operator's role allows `action` (every one of several), with the reason beside a
 * disabled control when not. Given the resource the control acts on, the backend is asked
 * too (access.explain), so that an install's access policy (access_control: abac) that
 * refuses it disables the control with the rule or attribute that refuses it.
 */
export function useAllowed(action: Action | readonly Action[], resource?: AccessResourceRef): Allowed {
  const session = useSession().data;
  const byRole = allowedFor(session?.role, action);
  const single = typeof action === 'string' ? action : action.length === 1 ? action[0] : undefined;
  const asked = resource !== undefined && single !== undefined && byRole.allowed && session?.operator != null;
  // Read again with the session: the policy files and the operator's attributes can change meanwhile.
  const explained = useApiQuery(
    'access.explain',
    { action: single ?? 'view', ...resource },
    {
      enabled: asked,
      refetchInterval: SESSION_REFRESH_MS,
    },
  );
  return asked ? policyAllowed(explained.data) : byRole;
}

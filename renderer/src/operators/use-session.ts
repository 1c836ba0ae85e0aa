import type { Action } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { allowedFor, type Allowed } from './session-rules';

/** Read again now and then: an admin may change this operator's role, or disable it, meanwhile. */
const SESSION_REFRESH_MS = 15_000;

/** Who this window acts as (session.whoami): the bootstrap's admin, a signed-in operator, or no one yet. */
export function useSession() {
  return useApiQuery('session.whoami', {}, { refetchInterval: SESSION_REFRESH_MS });
}

/** Whether the operator's role allows `action` (every one of several), with the reason beside a disabled control when not. */
export function useAllowed(action: Action | readonly Action[]): Allowed {
  return allowedFor(useSession().data?.role, action);
}

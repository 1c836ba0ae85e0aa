import { ApiError } from '../../contract';
import type { Caller } from '../server/dispatcher';

/**
 * A browser signed in already may not start another sign-in on its connection (a provider's
 * second step, a forced enrolment): its socket would go on as one operator while its cookie
 * names another. Sign out first, then sign in on the sign-in page.
 */
export function refuseWebSession(caller: Caller): void {
  if (caller.session?.webSessionId !== undefined)
    throw new ApiError(
      'METHOD_NOT_ON_THIS_PIPE',
      'This browser is signed in already; its connection cannot sign in as another operator.',
      'Sign out, then sign in on the sign-in page.',
    );
}

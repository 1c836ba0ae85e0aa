import { useEffect, useEffectEvent, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, type EventName, type EventParams, type EventPayload } from '../../../electron/contract';
import { useApiClient } from './api-context';
import { apiKey } from './queries';

// The backend ends a feed by itself when its operator may no longer receive it: signed out,
// disabled or removed (SIGN_IN_REQUIRED), or given a role that may not (ACCESS_DENIED).
// Either way who this window is signed in as has changed, so it asks again, and the app
// shows the sign-in screen where it must.
const SESSION_CHANGED: readonly string[] = ['SIGN_IN_REQUIRED', 'ACCESS_DENIED'];

function asApiError(error: unknown, event: string): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    'INTERNAL',
    `Could not subscribe to ${event}: ${error instanceof Error ? error.message : String(error)}.`,
    'Reload the window; if it keeps failing, send the app log with your report.',
  );
}

/**
 * Subscribes to a contract event while the component is mounted (and `enabled`), and
 * unsubscribes on unmount or when the params change. A subscription that resolves
 * after unmount is stopped at once. Returns the subscription's error, if any: a failed
 * subscribe, or the backend's reason for ending the feed.
 */
export function useApiEvent<E extends EventName>(
  event: E,
  params: EventParams<E>,
  onPayload: (payload: EventPayload<E>) => void,
  options: { enabled?: boolean } = {},
): { error: ApiError | null } {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const enabled = options.enabled ?? true;
  const [error, setError] = useState<ApiError | null>(null);
  const handle = useEffectEvent((payload: EventPayload<E>) => onPayload(payload));
  // Params are plain JSON; their text is a stable identity for the effect.
  const paramsKey = JSON.stringify(params);

  useEffect(() => {
    if (!enabled) return;
    let active = true;
    let unsubscribe: (() => Promise<void>) | null = null;
    const parsedParams = JSON.parse(paramsKey) as EventParams<E>;
    client
      .subscribe(
        event,
        parsedParams,
        (payload) => {
          if (active) handle(payload);
        },
        (ended) => {
          if (!active) return;
          unsubscribe = null;
          setError(ended);
          if (SESSION_CHANGED.includes(ended.code)) void queryClient.invalidateQueries({ queryKey: apiKey('session.whoami') });
        },
      )
      .then(
        (stop) => {
          if (active) {
            unsubscribe = stop;
            setError(null);
          } else {
            void stop().catch(() => undefined);
          }
        },
        (cause: unknown) => {
          if (active) setError(asApiError(cause, event));
        },
      );
    return () => {
      active = false;
      // A failed unsubscribe (connection already gone) leaves nothing to clean up.
      if (unsubscribe) void unsubscribe().catch(() => undefined);
    };
  }, [client, queryClient, event, paramsKey, enabled]);

  return { error };
}

import { useCallback, useEffect, useRef, useState } from 'react';
import type { MethodName, MethodParams, MethodResult } from '../../../electron/contract';
import { useApiClient } from './api-context';
import { needsStepUp, useAskForStepUp } from './step-up';

export type ActionState<R> =
  { status: 'idle' } | { status: 'pending' } | { status: 'success'; result: R } | { status: 'error'; error: unknown };

/**
 * One contract call on the operator's demand, as component state. Unlike a react-query
 * mutation it keeps no copy of the params anywhere (a mutation's variables live in the
 * mutation cache), which is what calls carrying passwords need. A result that arrives
 * after a newer run started, or after unmount, is dropped.
 */
export function useApiAction<M extends MethodName>(method: M) {
  const client = useApiClient();
  const askForStepUp = useAskForStepUp();
  const [state, setState] = useState<ActionState<MethodResult<M>>>({ status: 'idle' });
  const runId = useRef(0);
  const mounted = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(
    async (params: MethodParams<M>): Promise<MethodResult<M> | undefined> => {
      const id = ++runId.current;
      setState({ status: 'pending' });
      try {
        // An admin action refused for want of a fresh two-factor code: asked for, then tried once more.
        const result = await client.call(method, params).catch(async (error: unknown) => {
          if (askForStepUp && needsStepUp(error) && (await askForStepUp())) return client.call(method, params);
          throw error;
        });
        const current = id === runId.current && mounted.current;
        if (current) setState({ status: 'success', result });
        return current ? result : undefined;
      } catch (error) {
        if (id === runId.current && mounted.current) setState({ status: 'error', error });
        return undefined;
      }
    },
    [client, method, askForStepUp],
  );

  const reset = useCallback(() => {
    runId.current += 1;
    setState({ status: 'idle' });
  }, []);

  return { state, run, reset, pending: state.status === 'pending' };
}

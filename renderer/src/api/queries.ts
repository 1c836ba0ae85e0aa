import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import {
  ApiError,
  type MethodName,
  type MethodParams,
  type MethodResult,
} from '../../../electron/contract';
import { useApiClient } from './api-context';

/** Query keys are the method and its params, so invalidating by method prefix works. */
export function apiKey<M extends MethodName>(method: M, params?: MethodParams<M>): readonly unknown[] {
  return params === undefined ? ['api', method] : ['api', method, params];
}

interface ApiQueryOptions {
  enabled?: boolean;
  staleTime?: number;
  gcTime?: number;
}

/** One contract method as a react-query query; errors are the contract's ApiError. */
export function useApiQuery<M extends MethodName>(
  method: M,
  params: MethodParams<M>,
  options: ApiQueryOptions = {},
): UseQueryResult<MethodResult<M>, ApiError> {
  const client = useApiClient();
  return useQuery<MethodResult<M>, ApiError>({
    queryKey: apiKey(method, params),
    queryFn: () => client.call(method, params),
    ...options,
  });
}

export function useAppInfo() {
  return useApiQuery('app.info', {}, { staleTime: Infinity });
}

export function useHostList() {
  return useApiQuery('hosts.list', {});
}

export function useHostDetail(hostId: number) {
  return useApiQuery('hosts.get', { hostId });
}

/** `metrics.query` for one fixed window; the live chart asks once per mount. */
export function useMetricsHistory(params: MethodParams<'metrics.query'>) {
  return useApiQuery('metrics.query', params, { staleTime: Infinity, gcTime: 0 });
}

/** Probes a host again; the host's page and the list then show the new facts. */
export function useProbeHost() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation<MethodResult<'hosts.probe'>, ApiError, { hostId: number }>({
    mutationFn: (params) => client.call('hosts.probe', params),
    onSettled: async (_facts, _error, params) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: apiKey('hosts.get', { hostId: params.hostId }) }),
        queryClient.invalidateQueries({ queryKey: apiKey('hosts.list') }),
      ]);
    },
  });
}

/** Transient failures are worth one quiet retry; the rest go straight to the operator. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 1) return false;
  if (error instanceof ApiError) return error.code === 'TIMEOUT' || error.code === 'INTERNAL';
  return false;
}

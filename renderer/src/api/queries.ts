import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient, type UseQueryResult } from '@tanstack/react-query';
import {
  ApiError,
  latestPreflightsOfAllHosts,
  listAllHosts,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type PreflightSummary,
  visibleStrings,
} from '../../../electron/contract';
import { useApiClient } from './api-context';

/** Query keys are the method and its params, so invalidating by method prefix works. */
export function apiKey<M extends MethodName>(method: M, params?: MethodParams<M>): readonly unknown[] {
  return params === undefined ? ['api', method] : ['api', method, params];
}

interface ApiQueryOptions<M extends MethodName = MethodName> {
  enabled?: boolean;
  /** Reshapes the result as the page reads it (react-query's select). */
  select?: (data: MethodResult<M>) => MethodResult<M>;
  staleTime?: number;
  gcTime?: number;
  /** Read again this often while shown (a live table). */
  refetchInterval?: number;
  /** Keep showing the last result while the next params load (a check as the operator types). */
  keepPrevious?: boolean;
}

/** One contract method as a react-query query; errors are the contract's ApiError. */
export function useApiQuery<M extends MethodName>(
  method: M,
  params: MethodParams<M>,
  options: ApiQueryOptions<M> = {},
): UseQueryResult<MethodResult<M>, ApiError> {
  const client = useApiClient();
  const { keepPrevious, ...rest } = options;
  return useQuery<MethodResult<M>, ApiError>({
    queryKey: apiKey(method, params),
    queryFn: () => client.call(method, params),
    ...(keepPrevious ? { placeholderData: keepPreviousData } : {}),
    ...rest,
  });
}

export function useAppInfo() {
  return useApiQuery('app.info', {}, { staleTime: Infinity });
}

/** The whole inventory, fetched one hosts.list page at a time. */
export function useHostList() {
  const client = useApiClient();
  return useQuery<MethodResult<'hosts.list'>, ApiError>({
    queryKey: apiKey('hosts.list', {}),
    queryFn: () => listAllHosts((page) => client.call('hosts.list', page)),
  });
}

/**
 * Facts are a managed host's words: every string in them is shown with its control and
 * bidi characters as visible escapes (the backend escapes them too; this holds even for
 * a backend or a stored snapshot that did not).
 */
export function useHostDetail(hostId: number) {
  return useApiQuery('hosts.get', { hostId }, { select: visibleDetail });
}

const visibleDetail = (detail: MethodResult<'hosts.get'>): MethodResult<'hosts.get'> => ({
  ...detail,
  facts: visibleStrings(detail.facts),
});

/** A host's stored facts snapshots, newest first, at most `limit`, with the host's strings made visible as in useHostDetail. */
export function useFactsHistory(hostId: number, limit: number) {
  return useApiQuery('hosts.factsHistory', { hostId, limit }, { select: visibleStrings });
}

/** Profiles come from files the app ships; they do not change while it runs. */
export function usePreflightProfiles() {
  return useApiQuery('preflight.profiles', {}, { staleTime: Infinity });
}

export function usePreflightHistory(hostId: number, limit: number) {
  return useApiQuery('preflight.history', { hostId, limit });
}

/** Every host's newest preflight verdict, for the hosts list: fetched one inventory page at a time, by host id. */
export function useLatestPreflights() {
  const client = useApiClient();
  const query = useQuery<PreflightSummary[], ApiError>({
    queryKey: apiKey('preflight.latest', {}),
    queryFn: () => latestPreflightsOfAllHosts((page) => client.call('preflight.latest', page)),
    staleTime: 60_000,
  });
  const byHost = new Map((query.data ?? []).map((result) => [result.hostId, result]));
  return { byHost, isPending: query.isPending };
}

/** The imported release bundles, newest first. */
export function useBundles() {
  return useApiQuery('bundles.list', {});
}

export function useTrustedBundleKeys() {
  return useApiQuery('bundles.trustedKeys', {});
}

/** After an import: the bundle list and, when a key was trusted with it, the keys. */
export function invalidateBundles(queryClient: QueryClient): Promise<void> {
  const keys = [apiKey('bundles.list'), apiKey('bundles.trustedKeys')];
  return Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey }))).then(() => undefined);
}

/** After the inventory changed here (add, edit, trust, remove, import): the hosts list again, and the host's page (every host's when none is named). */
export function invalidateInventory(queryClient: QueryClient, hostId?: number): Promise<void> {
  const keys = [apiKey('hosts.list'), hostId === undefined ? apiKey('hosts.get') : apiKey('hosts.get', { hostId })];
  return Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey }))).then(() => undefined);
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
        queryClient.invalidateQueries({ queryKey: apiKey('hosts.factsHistory') }),
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

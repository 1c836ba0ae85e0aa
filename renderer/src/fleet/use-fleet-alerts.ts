import { useQueryClient } from '@tanstack/react-query';
import type { Alert } from '../../../electron/contract';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiEvent } from '../api/use-api-event';

const FIRING = { states: ['firing' as const] };

/** The firing alerts (`alerts.list`), read again on every `alerts.changed`, by host id (null: not of one host). */
export function useFiringAlerts() {
  const queryClient = useQueryClient();
  const alerts = useApiQuery('alerts.list', FIRING, { staleTime: Infinity });
  useApiEvent('alerts.changed', {}, () => void queryClient.invalidateQueries({ queryKey: apiKey('alerts.list') }));
  const byHost = new Map<number | null, Alert[]>();
  for (const alert of alerts.data?.alerts ?? []) byHost.set(alert.hostId, [...(byHost.get(alert.hostId) ?? []), alert]);
  return { byHost, all: alerts.data?.alerts ?? [], query: alerts };
}

import { useQueryClient } from '@tanstack/react-query';
import type { FleetLink, FleetLinkChange } from '../../../electron/contract';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiEvent } from '../api/use-api-event';

/** The links after one change: its host's entry replaced (or added), or dropped when the host left its install. */
export function applyLinkChange(current: readonly FleetLink[], change: FleetLinkChange): FleetLink[] {
  const { previousState: _previous, removed, ...link } = change;
  const others = current.filter((l) => l.hostId !== link.hostId);
  return removed ? others : [...others, link];
}

/**
 * Every host's link now (`fleet.links`), kept current by `fleet.linkChanged`, each change
 * applied to the cached answer in the order the backend sends them. Returns the links by
 * host id, and the query for its states.
 */
export function useFleetLinks() {
  const queryClient = useQueryClient();
  const links = useApiQuery('fleet.links', {}, { staleTime: Infinity });
  useApiEvent('fleet.linkChanged', {}, (change) => {
    const key = apiKey('fleet.links', {});
    // A change before the first answer: that answer may predate it, so ask again.
    if (queryClient.getQueryData(key) === undefined) return void queryClient.invalidateQueries({ queryKey: key });
    queryClient.setQueryData<FleetLink[]>(key, (current = []) => applyLinkChange(current, change));
  });
  const byHost = new Map<number, FleetLink>((links.data ?? []).map((l) => [l.hostId, l]));
  return { byHost, query: links };
}

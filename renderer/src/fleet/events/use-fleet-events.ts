import { useInfiniteQuery, type InfiniteData } from '@tanstack/react-query';
import { useState } from 'react';
import type { ApiError, EventsPage, FleetEvent, FleetEventCursor, MethodParams } from '../../../../electron/contract';
import { useApiClient } from '../../api/api-context';
import { apiKey } from '../../api/queries';
import { useApiEvent } from '../../api/use-api-event';
import { inTimeRange, mergeEvents } from './event-filters';

/** Live arrivals kept beside the pages read; past this many, the oldest go (a reload shows them again). */
const MAX_LIVE = 1000;

type ListFilter = Omit<MethodParams<'events.list'>, 'after' | 'limit'>;

/**
 * The timeline: `events.list` page by page (newest first, older pages on demand), with every
 * event recorded since arriving at the top through `events.appended`, each shown once.
 */
export function useFleetEvents(filter: ListFilter) {
  const client = useApiClient();
  const key = JSON.stringify(filter);
  const pages = useInfiniteQuery<EventsPage, ApiError, InfiniteData<EventsPage>, readonly unknown[], FleetEventCursor | null>({
    queryKey: apiKey('events.list', filter as MethodParams<'events.list'>),
    queryFn: ({ pageParam }) => client.call('events.list', { ...filter, ...(pageParam !== null ? { after: pageParam } : {}) }),
    initialPageParam: null,
    getNextPageParam: (last) => last.next,
    // Read afresh whenever the filters change, even back to earlier ones: what arrived meanwhile is in the store, not in a cached page.
    gcTime: 0,
  });
  const [live, setLive] = useState<{ key: string; events: FleetEvent[] }>({ key, events: [] });
  const { fromMs, toMs, ...subscription } = filter;
  const { error: liveError } = useApiEvent('events.appended', subscription, (event) => {
    if (!inTimeRange(event, { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) })) return;
    setLive((prev) => ({ key, events: [event, ...(prev.key === key ? prev.events : [])].slice(0, MAX_LIVE) }));
  });
  const read = pages.data?.pages.flatMap((page) => page.events) ?? [];
  return {
    events: mergeEvents(live.key === key ? live.events : [], read),
    pages,
    liveError,
  };
}

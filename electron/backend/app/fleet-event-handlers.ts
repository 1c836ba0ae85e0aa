import type { FleetEvent } from '../../contract';
import type { FleetEventLog } from '../fleet/events/fleet-event-log';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface FleetEventApiDeps {
  fleetEvents: FleetEventLog;
}

/** events.list: a page of the fleet's events from the store. */
export function createFleetEventHandlers({ fleetEvents }: FleetEventApiDeps): Pick<MethodHandlers, 'events.list'> {
  return {
    'events.list': (params) => fleetEvents.list(params),
  };
}

/** events.appended: each event as it is recorded, narrowed by host, process (or instance) and kinds. */
export function createFleetEventSources({ fleetEvents }: FleetEventApiDeps): Pick<EventSources, 'events.appended'> {
  return {
    'events.appended': ({ hostId, process, kinds }, emit) =>
      fleetEvents.subscribe((event: FleetEvent) => {
        if (hostId !== undefined && event.hostId !== hostId) return;
        if (process !== undefined && event.process !== process && event.instance !== process) return;
        if (kinds !== undefined && !kinds.includes(event.kind)) return;
        emit(event);
      }),
  };
}

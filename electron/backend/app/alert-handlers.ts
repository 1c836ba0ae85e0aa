import type { EventHub } from '../events/event-hub';
import type { AlertService } from '../fleet/alerts/alert-service';
import { whoActs, type EventSources, type MethodHandlers } from '../server/dispatcher';

export interface AlertApiDeps {
  alerts: AlertService;
  hub: EventHub;
}

type AlertMethod = Extract<keyof MethodHandlers, `alerts.${string}`>;

/** The alert methods of the contract, as thin calls into fleet/alerts; an acknowledgement is recorded with the caller's pipe as its actor. */
export function createAlertHandlers({ alerts }: AlertApiDeps): Pick<MethodHandlers, AlertMethod> {
  return {
    'alerts.list': ({ states, hostId, rule, resolvedWithinMs, limit }) => ({
      alerts: alerts.list({ states, hostId, rule, resolvedWithinMs, limit }),
    }),
    // The pipe's identity (desktop, web:<session>, cli:<user>), as the fleet's process actions record it.
    'alerts.ack': ({ id }, caller) => alerts.acknowledge(id, whoActs(caller)),
    'alerts.rules': () => alerts.rules(),
  };
}

export function createAlertEventSources({ hub }: Pick<AlertApiDeps, 'hub'>): Pick<EventSources, 'alerts.changed'> {
  return {
    'alerts.changed': (_params, emit) => hub.on('alerts.changed', emit),
  };
}

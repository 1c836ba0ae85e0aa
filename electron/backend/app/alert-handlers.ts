import type { EventHub } from '../events/event-hub';
import type { AlertService } from '../fleet/alerts/alert-service';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface AlertApiDeps {
  alerts: AlertService;
  hub: EventHub;
  /** Who acknowledges through this backend (the record's `by`). */
  actor: string;
}

type AlertMethod = Extract<keyof MethodHandlers, `alerts.${string}`>;

/** The alert methods of the contract, as thin calls into fleet/alerts. */
export function createAlertHandlers({ alerts, actor }: AlertApiDeps): Pick<MethodHandlers, AlertMethod> {
  return {
    'alerts.list': ({ states, hostId, rule, resolvedWithinMs, limit }) => ({
      alerts: alerts.list({ states, hostId, rule, resolvedWithinMs, limit }),
    }),
    // The pipe's identity where the dispatcher names it (desktop, web:<session>, cli:<user>), else the backend's.
    'alerts.ack': ({ id }, caller?: { readonly actor: string }) => alerts.acknowledge(id, caller?.actor ?? actor),
    'alerts.rules': () => alerts.rules(),
  };
}

export function createAlertEventSources({ hub }: Pick<AlertApiDeps, 'hub'>): Pick<EventSources, 'alerts.changed'> {
  return {
    'alerts.changed': (_params, emit) => hub.on('alerts.changed', emit),
  };
}

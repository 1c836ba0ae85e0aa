import type { FleetLink, FleetLinkChange } from '../../contract';
import type { EventHub } from '../events/event-hub';
import type { FleetLinks, LinkState } from '../fleet/link/link-types';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface FleetLinkApiDeps {
  links: Pick<FleetLinks, 'states'>;
  hub: EventHub;
}

/** The fleet's links as the contract shows them. */
export function describeLink(state: LinkState): FleetLink {
  return {
    installName: state.target.installName,
    hostId: state.target.hostId,
    hostName: state.target.hostName,
    state: state.state,
    lastSeenMs: state.lastSeenMs,
    sinceMs: state.sinceMs,
    reason: state.reason?.toBody() ?? null,
  };
}

/** A link's change as fleet.linkChanged carries it; a removed host's link says so by its reason's code. */
export function describeLinkChange(state: LinkState, previous: LinkState | null): FleetLinkChange {
  return { ...describeLink(state), previousState: previous?.state ?? null, removed: state.reason?.code === 'FLEET_LINK_REMOVED' };
}

export function createFleetLinkHandlers({ links }: FleetLinkApiDeps): Pick<MethodHandlers, 'fleet.links'> {
  return {
    'fleet.links': () => links.states().map(describeLink),
  };
}

export function createFleetLinkSources({ hub }: FleetLinkApiDeps): Pick<EventSources, 'fleet.linkChanged'> {
  return {
    'fleet.linkChanged': (_params, emit) => hub.on('fleet.linkChanged', emit),
  };
}

import type { FleetLinks, LinkState } from '../link/link-types';
import type { FleetEventInput, FleetEventLog } from './fleet-event-log';

const UP = new Set(['online', 'degraded']);

/**
 * A link's change as an event, or null when it is none: `link.up` when it comes online
 * (not from degraded), `link.degraded` when a stream fails while it is up, `link.down` when
 * a link that was up leaves online and degraded (offline, or connecting again). A link that
 * never came up records nothing: its state and reason are on the fleet page, and a down
 * needs an up before it.
 */
export function linkEvent(state: LinkState, wasUp: boolean, was: LinkState['state'] | null): FleetEventInput | null {
  const base = { origin: 'link' as const, target: state.target, actor: null, atMs: state.sinceMs };
  const name = state.target.hostName;
  const reason = state.reason === null ? null : { code: state.reason.code, message: state.reason.message, remedy: state.reason.remedy };
  if (state.state === 'online' && !wasUp) return { ...base, kind: 'link.up', message: `${name} is online` };
  if (state.state === 'degraded' && was !== 'degraded')
    return { ...base, kind: 'link.degraded', message: `${name} is degraded: ${state.reason?.message ?? 'a stream failed'}`, error: reason };
  if (!UP.has(state.state) && wasUp)
    return {
      ...base,
      kind: 'link.down',
      message: `${name} is ${state.state}: ${state.reason?.message ?? 'the link closed'}`,
      error: reason,
    };
  return null;
}

/** Records every link's up, degraded and down in the log; returns the unsubscribe. */
export function recordLinkEvents(links: Pick<FleetLinks, 'onChange'>, log: Pick<FleetEventLog, 'append'>): () => void {
  const up = new Set<number>();
  return links.onChange((state, previous) => {
    const hostId = state.target.hostId;
    const event = linkEvent(state, up.has(hostId), previous?.state ?? null);
    if (UP.has(state.state)) up.add(hostId);
    else up.delete(hostId);
    if (event !== null) log.append(event);
  });
}

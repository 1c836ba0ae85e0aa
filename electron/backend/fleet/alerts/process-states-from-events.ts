import type { FleetEvent } from '../../../contract';
import type { FleetEventLog } from '../events/fleet-event-log';
import type { FleetReadings } from './fleet-readings';

/**
 * The runtime's events that say whether an instance is in crash-loop. Its process.state
 * events do not: a looping instance passes through starting and running on every retry,
 * and is in crash-loop from process.crash-loop until process.crash-loop-left (after a
 * steady run, or the operator's start, restart or stop).
 */
const CRASH_LOOP_KINDS = ['process.crash-loop', 'process.crash-loop-left'];
/** How far back the start looks for each instance's last word: the newest this many events. */
const SEED_PAGES = 20;
const PAGE = 50;

/**
 * Keeps the alert readings' crash-loop states current from the fleet's events: first each
 * instance's last word in the store (so a restarted backend knows an instance is still in
 * crash-loop), then every such event as it is recorded. The store's are replayed only for
 * hosts `replayed` says are in a recorded install: an uninstalled host keeps its past events,
 * which must not come back as new alerts after a restart. Returns the unsubscribe.
 */
export function followProcessStates(
  events: Pick<FleetEventLog, 'list' | 'subscribe'>,
  readings: FleetReadings,
  replayed: (hostId: number) => boolean,
): () => void {
  const seen = new Set<string>();
  const latest: FleetEvent[] = [];
  let after: { atMs: number; id: number } | undefined;
  for (let page = 0; page < SEED_PAGES; page++) {
    const { events: batch, next } = events.list({ kinds: CRASH_LOOP_KINDS, limit: PAGE, ...(after ? { after } : {}) });
    for (const event of batch) {
      const key = `${event.hostId}\u0000${event.instance}`;
      if (seen.has(key)) continue;
      seen.add(key);
      latest.push(event);
    }
    if (next === null) break;
    after = next;
  }
  for (const event of latest.reverse()) if (event.hostId !== null && replayed(event.hostId)) observe(readings, event);
  return events.subscribe((event) => observe(readings, event));
}

function observe(readings: FleetReadings, event: FleetEvent): void {
  if (event.hostId === null || event.instance === null || !CRASH_LOOP_KINDS.includes(event.kind)) return;
  const process = event.process ?? event.instance.replace(/-\d+$/, '');
  readings.observeProcessState(
    { hostId: event.hostId, process, instance: event.instance },
    event.kind === 'process.crash-loop' ? 'crash-loop' : 'crash-loop-left',
  );
}

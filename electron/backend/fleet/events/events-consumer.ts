import { ApiError } from '../../../contract';
import type { LinkConsumer } from '../link/link-types';
import { readUntilAborted } from '../link/read-stream';
import type { FleetEventLog } from './fleet-event-log';

/**
 * The link consumer that reads a host's runtime events into the log: WatchEvents from the
 * newest event already read (the runtime's ring backfills what happened while the link was
 * down), each one recorded once however often it arrives. From 1 ms when nothing was read
 * yet, so what the ring holds from before this app first linked is kept too.
 */
export function createEventsConsumer(log: FleetEventLog): LinkConsumer {
  return {
    name: 'events',
    async run(target, connection, signal) {
      if (signal.aborted) return;
      const sinceMs = Math.max(1, log.runtimeCursor(target.hostId)?.atMs ?? 1);
      await readUntilAborted(
        connection.watchEvents({ sinceMs }),
        signal,
        (event) => log.appendRuntime(target, event),
        () =>
          new ApiError(
            'RUNTIME_CALL_FAILED',
            `The runtime on ${target.hostName} ended its event stream.`,
            'Nothing to do: the link reads the events again shortly, from where it stopped, without losing or repeating one.',
          ),
      );
    },
  };
}

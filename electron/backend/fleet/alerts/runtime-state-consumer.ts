import type { FleetEvent } from '../../../contract';
import type { FleetEventLog } from '../events/fleet-event-log';
import type { LinkConsumer, LinkTarget } from '../link/link-types';
import { describeProcesses } from '../processes/process-table';
import type { RuntimeConnection } from '../runtime-connection';
import type { FleetReadings } from './fleet-readings';
import type { RecordedCertificates } from './recorded-certificates';

export interface RuntimeStateConsumerOptions {
  readings: Pick<FleetReadings, 'observeRuntime' | 'rebaseline'>;
  certificates: Pick<RecordedCertificates, 'recordPresented'>;
  /** The fleet's events: a runtime that restarted under a link that stayed up shows in them as a new run. */
  events: Pick<FleetEventLog, 'subscribe' | 'runtimeCursor'>;
  now: () => number;
  logger: { warn(details: object, message: string): void };
}

/**
 * The link consumer that gives the alert rules each runtime's own account of itself, read
 * when its link comes up and again whenever its events come from a new run of the runtime:
 * every instance's state (a runtime restarted in the middle of a crash loop never reports
 * the loop's end, its new run starts afresh; an outage can outlast the runtime's event
 * ring), the run its restart counters belong to, and the server certificate it presents.
 * It holds no stream: between two readings it waits for the link to go down.
 */
export function createRuntimeStateConsumer(options: RuntimeStateConsumerOptions): LinkConsumer {
  const { readings, certificates, events, now, logger } = options;

  const read = async (target: LinkTarget, connection: RuntimeConnection): Promise<number> => {
    const [info, processes] = await Promise.all([connection.getInfo(), connection.listProcesses()]);
    const runStartedAtMs = Number(info.startedAtMs);
    const nowMs = now();
    readings.observeRuntime(target.hostId, {
      runStartedAtMs,
      instances: describeProcesses(processes, new Map(), nowMs).flatMap((process) =>
        process.instances.map(({ instance, state, restarts }) => ({ process: process.name, instance, state, restarts })),
      ),
    });
    try {
      certificates.recordPresented(target.hostId, await connection.serverCertificate(), nowMs);
    } catch (error) {
      // The states are in; the certificate is read again when the link next comes up.
      logger.warn(
        { host: target.hostName, err: error },
        'the runtime’s server certificate could not be read; its expiry stays as last recorded',
      );
    }
    return runStartedAtMs;
  };

  return {
    name: 'alerts',
    async run(target, connection, signal) {
      if (signal.aborted) return;
      // Before any await: the metric stream this link starts beside us must find the counters waiting for a baseline.
      readings.rebaseline(target.hostId);
      let run = await read(target, connection);
      await new Promise<void>((resolve, reject) => {
        let reading = false;
        const onEvent = (event: FleetEvent): void => {
          if (reading || event.origin !== 'runtime' || event.hostId !== target.hostId) return;
          const cursor = events.runtimeCursor(target.hostId);
          if (cursor === null || cursor.runStartedAtMs === run) return;
          reading = true;
          read(target, connection).then(
            (newRun) => {
              run = newRun;
              reading = false;
            },
            (error: unknown) => {
              finish();
              if (signal.aborted) resolve();
              else reject(error);
            },
          );
        };
        const unsubscribe = events.subscribe(onEvent);
        const finish = (): void => {
          unsubscribe();
          signal.removeEventListener('abort', onAbort);
        };
        const onAbort = (): void => {
          finish();
          resolve();
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

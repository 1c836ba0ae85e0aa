import type { FleetEventLog } from '../events/fleet-event-log';
import type { ProcessActionLog, ProcessActionRecord } from './fleet-processes';

const DONE: Record<ProcessActionRecord['action'], string> = { start: 'started', stop: 'stopped', restart: 'restarted', scale: 'scaled' };

/** Operator actions as the fleet's events (`action.start`, ... `action.scale`), with who asked and how it ended. */
export function actionEvents(events: Pick<FleetEventLog, 'append'>): ProcessActionLog {
  return {
    record(action, actor) {
      const what =
        action.action === 'scale' ? `${action.process} scaled to ${action.replicas}` : `${action.process} ${DONE[action.action]}`;
      events.append({
        kind: `action.${action.action}`,
        origin: 'operator',
        target: action.target,
        process: action.process,
        message:
          action.error === null
            ? `${what} by ${actor ?? 'an unknown caller'}`
            : `${what} by ${actor ?? 'an unknown caller'} failed: ${action.error.message}`,
        error: action.error,
        actor,
        atMs: action.atMs,
      });
    },
  };
}

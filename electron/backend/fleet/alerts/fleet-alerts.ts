import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Alert, AlertChange } from '../../../contract';
import type { EventHub } from '../../events/event-hub';
import type { FleetEventLog } from '../events/fleet-event-log';
import type { FleetLinks } from '../link/link-types';
import { createAlertService, type AlertService, type AlertServiceOptions } from './alert-service';
import { createAlertsRepo } from './alerts-repo';
import { createFleetReadings, type FleetReadings } from './fleet-readings';
import { followProcessStates } from './process-states-from-events';
import { recordedCertificates } from './recorded-certificates';

/** How often a serving backend evaluates the rules (Prometheus's evaluation_interval, at a fleet's pace). */
export const ALERT_EVALUATION_INTERVAL_MS = 10_000;

export interface FleetAlertsOptions {
  db: Database.Database;
  hub: EventHub;
  /** The fleet's links; null where the backend runs none (a one-shot command). */
  links: Pick<FleetLinks, 'states'> | null;
  /** The fleet's events, where the rules learn each instance's state (crash-loop entered and left). */
  events: Pick<FleetEventLog, 'list' | 'subscribe'>;
  /** Where config/ is (its alerts/ holds the shipped rules); may throw when it cannot be found: then only the operator's rules load. */
  configDir: () => string;
  /** The data directory: its alerts/ holds the operator's rules, which outlive an upgrade of the app. */
  dataDir: string;
  describeHost: AlertServiceOptions['inputs']['describeHost'];
  clock: () => number;
  logger: AlertServiceOptions['logger'];
  onChange?: (change: AlertChange, alert: Alert) => void;
}

export interface FleetAlerts {
  readonly service: AlertService;
  /** What the rules read of the fleet's reports, for the parts that receive them (samples, process states). */
  readonly readings: FleetReadings;
  /** Follows the fleet's events and evaluates every `intervalMs` (serving backends; a one-shot command only reads and acknowledges). */
  start(intervalMs: number): void;
  close(): void;
}

/**
 * The alerts of a backend: the rule folders, the store's alerts, the readings the rules see
 * (live samples arrive as `metrics.live` on the hub), and `alerts.changed` on every change.
 * Process states are followed and rules evaluated only once `start` is called.
 */
export function createFleetAlerts(options: FleetAlertsOptions): FleetAlerts {
  const readings = createFleetReadings();
  const service = createAlertService({
    repo: createAlertsRepo(options.db),
    inputs: {
      links: () => options.links?.states() ?? [],
      gauges: readings,
      processes: readings,
      certificates: recordedCertificates(options.db),
      describeHost: options.describeHost,
    },
    ruleFolders: alertRuleFolders(shippedConfigDir(options), options.dataDir),
    clock: options.clock,
    logger: options.logger,
    onChange: (change, alert) => {
      options.hub.emit('alerts.changed', { change, alert });
      options.onChange?.(change, alert);
    },
  });
  const unsubscribe = options.hub.on('metrics.live', (sample) =>
    readings.observeSample(sample.hostId, sample.t, Object.entries(sample.values) as Array<[string, number]>),
  );
  let stopFollowing = (): void => {};
  return {
    service,
    readings,
    start(intervalMs) {
      stopFollowing();
      stopFollowing = followProcessStates(options.events, readings);
      service.start(intervalMs);
    },
    close() {
      unsubscribe();
      stopFollowing();
      service.close();
    },
  };
}

function shippedConfigDir(options: FleetAlertsOptions): string | undefined {
  try {
    return options.configDir();
  } catch (error) {
    options.logger.warn({ err: error }, 'the shipped alert rules (config/alerts) were not found; only the operator’s rules load');
    return undefined;
  }
}

/** The shipped rules first, then the operator's, which may replace a shipped rule by its name. */
export function alertRuleFolders(configDir: string | undefined, dataDir: string): string[] {
  return [...(configDir !== undefined ? [path.join(configDir, 'alerts')] : []), path.join(dataDir, 'alerts')];
}

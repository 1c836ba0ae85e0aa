import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Alert, AlertChange } from '../../../contract';
import type { EventHub } from '../../events/event-hub';
import type { FleetEventLog } from '../events/fleet-event-log';
import type { FleetLinks, LinkConsumer } from '../link/link-types';
import { createAlertService, type AlertService, type AlertServiceOptions } from './alert-service';
import { createAlertsRepo } from './alerts-repo';
import { createFleetReadings, RESTART_MEMORY_MS, type FleetReadings } from './fleet-readings';
import { followProcessStates } from './process-states-from-events';
import { recordedCertificates } from './recorded-certificates';
import { createRuntimeStateConsumer } from './runtime-state-consumer';
import { replayStoredRestarts, type StoredRestartCounters } from './stored-restarts';

/** How often a serving backend evaluates the rules (Prometheus's evaluation_interval, at a fleet's pace). */
export const ALERT_EVALUATION_INTERVAL_MS = 10_000;

export interface FleetAlertsOptions {
  db: Database.Database;
  hub: EventHub;
  /** The fleet's links (a link stopped because its host is no longer installed: the host left the fleet); null where the backend runs none (a one-shot command). */
  links: Pick<FleetLinks, 'states' | 'onChange'> | null;
  /** The fleet's events, where the rules learn each instance's state (crash-loop entered and left) and see a runtime's new run. */
  events: Pick<FleetEventLog, 'list' | 'subscribe' | 'runtimeCursor'>;
  /** The stored series, where a starting backend reads the restart counters of the restarts rules' windows; none: counted from the first sample on. */
  storedRestarts?: StoredRestartCounters;
  /** Where config/ is (its alerts/ holds the shipped rules); may throw when it cannot be found: then only the operator's rules load. */
  configDir: () => string;
  /** The data directory: its alerts/ holds the operator's rules, which outlive an upgrade of the app. */
  dataDir: string;
  /** Names a host and its install; a host in no recorded install (installName null) gets nothing replayed from the store at start. */
  describeHost: AlertServiceOptions['inputs']['describeHost'];
  clock: () => number;
  logger: AlertServiceOptions['logger'];
  onChange?: (change: AlertChange, alert: Alert) => void;
}

export interface FleetAlerts {
  readonly service: AlertService;
  /** What the rules read of the fleet's reports, for the parts that receive them (samples, process states). */
  readonly readings: FleetReadings;
  /** What each link runs while it is up: the runtime's own account of its instances and its certificate (runtime-state-consumer.ts). */
  readonly linkConsumer: LinkConsumer;
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
  const certificates = recordedCertificates(options.db);
  // Hosts whose link this backend stopped because they are no longer installed: what they last
  // reported is forgotten, and they are described as gone, so their open alerts resolve.
  const departed = new Set<number>();
  const stopFollowingLinks =
    options.links?.onChange((state) => {
      const { hostId } = state.target;
      if (state.state === 'offline' && state.reason?.code === 'FLEET_LINK_REMOVED') {
        departed.add(hostId);
        readings.forgetHost(hostId);
      } else departed.delete(hostId);
    }) ?? (() => {});
  const describeHost = (hostId: number) => (departed.has(hostId) ? undefined : options.describeHost(hostId));
  // What a starting backend replays from the store (crash-loop events, restart counters) is only
  // that of hosts in a recorded install: an uninstalled host's past would come back as new alerts.
  const installed = (hostId: number): boolean => (describeHost(hostId)?.installName ?? null) !== null;
  const service = createAlertService({
    repo: createAlertsRepo(options.db),
    inputs: {
      links: () => options.links?.states() ?? [],
      gauges: readings,
      processes: readings,
      certificates,
      describeHost,
    },
    ruleFolders: alertRuleFolders(shippedConfigDir(options), options.dataDir),
    clock: options.clock,
    logger: options.logger,
    onChange: (change, alert) => {
      options.hub.emit('alerts.changed', { change, alert });
      options.onChange?.(change, alert);
    },
  });
  const unsubscribe = options.hub.on('metrics.live', (sample) => readings.observeValues(sample.hostId, sample.t, sample.values));
  let stopFollowing = (): void => {};
  const linkConsumer = createRuntimeStateConsumer({
    readings,
    certificates,
    events: options.events,
    now: options.clock,
    logger: options.logger,
  });
  return {
    service,
    readings,
    linkConsumer,
    start(intervalMs) {
      stopFollowing();
      if (options.storedRestarts) {
        const stored = options.storedRestarts;
        replayRestarts(options, { ...stored, hostIds: () => stored.hostIds().filter(installed) }, readings, service);
      }
      stopFollowing = followProcessStates(options.events, readings, installed);
      service.start(intervalMs);
    },
    close() {
      unsubscribe();
      stopFollowingLinks();
      stopFollowing();
      service.close();
    },
  };
}

/** The restarts of the longest window a restarts rule looks at, from the store (see stored-restarts.ts). */
function replayRestarts(options: FleetAlertsOptions, stored: StoredRestartCounters, readings: FleetReadings, service: AlertService): void {
  const windows = service
    .rules()
    .rules.filter((rule) => rule.kind === 'process-restarts')
    .map((rule) => Number(rule.settings.within));
  const windowMs = Math.min(Math.max(0, ...windows.filter(Number.isFinite)), RESTART_MEMORY_MS);
  if (windowMs === 0) return;
  const nowMs = options.clock();
  try {
    replayStoredRestarts(stored, readings, nowMs - windowMs, nowMs);
  } catch (error) {
    options.logger.warn({ err: error }, 'the stored restart counters could not be read; restarts are counted from the first sample on');
  }
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

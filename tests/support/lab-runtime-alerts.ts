import path from 'node:path';
import { EventHub } from '../../electron/backend/events/event-hub';
import { createFleetAlerts, type FleetAlerts } from '../../electron/backend/fleet/alerts/fleet-alerts';
import { createFleetEventLog, type FleetEventLog } from '../../electron/backend/fleet/events/fleet-event-log';
import type { LinkTarget } from '../../electron/backend/fleet/link/link-types';
import type { Store } from '../../electron/backend/store/open-store';
import { EventsListParamsSchema, type Alert, type AlertChange, type FleetEvent } from '../../electron/contract';
import { openLabRuntime, openStoreWithLabHost, type LabRuntime } from './lab-runtime';
import { seedRecordedInstalls } from './recorded-installs';
import type { TestLab } from './test-hosts/test-hosts';

const CONFIG_DIR = path.resolve(__dirname, '../../config');

/**
 * One process, flaky, that fails until `fixedFile` exists, then runs: it enters crash-loop
 * after its first restart, and leaves it once it has run for reset_after_ms.
 */
export function flakyManifest(fixedFile: string): string {
  return `version: 1
processes:
  - name: flaky
    command: sh
    args: ["-c", "if [ -e ${fixedFile} ]; then echo flaky-fixed; exec sleep 300; fi; echo flaky-fails; sleep 0.1; exit 3"]
    backoff: { initial_ms: 100, max_ms: 100, jitter: 0, reset_after_ms: 1000 }
    crash_loop: { after_restarts: 1, within_ms: 600000, retry_every_ms: 300 }
    stop: { grace_ms: 2000 }
`;
}

/**
 * The shipped runtime on a test host running flakyManifest, and what the control center's
 * alerts need to watch it: a real store with the host in a recorded install named 'lab',
 * the fleet's event log, and the alerts over the shipped rules (config/alerts), started
 * (one evaluation; the cases evaluate when their events are in). No consumer runs yet: each
 * case runs the events' and the alerts' own consumers on connections as it needs them.
 */
export interface LabRuntimeAlerts {
  readonly runtime: LabRuntime;
  readonly target: LinkTarget;
  readonly store: Store;
  readonly events: FleetEventLog;
  readonly alerts: FleetAlerts;
  /** Every alerts.changed, in order. */
  readonly changes: Array<[AlertChange, Alert]>;
  /** The events of `kind` recorded for flaky's instances. */
  flakyEvents(kind: string): FleetEvent[];
  /** The alerts, the runtime (its connections, daemon and processes), the event log and the store. */
  close(): Promise<void>;
}

export interface LabRuntimeAlertsOptions {
  /** The test's own directory: the runtime's files and the store go below it. */
  dir: string;
  runtimePort: number;
  /** Where flaky looks for the file that fixes it. */
  fixedFile: string;
  /** The daemon's output, appended to by every start. */
  daemonLog: string;
}

export async function openLabRuntimeAlerts(lab: TestLab, options: LabRuntimeAlertsOptions): Promise<LabRuntimeAlerts> {
  const runtime = await openLabRuntime(lab, {
    dir: options.dir,
    manifest: flakyManifest(options.fixedFile),
    runtimePort: options.runtimePort,
    callTimeoutMs: 5_000,
  });
  const { host } = runtime;
  const { store, target } = openStoreWithLabHost(options.dir, host, 'lab');
  seedRecordedInstalls(store.db, [{ name: 'lab', hosts: [{ hostId: target.hostId, state: 'installed' }] }]);
  const events = createFleetEventLog(store.db);
  const hub = new EventHub((event, error) => {
    throw new Error(`${event} listener failed: ${String(error)}`);
  });
  const changes: Array<[AlertChange, Alert]> = [];
  hub.on('alerts.changed', ({ change, alert }) => changes.push([change, alert]));
  const alerts = createFleetAlerts({
    db: store.db,
    hub,
    links: null,
    events,
    configDir: () => CONFIG_DIR,
    dataDir: path.join(options.dir, 'control-center'),
    describeHost: (id) => (id === target.hostId ? { hostName: host.name, installName: 'lab' } : undefined),
    clock: Date.now,
    logger: { warn: () => {}, info: () => {} },
  });
  const close = async (): Promise<void> => {
    alerts.close();
    await runtime.close();
    events.close();
    store.close();
  };
  try {
    alerts.start(3_600_000);
    await runtime.start(options.daemonLog);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    runtime,
    target,
    store,
    events,
    alerts,
    changes,
    flakyEvents: (kind) =>
      events.list(EventsListParamsSchema.parse({ kinds: [kind] })).events.filter((event) => event.instance?.startsWith('flaky')),
    close,
  };
}

// A crash-loop alert from a real runtime (issue 12's tests): the shipped daemon in a test
// host's namespace, reached over SSH, a tunnel and gRPC over TLS, its WatchEvents read by
// the 'events' consumer into a real store, and the alerts following those events. A program
// that always fails brings the shipped ProcessCrashLoop rule to firing; once fixed, it runs,
// leaves its crash loop, and the alert resolves. Order is asserted, never time windows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHub } from '../../../electron/backend/events/event-hub';
import { createFleetAlerts, type FleetAlerts } from '../../../electron/backend/fleet/alerts/fleet-alerts';
import { createEventsConsumer } from '../../../electron/backend/fleet/events/events-consumer';
import { createFleetEventLog, type FleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import type { Store } from '../../../electron/backend/store/open-store';
import { EventsListParamsSchema, type Alert, type AlertChange } from '../../../electron/contract';
import { openLabRuntime, openStoreWithLabHost, type LabRuntime } from '../../support/lab-runtime';
import { makeTempDir } from '../../support/temp-dir';
import { logTail } from '../../support/test-hosts/daemon';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const RUNTIME_PORT = 7610;
const tmp = makeTempDir('sutazai-crash-loop-alert-');
const fixedFile = path.join(tmp.path, 'fixed');
const daemonLog = path.join(tmp.path, 'daemon.log');
const configDir = path.resolve(__dirname, '../../../config');

// flaky: fails until the test "fixes" it (creates the file), then runs; it leaves its crash
// loop once it has run for reset_after_ms.
const MANIFEST = `version: 1
processes:
  - name: flaky
    command: sh
    args: ["-c", "if [ -e ${fixedFile} ]; then echo flaky-fixed; exec sleep 300; fi; echo flaky-fails; sleep 0.1; exit 3"]
    backoff: { initial_ms: 100, max_ms: 100, jitter: 0, reset_after_ms: 1000 }
    crash_loop: { after_restarts: 1, within_ms: 600000, retry_every_ms: 300 }
    stop: { grace_ms: 2000 }
`;

let labRuntime: LabRuntime | undefined;
let host: TestHost;
let store: Store;
let events: FleetEventLog;
let alerts: FleetAlerts;
const consumerStop = new AbortController();
const changes: Array<[AlertChange, Alert]> = [];
const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 50, diagnostics: () => `\n${logTail(daemonLog)}` });

beforeAll(async () => {
  labRuntime = await openLabRuntime(labRef.lab, { dir: tmp.path, manifest: MANIFEST, runtimePort: RUNTIME_PORT, callTimeoutMs: 5_000 });
  host = labRuntime.host;
  let target: LinkTarget;
  ({ store, target } = openStoreWithLabHost(tmp.path, host, 'lab'));
  events = createFleetEventLog(store.db);
  const hub = new EventHub((event, error) => {
    throw new Error(`${event} listener failed: ${String(error)}`);
  });
  hub.on('alerts.changed', ({ change, alert }) => changes.push([change, alert]));
  alerts = createFleetAlerts({
    db: store.db,
    hub,
    links: null,
    events,
    configDir: () => configDir,
    dataDir: path.join(tmp.path, 'control-center'),
    describeHost: (id) => (id === target.hostId ? { hostName: host.name, installName: 'lab' } : undefined),
    clock: Date.now,
    logger: { warn: () => {}, info: () => {} },
  });
  alerts.start(3_600_000); // one evaluation now; the cases evaluate when the events are in
  await labRuntime.start(daemonLog);
  createEventsConsumer(events)
    .run(target, (await labRuntime.connect()).runtime, consumerStop.signal)
    .catch(() => undefined);
}, 180_000);

afterAll(async () => {
  consumerStop.abort();
  alerts?.close();
  await labRuntime?.close();
  events?.close();
  store?.close();
  tmp.remove();
});

/** Whether the store holds an event of this kind for flaky (the alerts hear of it as it is recorded). */
const recorded = (kind: string) => () =>
  events.list(EventsListParamsSchema.parse({ kinds: [kind] })).events.some((event) => event.instance?.startsWith('flaky'));

describe('a crash-loop alert from a real runtime', () => {
  it('a program that always fails brings ProcessCrashLoop to firing, and once fixed it resolves', async () => {
    await waitFor('flaky entering crash-loop', recorded('process.crash-loop'));
    // The event log hands its subscribers what it recorded on its next turn.
    await waitFor('the alert firing', () => {
      alerts.service.evaluate();
      return changes.some(([change]) => change === 'firing');
    });
    expect(changes.map(([change, alert]) => [change, alert.rule])).toEqual([['firing', 'ProcessCrashLoop']]);
    expect(changes[0]![1]).toMatchObject({
      state: 'firing',
      severity: 'critical',
      labels: { install: 'lab', host: host.name, process: 'flaky' },
      summary: expect.stringMatching(new RegExp(`^flaky\\S* on ${host.name} is in crash-loop$`)),
    });

    // While it still fails, retries pass through starting: the alert stays firing.
    alerts.service.evaluate();
    expect(changes).toHaveLength(1);

    fs.writeFileSync(fixedFile, 'yes\n');
    await waitFor('flaky leaving its crash loop', recorded('process.crash-loop-left'));
    await waitFor('the alert resolved', () => {
      alerts.service.evaluate();
      return changes.length === 2;
    });
    expect(changes.map(([change, alert]) => [change, alert.id, alert.state])).toEqual([
      ['firing', changes[0]![1].id, 'firing'],
      ['resolved', changes[0]![1].id, 'resolved'],
    ]);
  });
});

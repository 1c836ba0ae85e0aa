// Alerts from a real runtime's own account (issue 12, alerts): the shipped daemon on a test
// host, reached over SSH, a tunnel and gRPC over TLS, its events read by the 'events' consumer
// and its state by the alerts' own consumer, into a real store. A program that always fails
// brings ProcessCrashLoop to firing; the runtime is then restarted with the program fixed, so
// its new run starts the program afresh and never reports the old loop's end: the alert
// resolves from what the new run says of its instances. The runtime's certificate expiry is
// the one it presents over TLS. Order is asserted, never time windows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHub } from '../../../electron/backend/events/event-hub';
import { createFleetAlerts, type FleetAlerts } from '../../../electron/backend/fleet/alerts/fleet-alerts';
import { recordedCertificates } from '../../../electron/backend/fleet/alerts/recorded-certificates';
import { createEventsConsumer } from '../../../electron/backend/fleet/events/events-consumer';
import { createFleetEventLog, type FleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import type { LinkConsumer, LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { certificateValidity } from '../../../electron/backend/pki/check-certificate';
import type { Store } from '../../../electron/backend/store/open-store';
import { EventsListParamsSchema, type Alert, type AlertChange } from '../../../electron/contract';
import { openLabRuntime, openStoreWithLabHost, type LabRuntime } from '../../support/lab-runtime';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { makeTempDir } from '../../support/temp-dir';
import { logTail } from '../../support/test-hosts/daemon';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const RUNTIME_PORT = 7612;
const tmp = makeTempDir('sutazai-runtime-restart-alerts-');
const fixedFile = path.join(tmp.path, 'fixed');
const daemonLog = path.join(tmp.path, 'daemon.log');
const configDir = path.resolve(__dirname, '../../../config');

// flaky: fails until the test "fixes" it (creates the file), then runs.
const MANIFEST = `version: 1
processes:
  - name: flaky
    command: sh
    args: ["-c", "if [ -e ${fixedFile} ]; then echo flaky-fixed; exec sleep 300; fi; echo flaky-fails; sleep 0.1; exit 3"]
    backoff: { initial_ms: 100, max_ms: 100, jitter: 0, reset_after_ms: 1000 }
    crash_loop: { after_restarts: 1, within_ms: 600000, retry_every_ms: 300 }
    stop: { grace_ms: 2000 }
`;

let runtime: LabRuntime | undefined;
let host: TestHost;
let target: LinkTarget;
let store: Store;
let events: FleetEventLog;
let alerts: FleetAlerts;
const stopConsumers = new AbortController();
const changes: Array<[AlertChange, Alert]> = [];
const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 50, diagnostics: () => `\n${logTail(daemonLog)}` });

/** Runs a consumer as a link does while it is up: again after it fails (a stream ended by a restarting runtime), until stopped. */
function keepRunning(consumer: LinkConsumer, connection: RuntimeConnection, runs: { count: number }): void {
  void (async () => {
    while (!stopConsumers.signal.aborted) {
      runs.count++;
      await consumer.run(target, connection, stopConsumers.signal).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
}

/** Processes whose command line names the fixed file: the failing script of the old run (the fixed one execs sleep). */
function failingScripts(): number {
  let count = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(fixedFile)) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

beforeAll(async () => {
  runtime = await openLabRuntime(labRef.lab, { dir: tmp.path, manifest: MANIFEST, runtimePort: RUNTIME_PORT, callTimeoutMs: 5_000 });
  host = runtime.host;
  ({ store, target } = openStoreWithLabHost(tmp.path, host, 'lab'));
  seedRecordedInstalls(store.db, [{ name: 'lab', hosts: [{ hostId: target.hostId, state: 'installed' }] }]);
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
  alerts.start(3_600_000); // one evaluation now; the case evaluates when the events are in
  await runtime.start(daemonLog);
}, 180_000);

afterAll(async () => {
  stopConsumers.abort();
  alerts?.close();
  await runtime?.close();
  events?.close();
  store?.close();
  tmp.remove();
});

const recorded = (kind: string) => () =>
  events.list(EventsListParamsSchema.parse({ kinds: [kind] })).events.filter((event) => event.instance?.startsWith('flaky')).length;
const crashLoopChanges = () =>
  changes.filter(([, alert]) => alert.rule === 'ProcessCrashLoop').map(([change, alert]) => [change, alert.id]);

describe('alerts from a real runtime’s own account', () => {
  it('a runtime restarted in the middle of a crash loop, its program fixed: ProcessCrashLoop resolves from the new run’s states; its certificate as presented', async () => {
    // One connection for the whole case, as a link that stays up while its runtime restarts.
    const { runtime: connection } = await runtime!.connect();
    const eventRuns = { count: 0 };
    keepRunning(createEventsConsumer(events), connection, eventRuns);
    keepRunning(alerts.linkConsumer, connection, { count: 0 });

    await waitFor('flaky entering crash-loop', recorded('process.crash-loop'));
    await waitFor('the alert firing', () => {
      alerts.service.evaluate();
      return crashLoopChanges().length === 1;
    });
    expect(crashLoopChanges()).toEqual([['firing', expect.any(Number)]]);
    const alertId = crashLoopChanges()[0]![1];

    // The certificate the runtime serves, as it presented it when the consumer first read it.
    const served = certificateValidity(runtime!.certs.server.certPem).notAfter.getTime();
    await waitFor('the presented certificate recorded', () =>
      recordedCertificates(store.db)
        .list()
        .some((c) => c.hostId !== null),
    );
    expect(
      recordedCertificates(store.db)
        .list()
        .filter((c) => c.hostId !== null),
    ).toEqual([{ installName: 'lab', hostId: target.hostId, what: 'runtime certificate', notAfterMs: served }]);

    // The runtime stops in the middle of the loop; its old failing script ends on its own.
    const runsBefore = eventRuns.count;
    const oldRun = events.runtimeCursor(target.hostId)!.runStartedAtMs;
    await runtime!.stop();
    await waitFor('the old run’s failing script gone', () => failingScripts() === 0);
    fs.writeFileSync(fixedFile, 'yes\n');
    const leftBefore = recorded('process.crash-loop-left')();
    await runtime!.start(daemonLog);
    // The events stream of the old run ended; the consumer reads the new run's events.
    await waitFor(
      'the new run’s events read',
      () => eventRuns.count > runsBefore && events.runtimeCursor(target.hostId)!.runStartedAtMs !== oldRun,
    );
    await waitFor('the alert resolved', () => {
      alerts.service.evaluate();
      return crashLoopChanges().length === 2;
    });
    expect(crashLoopChanges()).toEqual([
      ['firing', alertId],
      ['resolved', alertId],
    ]);
    // Resolved from the runtime's account, not from an event saying the loop ended: the new run never said it.
    expect(recorded('process.crash-loop-left')()).toBe(leftBefore);
    expect(alerts.readings.states()).toEqual([
      expect.objectContaining({ hostId: target.hostId, process: 'flaky', state: expect.stringMatching(/^(starting|running)$/) }),
    ]);
  });
});

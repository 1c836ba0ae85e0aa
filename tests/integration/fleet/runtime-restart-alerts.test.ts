// Alerts from a real runtime's own account (issue 12, alerts): the shipped daemon on a test
// host, reached over SSH, a tunnel and gRPC over TLS, its events read by the 'events' consumer
// and its state by the alerts' own consumer, into a real store. A program that always fails
// brings ProcessCrashLoop to firing; the runtime is then restarted with the program fixed, so
// its new run starts the program afresh and never reports the old loop's end: the alert
// resolves from what the new run says of its instances, and its restart counter carries on
// from the old run's. The runtime's certificate expiry is the one it presents over TLS. Order
// is asserted, never time windows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedCertificates } from '../../../electron/backend/fleet/alerts/recorded-certificates';
import { createEventsConsumer } from '../../../electron/backend/fleet/events/events-consumer';
import type { LinkConsumer } from '../../../electron/backend/fleet/link/link-types';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { certificateValidity } from '../../../electron/backend/pki/check-certificate';
import { openLabRuntimeAlerts, type LabRuntimeAlerts } from '../../support/lab-runtime-alerts';
import { makeTempDir } from '../../support/temp-dir';
import { logTail } from '../../support/test-hosts/daemon';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-runtime-restart-alerts-');
const fixedFile = path.join(tmp.path, 'fixed');
const daemonLog = path.join(tmp.path, 'daemon.log');

let watched: LabRuntimeAlerts | undefined;
const stopConsumers = new AbortController();
const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 50, diagnostics: () => `\n${logTail(daemonLog)}` });

/** Runs a consumer as a link does while it is up: again after it fails (a stream ended by a restarting runtime), until stopped. */
function keepRunning(consumer: LinkConsumer, connection: RuntimeConnection, runs: { count: number }): void {
  void (async () => {
    while (!stopConsumers.signal.aborted) {
      runs.count++;
      await consumer.run(watched!.target, connection, stopConsumers.signal).catch(() => undefined);
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

/** flaky's restarts after a crash, as the runtime counts them (ListProcesses). */
async function flakyRestarts(connection: RuntimeConnection): Promise<number> {
  const flaky = (await connection.listProcesses()).find((entry) => entry.name === 'flaky');
  return flaky!.instances.reduce((sum, instance) => sum + instance.restarts, 0);
}

beforeAll(async () => {
  // flaky fails until the test "fixes" it (creates the file), then runs.
  watched = await openLabRuntimeAlerts(labRef.lab, { dir: tmp.path, runtimePort: 7612, fixedFile, daemonLog });
}, 180_000);

afterAll(async () => {
  stopConsumers.abort();
  await watched?.close();
  tmp.remove();
});

const recorded = (kind: string) => () => watched!.flakyEvents(kind).length;
const crashLoopChanges = () =>
  watched!.changes.filter(([, alert]) => alert.rule === 'ProcessCrashLoop').map(([change, alert]) => [change, alert.id]);

describe('alerts from a real runtime’s own account', () => {
  it('a runtime restarted in the middle of a crash loop, its program fixed: ProcessCrashLoop resolves from the new run’s states; its certificate as presented', async () => {
    const { runtime, target, store, events, alerts } = watched!;
    // One connection for the whole case, as a link that stays up while its runtime restarts.
    const { runtime: connection } = await runtime.connect();
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
    const served = certificateValidity(runtime.certs.server.certPem).notAfter.getTime();
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
    const restartsBefore = await flakyRestarts(connection);
    expect(restartsBefore).toBeGreaterThan(0);
    await runtime.stop();
    await waitFor('the old run’s failing script gone', () => failingScripts() === 0);
    fs.writeFileSync(fixedFile, 'yes\n');
    const leftBefore = recorded('process.crash-loop-left')();
    await runtime.start(daemonLog);
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
    // The new run carries on the old run's restart counter (the runtime's state file keeps it): its
    // samples need not say which run they come from, a counter never starts again below what was
    // counted but when its state was lost, and the restarts rule takes a counter that went down
    // for a baseline (tests/unit/fleet/alert-runtime-state.test.ts).
    expect(await flakyRestarts(connection)).toBeGreaterThanOrEqual(restartsBefore);
    // Resolved from the runtime's account, not from an event saying the loop ended: the new run never said it.
    expect(recorded('process.crash-loop-left')()).toBe(leftBefore);
    expect(alerts.readings.states()).toEqual([
      expect.objectContaining({ hostId: target.hostId, process: 'flaky', state: expect.stringMatching(/^(starting|running)$/) }),
    ]);
  });
});

// A crash-loop alert from a real runtime (issue 12's tests): the shipped daemon in a test
// host's namespace, reached over SSH, a tunnel and gRPC over TLS, its WatchEvents read by
// the 'events' consumer into a real store, and the alerts following those events. A program
// that always fails brings the shipped ProcessCrashLoop rule to firing; once fixed, it runs,
// leaves its crash loop, and the alert resolves. Order is asserted, never time windows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsConsumer } from '../../../electron/backend/fleet/events/events-consumer';
import { openLabRuntimeAlerts, type LabRuntimeAlerts } from '../../support/lab-runtime-alerts';
import { makeTempDir } from '../../support/temp-dir';
import { logTail } from '../../support/test-hosts/daemon';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-crash-loop-alert-');
const fixedFile = path.join(tmp.path, 'fixed');
const daemonLog = path.join(tmp.path, 'daemon.log');

let watched: LabRuntimeAlerts | undefined;
const consumerStop = new AbortController();
const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 50, diagnostics: () => `\n${logTail(daemonLog)}` });

beforeAll(async () => {
  // flaky fails until the test "fixes" it (creates the file), then runs; it leaves its crash loop once it has run for reset_after_ms.
  watched = await openLabRuntimeAlerts(labRef.lab, { dir: tmp.path, runtimePort: 7610, fixedFile, daemonLog });
  createEventsConsumer(watched.events)
    .run(watched.target, (await watched.runtime.connect()).runtime, consumerStop.signal)
    .catch(() => undefined);
}, 180_000);

afterAll(async () => {
  consumerStop.abort();
  await watched?.close();
  tmp.remove();
});

/** Whether the store holds an event of this kind for flaky (the alerts hear of it as it is recorded). */
const recorded = (kind: string) => () => watched!.flakyEvents(kind).length > 0;

describe('a crash-loop alert from a real runtime', () => {
  it('a program that always fails brings ProcessCrashLoop to firing, and once fixed it resolves', async () => {
    const { alerts, changes, runtime } = watched!;
    const { host } = runtime;
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

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertNotification, ApiError, createApiClient, type ApiClient, type EventPayload } from '../../../electron/contract';
import { createAlertEventSources, createAlertHandlers } from '../../../electron/backend/app/alert-handlers';
import { EventHub } from '../../../electron/backend/events/event-hub';
import { createFleetAlerts, type FleetAlerts } from '../../../electron/backend/fleet/alerts/fleet-alerts';
import { createFleetEventLog, type FleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import { createDispatcher, type EventSources, type MethodHandlers } from '../../../electron/backend/server/dispatcher';
import { connectInProcess } from '../../../electron/backend/server/in-process-transport';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { makeTempDir } from '../../support/temp-dir';
import type { RuntimeEvent__Output } from '../../../agents-runtime/src/wire';

const T0 = Date.UTC(2026, 0, 1);
const configDir = path.resolve(__dirname, '../../../config');

let dir: ReturnType<typeof makeTempDir>;
let store: Store;
let alerts: FleetAlerts;
let fleetEvents: FleetEventLog;
let client: ApiClient;
let nowMs: number;
let hostId: number;

beforeEach(() => {
  dir = makeTempDir('sutazai-alerts-api-');
  store = openStore({ dataDir: dir.path });
  hostId = Number(
    store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('gpu-1', 'ssh', '10.0.0.5', 1)").run().lastInsertRowid,
  );
  nowMs = T0;
  const hub = new EventHub((event, error) => {
    throw new Error(`${event} listener failed: ${String(error)}`);
  });
  // An operator rule beside the shipped ones: a typo, reported while every other rule works.
  fs.mkdirSync(path.join(dir.path, 'alerts'));
  fs.writeFileSync(path.join(dir.path, 'alerts', 'site.yaml'), 'rules:\n  - name: Hot\n    kind: gpu-temperature\n    abov: 70\n');
  fleetEvents = createFleetEventLog(store.db, { now: () => nowMs });
  alerts = createFleetAlerts({
    db: store.db,
    hub,
    links: null,
    events: fleetEvents,
    configDir: () => configDir,
    dataDir: dir.path,
    describeHost: (id) => (id === hostId ? { hostName: 'gpu-1', installName: 'lab' } : undefined),
    clock: () => nowMs,
    logger: { warn: () => {}, info: () => {} },
  });
  const handlers = createAlertHandlers({ alerts: alerts.service, hub }) as Partial<MethodHandlers> as MethodHandlers;
  const sources = createAlertEventSources({ hub }) as Partial<EventSources> as EventSources;
  const dispatcher = createDispatcher({ handlers, sources, logger: { warn: () => {}, error: () => {} } });
  client = createApiClient(connectInProcess(dispatcher, 'test'));
});

afterEach(() => {
  client.close();
  alerts.close();
  fleetEvents.close();
  store.close();
  dir.remove();
});

describe('alerts through the contract', () => {
  it('a crash-loop recorded in the fleet events fires, and its end resolves it: alerts.changed in order, listed, acknowledged by the pipe’s actor', async () => {
    const target = { installName: 'lab', hostId, hostName: 'gpu-1' };
    let sequence = 0;
    const runtimeEvent = (kind: string, state: RuntimeEvent__Output['state']): RuntimeEvent__Output => ({
      atMs: String(nowMs),
      kind,
      process: 'agent',
      instance: 'agent-1',
      state,
      message: `agent-1: ${kind}`,
      error: null,
      runStartedAtMs: String(T0 - 60_000),
      sequence: String(++sequence),
      lastLines: [],
    });
    // Recorded before this backend started: the start reads it back from the store.
    fleetEvents.appendRuntime(target, runtimeEvent('process.crash-loop', 'PROCESS_STATE_CRASH_LOOP'));
    const heard: Array<EventPayload<'alerts.changed'>> = [];
    await client.subscribe('alerts.changed', {}, (payload) => heard.push(payload));

    alerts.start(3_600_000); // evaluates once now; the test steps the rest
    const listed = await client.call('alerts.list', { states: ['firing'] });
    expect(listed.alerts).toMatchObject([{ id: 1, rule: 'ProcessCrashLoop', kind: 'process-crash-loop', state: 'firing', hostId }]);
    expect(listed.alerts[0]).not.toHaveProperty('fingerprint');

    const acked = await client.call('alerts.ack', { id: 1 });
    expect(acked.acknowledged?.by).toMatch(/^cli:/);
    expect(acked.acknowledged?.atMs).toBe(T0);

    // A retry passes through running: still in crash-loop until the runtime says it left.
    nowMs += 10_000;
    fleetEvents.appendRuntime(target, runtimeEvent('process.state', 'PROCESS_STATE_RUNNING'));
    await new Promise((resolve) => setImmediate(resolve));
    alerts.service.evaluate();
    nowMs += 20_000;
    fleetEvents.appendRuntime(target, runtimeEvent('process.crash-loop-left', 'PROCESS_STATE_UNSPECIFIED'));
    await new Promise((resolve) => setImmediate(resolve));
    alerts.service.evaluate();
    await client.call('alerts.list', {}); // a round trip: every event sent before it has arrived
    expect(heard.map(({ change, alert }) => [change, alert.id, alert.state])).toEqual([
      ['firing', 1, 'firing'],
      ['acknowledged', 1, 'firing'],
      ['resolved', 1, 'resolved'],
    ]);
    expect(alertNotification(heard[0]!.alert)).toEqual({
      type: 'alert-notification',
      alertId: 1,
      title: 'Critical: ProcessCrashLoop (lab / gpu-1)',
      body: 'agent-1 on gpu-1 is in crash-loop',
    });
    expect((await client.call('alerts.list', { states: ['resolved'] })).alerts).toMatchObject([
      { id: 1, state: 'resolved', resolvedAtMs: T0 + 30_000, acknowledged: { by: acked.acknowledged!.by } },
    ]);
  });

  it('alerts.rules gives the shipped rules and the operator file’s typo with file:line:column; a bad id is ALERT_NOT_FOUND', async () => {
    const { rules, errors } = await client.call('alerts.rules', {});
    expect(rules.map((rule) => rule.name)).toEqual([
      'ProcessCrashLoop',
      'ProcessRestartingOften',
      'HostOffline',
      'FilesystemAlmostFull',
      'MemoryHigh',
      'GpuHot',
      'CertificateExpiring',
    ]);
    expect(rules.find((rule) => rule.name === 'ProcessRestartingOften')).toMatchObject({ settings: { restarts: 5, within: 15 * 60_000 } });
    expect(errors).toEqual([
      {
        code: 'ALERT_RULE_INVALID',
        file: path.join(dir.path, 'alerts', 'site.yaml'),
        line: 4,
        column: 5,
        message: `${path.join(dir.path, 'alerts', 'site.yaml')}:4:5: rule "Hot" (rules.0): unknown key "abov" for kind gpu-temperature; did you mean above? (keys: name, for, severity, labels, enabled, kind, above).`,
        remedy: expect.stringContaining('the other rules keep working'),
      },
    ]);
    const refused = await client.call('alerts.ack', { id: 5 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'ALERT_NOT_FOUND' });
  });
});

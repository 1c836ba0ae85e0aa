// The alert readings against what a runtime says of itself, and the store they share with
// other processes: a runtime restarted in the middle of a crash loop (it never reports the
// loop's end), restart counters across runtime restarts, link drops and backend restarts
// (stored counters replayed), hosts that leave the fleet, runtime certificates as presented,
// and changes another process writes (an acknowledgement from the CLI) handed on as this
// process's own. Real SQLite files throughout; the clock is stepped.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient, type Alert, type AlertChange } from '../../../electron/contract';
import { createAlertEventSources, createAlertHandlers } from '../../../electron/backend/app/alert-handlers';
import { EventHub } from '../../../electron/backend/events/event-hub';
import type { AlertService } from '../../../electron/backend/fleet/alerts/alert-service';
import { createAlertsRepo } from '../../../electron/backend/fleet/alerts/alerts-repo';
import { createFleetAlerts } from '../../../electron/backend/fleet/alerts/fleet-alerts';
import { createFleetReadings, type FleetReadings } from '../../../electron/backend/fleet/alerts/fleet-readings';
import { recordedCertificates } from '../../../electron/backend/fleet/alerts/recorded-certificates';
import { createFleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import { linkRemovedError } from '../../../electron/backend/fleet/link/link-errors';
import type { LinkState } from '../../../electron/backend/fleet/link/link-types';
import { createMetricStore } from '../../../electron/backend/metrics/metric-store';
import { createSeriesKeys } from '../../../electron/backend/metrics/series-keys';
import { createDispatcher, type EventSources, type MethodHandlers } from '../../../electron/backend/server/dispatcher';
import { commandLineActor, connectInProcess } from '../../../electron/backend/server/in-process-transport';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { alertServiceOn, openAlertTestStore, writeRules, type AlertTestStore } from '../../support/alerts-on-store';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { makeWaitFor } from '../../support/wait-for';

const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 20 });
const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

let opened: AlertTestStore;
let dir: AlertTestStore['dir'];
let store: Store;
let hostId: number;
let nowMs: number;
let readings: FleetReadings;
let changes: Array<[AlertChange, Alert]>;

beforeEach(() => {
  opened = openAlertTestStore('sutazai-alert-runtime-state-');
  ({ dir, store, hostId } = opened);
  nowMs = T0;
  readings = createFleetReadings();
  changes = [];
});

afterEach(() => opened.close());

function service(yaml: string, { db = store.db, sink = changes } = {}): AlertService {
  return alertServiceOn({
    db,
    readings,
    ruleFolder: writeRules(dir.path, yaml),
    clock: () => nowMs,
    describeHost: (id) => (id === hostId ? { hostName: 'gpu-1', installName: 'lab' } : undefined),
    certificates: recordedCertificates(db),
    onChange: (change, alert) => sink.push([change, alert]),
  });
}

const step = (ms: number) => (nowMs += ms);
const seen = () => changes.map(([change, alert]) => `${change} ${alert.rule}#${alert.id}`);
const CRASH_LOOP_RULE = 'rules:\n  - name: ProcessCrashLoop\n    kind: process-crash-loop\n    severity: critical\n';
const RESTARTS_RULE = 'rules:\n  - name: Restarting\n    kind: process-restarts\n    restarts: 2\n    within: 10m\n';
const agent1 = { process: 'agent', instance: 'agent-1' };
const agent2 = { process: 'agent', instance: 'agent-2' };
const snapshot = (runStartedAtMs: number, ...instances: Array<{ process: string; instance: string; state: string; restarts: number }>) =>
  readings.observeRuntime(hostId, { runStartedAtMs, instances });

describe('crash-loop from the runtime’s own account', () => {
  it('a runtime restarted in the middle of a crash loop resolves the alert from its new run’s states; a relapse fires anew', () => {
    const alerts = service(CRASH_LOOP_RULE);
    snapshot(T0 - MINUTE, { ...agent1, state: 'running', restarts: 0 });
    readings.observeProcessState({ hostId, ...agent1 }, 'crash-loop');
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1']);

    // The runtime restarts: its new run never says the old loop ended, only what it runs now.
    step(MINUTE);
    snapshot(T0 + 30_000, { ...agent1, state: 'running', restarts: 0 });
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'resolved ProcessCrashLoop#1']);

    // The new run loops again: its own crash-loop event is a new alert.
    step(MINUTE);
    readings.observeProcessState({ hostId, ...agent1 }, 'crash-loop');
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'resolved ProcessCrashLoop#1', 'firing ProcessCrashLoop#2']);
  });

  it('a runtime that still loops keeps the alert firing; an instance it no longer runs resolves; one not heard of keeps its alert', () => {
    const alerts = service(CRASH_LOOP_RULE);
    readings.observeProcessState({ hostId, ...agent1 }, 'crash-loop');
    readings.observeProcessState({ hostId, ...agent2 }, 'crash-loop');
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing ProcessCrashLoop#2']);

    step(MINUTE);
    // After a reconnect: agent-1 still loops, agent-2 was scaled away while the link was down.
    snapshot(T0 - MINUTE, { ...agent1, state: 'crash-loop', restarts: 9 });
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing ProcessCrashLoop#2', 'resolved ProcessCrashLoop#2']);
    expect(readings.states()).toEqual([
      { hostId, ...agent1, state: 'crash-loop' },
      { hostId, ...agent2, state: 'absent' },
    ]);

    // A host forgotten (gone from the fleet) says nothing of its instances: its alert stays as it is.
    readings.forgetHost(hostId);
    step(MINUTE);
    alerts.evaluate();
    expect(seen()).toHaveLength(3);
  });
});

describe('the restarts rule’s baseline', () => {
  const restarts = (count: number, instance = 'agent-1') =>
    readings.observeSample(hostId, nowMs, [[`process.restarts:${instance}`, count]]);

  it('neither the first reading nor a counter reset by a runtime restart counts; restarts after either do', () => {
    const alerts = service(RESTARTS_RULE);
    restarts(40); // the first reading: 40 restarts at times unknown
    alerts.evaluate();
    step(MINUTE);
    restarts(0); // the runtime restarted: its counter starts again
    step(MINUTE);
    restarts(2);
    alerts.evaluate();
    expect(seen()).toEqual([]);
    expect(readings.restartsSince(T0)).toEqual([{ hostId, ...agent1, restarts: 2 }]);
    step(MINUTE);
    restarts(3);
    alerts.evaluate();
    expect(seen()).toEqual(['firing Restarting#1']);
    expect(changes[0]![1]).toMatchObject({ value: 3 });
  });

  it('a runtime restarted while the link was down: its counter’s first reading after the link came up is a baseline, even above the old one', () => {
    const alerts = service(RESTARTS_RULE);
    restarts(1);
    step(MINUTE);
    readings.rebaseline(hostId); // the link comes up again
    restarts(4); // the new run's counter: restarts at times unknown, of a run we did not see
    alerts.evaluate();
    expect(readings.restartsSince(T0)).toEqual([{ hostId, ...agent1, restarts: 0 }]);
    step(MINUTE);
    restarts(5);
    expect(readings.restartsSince(T0)).toEqual([{ hostId, ...agent1, restarts: 1 }]);
    alerts.evaluate();
    expect(seen()).toEqual([]);
  });

  it('a runtime restarted under a link that stayed up shows as a new run: the next reading is a baseline; the same run changes nothing', () => {
    restarts(1);
    snapshot(T0 - MINUTE, { ...agent1, state: 'running', restarts: 1 });
    step(MINUTE);
    snapshot(T0 - MINUTE, { ...agent1, state: 'running', restarts: 3 }); // the same run: its samples carry the count
    restarts(3);
    expect(readings.restartsSince(T0)).toEqual([{ hostId, ...agent1, restarts: 2 }]);
    step(MINUTE);
    snapshot(T0 + 90_000, { ...agent1, state: 'running', restarts: 4 }, { ...agent2, state: 'running', restarts: 0 });
    restarts(4);
    restarts(0, 'agent-2');
    expect(readings.restartsSince(T0)).toEqual([
      { hostId, ...agent1, restarts: 2 },
      { hostId, ...agent2, restarts: 0 },
    ]);
    step(MINUTE);
    restarts(6);
    expect(readings.restartsSince(T0)).toEqual([
      { hostId, ...agent1, restarts: 4 },
      { hostId, ...agent2, restarts: 0 },
    ]);
  });

  it('an instance is labelled with the process its runtime names: a single replica of web-2 is not the second replica of web', () => {
    const web2 = { process: 'web-2', instance: 'web-2' };
    restarts(0, 'web-2'); // a sample first: its instance name alone suggests web's second replica
    snapshot(T0 - MINUTE, { ...web2, state: 'running', restarts: 0 });
    step(MINUTE);
    restarts(1, 'web-2');
    expect(readings.restartsSince(T0)).toEqual([{ hostId, ...web2, restarts: 1 }]);
  });

  it('samples need not say which run of the runtime they come from: in either order of a new run’s samples and its account, no restart is counted that did not happen', () => {
    // The runtime keeps each counter across its own restart (its state file; runtime-restart-alerts
    // checks it on a real one): the new run's counter carries on from the old run's 3, perhaps past
    // it with restarts since the last sample; only a lost state file starts it again lower. Each
    // case: 2 restarts seen in the old run, the new run's first counter, the restarts really behind
    // that counter since the old run's last sample, then one more restart once both have arrived.
    const cases = [
      { newRun: 'carries on', first: 3, since: 0, counted: 3 },
      { newRun: 'carries on, one restart since', first: 4, since: 1, counted: { samplesFirst: 4, accountFirst: 3 } },
      { newRun: 'state lost', first: 0, since: 0, counted: 3 },
      { newRun: 'state lost, two restarts since', first: 2, since: 2, counted: 3 },
      { newRun: 'state lost, five restarts since', first: 5, since: 5, counted: { samplesFirst: 5, accountFirst: 3 } },
    ];
    for (const order of ['samplesFirst', 'accountFirst'] as const)
      for (const { newRun, first, since, counted } of cases) {
        readings = createFleetReadings();
        nowMs = T0;
        snapshot(T0 - MINUTE, { ...agent1, state: 'running', restarts: 1 });
        restarts(1);
        step(1000);
        restarts(3);
        // The runtime restarts under a link that stayed up: the metric stream resumes before or after the alerts' consumer reads the new run.
        step(1000);
        if (order === 'samplesFirst') restarts(first);
        snapshot(T0 + 1500, { ...agent1, state: 'running', restarts: first });
        if (order === 'accountFirst') restarts(first);
        step(1000);
        restarts(first);
        step(1000);
        restarts(first + 1);
        const real = 2 + since + 1;
        const [found] = readings.restartsSince(T0);
        expect([newRun, order, found!.restarts]).toEqual([newRun, order, typeof counted === 'number' ? counted : counted[order]]);
        // Never more than happened; never fewer than the old run's and the one after both arrived.
        expect(found!.restarts).toBeLessThanOrEqual(real);
        expect(found!.restarts).toBeGreaterThanOrEqual(3);
      }
  });

  it('a starting backend counts the stored restarts of the rule’s window, each at its second; the first stored reading and a reset do not count', () => {
    const metrics = createMetricStore(store.db, { clock: () => nowMs, enforceRetention: false });
    // Outside the rule's 10 minutes: 5; inside: 8 (the first reading there, a baseline), 9, the runtime restarted (0), 1, 2.
    const stored: Array<[number, number]> = [
      [-20 * MINUTE, 5],
      [-9 * MINUTE, 8],
      [-8 * MINUTE, 9],
      [-6 * MINUTE, 0],
      [-5 * MINUTE, 1],
      [-4 * MINUTE, 2],
    ];
    step(30 * MINUTE);
    for (const [ago, count] of stored) metrics.record(hostId, nowMs + ago, { 'process.restarts:agent-1': count });
    metrics.flush();
    fs.mkdirSync(path.join(dir.path, 'data', 'alerts'), { recursive: true });
    fs.writeFileSync(path.join(dir.path, 'data', 'alerts', 'restarts.yaml'), RESTARTS_RULE);
    const events = createFleetEventLog(store.db, { now: () => nowMs, enforceRetention: false });
    const hub = new EventHub(() => {});
    const alerts = createFleetAlerts({
      db: store.db,
      hub,
      links: null,
      events,
      storedRestarts: { metrics, seriesKeys: createSeriesKeys(store.db), hostIds: () => [hostId] },
      configDir: () => {
        throw new Error('no shipped rules here');
      },
      dataDir: path.join(dir.path, 'data'),
      describeHost: () => ({ hostName: 'gpu-1', installName: 'lab' }),
      clock: () => nowMs,
      logger: { warn: () => {}, info: () => {} },
    });
    hub.on('alerts.changed', ({ change, alert }) => changes.push([change, alert]));
    try {
      alerts.start(3_600_000); // reads the stored counters, then evaluates once
      // 9 (at -8 min), then 1 and 2 after the reset: 3.
      expect(alerts.readings.restartsSince(nowMs - 10 * MINUTE)).toEqual([{ hostId, ...agent1, restarts: 3 }]);
      expect(seen()).toEqual(['firing Restarting#1']);
      expect(changes[0]![1]).toMatchObject({ value: 3, summary: 'agent-1 on gpu-1 restarted 3 times in 10m' });
    } finally {
      alerts.close();
      events.close();
      metrics.close();
    }
  });
});

describe('hosts that leave the fleet', () => {
  it('a host whose install is removed, or that is deleted, resolves its alerts, and what it last reported raises none again', () => {
    seedRecordedInstalls(store.db, [{ name: 'lab', hosts: [{ hostId }] }]);
    const gpu2 = Number(
      store.db.prepare("INSERT INTO hosts (name, kind, address, created_at) VALUES ('gpu-2', 'ssh', '10.0.0.6', 1)").run().lastInsertRowid,
    );
    fs.mkdirSync(path.join(dir.path, 'data', 'alerts'), { recursive: true });
    fs.writeFileSync(
      path.join(dir.path, 'data', 'alerts', 'rules.yaml'),
      `${CRASH_LOOP_RULE}  - name: MemoryHigh\n    kind: memory-usage\n    above: 90\n`,
    );
    const hosts = createHostsRepo(store.db);
    const installs = createInstallsRepo(store.db);
    const linkListeners: Array<(state: LinkState, previous: LinkState | null) => void> = [];
    const events = createFleetEventLog(store.db, { now: () => nowMs, enforceRetention: false });
    const hub = new EventHub(() => {});
    hub.on('alerts.changed', ({ change, alert }) => changes.push([change, alert]));
    const alerts = createFleetAlerts({
      db: store.db,
      hub,
      links: {
        states: () => [],
        onChange: (listener) => {
          linkListeners.push(listener);
          return () => {};
        },
      },
      events,
      configDir: () => {
        throw new Error('no shipped rules here');
      },
      dataDir: path.join(dir.path, 'data'),
      // As the backend describes a host: from the inventory and the recorded installs.
      describeHost: (id) => {
        const host = hosts.get(id);
        return host && { hostName: host.name, installName: installs.installOfHost(id)?.name ?? null };
      },
      clock: () => nowMs,
      logger: { warn: () => {}, info: () => {} },
    });
    try {
      const agent = { hostId, process: 'agent', instance: 'agent-1' };
      alerts.readings.observeProcessState(agent, 'crash-loop');
      alerts.readings.observeSample(gpu2, nowMs, [['memory.used_percent', 99]]);
      alerts.service.evaluate();
      expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing MemoryHigh#2']);
      expect(changes[0]![1].labels).toMatchObject({ install: 'lab', host: 'gpu-1' });

      // gpu-1 is uninstalled: its link stops for good, and nothing reports on it any more.
      installs.removeHost(installs.findByName('lab')!.id, hostId);
      const target = { installName: 'lab', hostId, hostName: 'gpu-1' };
      for (const listener of linkListeners)
        listener({ target, state: 'offline', lastSeenMs: nowMs, sinceMs: nowMs, reason: linkRemovedError(target) }, null);
      step(MINUTE);
      alerts.service.evaluate();
      expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing MemoryHigh#2', 'resolved ProcessCrashLoop#1']);
      expect(alerts.readings.states()).toEqual([]);

      // gpu-2 is deleted from the inventory while its last reading is still fresh: its alert keeps no host, and resolves.
      hosts.remove(gpu2);
      step(10_000);
      alerts.service.evaluate();
      expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing MemoryHigh#2', 'resolved ProcessCrashLoop#1', 'resolved MemoryHigh#2']);
      expect(
        createAlertsRepo(store.db)
          .list({ resolvedSinceMs: 0, limit: 10 })
          .map((alert) => [alert.id, alert.hostId]),
      ).toEqual([
        [2, null],
        [1, hostId],
      ]);
    } finally {
      alerts.close();
      events.close();
    }
  });
  it('a restarted backend replays the stored crash-loops and restarts of installed hosts only: an uninstalled host’s raise nothing', () => {
    // gpu-1 was uninstalled (it stays in the inventory with its past); gpu-2 is in the install lab.
    seedRecordedInstalls(store.db, [{ name: 'lab', hosts: [{ name: 'gpu-2', address: '10.0.0.6', state: 'installed' }] }]);
    const hosts = createHostsRepo(store.db);
    const installs = createInstallsRepo(store.db);
    const gpu2 = hosts.findByName('gpu-2')!.id;
    fs.mkdirSync(path.join(dir.path, 'data', 'alerts'), { recursive: true });
    fs.writeFileSync(path.join(dir.path, 'data', 'alerts', 'rules.yaml'), `${CRASH_LOOP_RULE}${RESTARTS_RULE.replace('rules:\n', '')}`);
    const metrics = createMetricStore(store.db, { clock: () => nowMs, enforceRetention: false });
    const events = createFleetEventLog(store.db, { now: () => nowMs, enforceRetention: false });
    step(30 * MINUTE);
    // What the backend recorded before it stopped: each host's agent-1 entered crash-loop and restarted three times.
    for (const [id, name] of [
      [hostId, 'gpu-1'],
      [gpu2, 'gpu-2'],
    ] as const) {
      events.appendRuntime(
        { installName: 'lab', hostId: id, hostName: name },
        {
          atMs: String(nowMs - 5 * MINUTE),
          sequence: '1',
          kind: 'process.crash-loop',
          process: 'agent',
          instance: 'agent-1',
          state: 'PROCESS_STATE_CRASH_LOOP',
          message: 'agent-1 failed 5 times in a row; in crash-loop',
          error: null,
          runStartedAtMs: String(nowMs - 20 * MINUTE),
          lastLines: [],
        },
      );
      for (const [minutesAgo, count] of [
        [9, 0],
        [8, 1],
        [7, 2],
        [6, 3],
      ] as const)
        metrics.record(id, nowMs - minutesAgo * MINUTE, { 'process.restarts:agent-1': count });
    }
    metrics.flush();
    // The backend starts again, as backend.ts builds its alerts: hosts described from the inventory and the recorded installs.
    const hub = new EventHub(() => {});
    hub.on('alerts.changed', ({ change, alert }) => changes.push([change, alert]));
    const alerts = createFleetAlerts({
      db: store.db,
      hub,
      links: null,
      events,
      storedRestarts: { metrics, seriesKeys: createSeriesKeys(store.db), hostIds: () => hosts.list().map((host) => host.id) },
      configDir: () => {
        throw new Error('no shipped rules here');
      },
      dataDir: path.join(dir.path, 'data'),
      describeHost: (id) => {
        const host = hosts.get(id);
        return host && { hostName: host.name, installName: installs.installOfHost(id)?.name ?? null };
      },
      clock: () => nowMs,
      logger: { warn: () => {}, info: () => {} },
    });
    try {
      alerts.start(3_600_000); // replays the store, then evaluates once
      expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing Restarting#2']);
      expect(changes.map(([, alert]) => alert.labels)).toEqual([
        expect.objectContaining({ install: 'lab', host: 'gpu-2', instance: 'agent-1' }),
        expect.objectContaining({ install: 'lab', host: 'gpu-2', instance: 'agent-1' }),
      ]);
      expect(alerts.readings.states()).toEqual([{ hostId: gpu2, ...agent1, state: 'crash-loop' }]);
      expect(alerts.readings.restartsSince(nowMs - 10 * MINUTE)).toEqual([{ hostId: gpu2, ...agent1, restarts: 3 }]);
    } finally {
      alerts.close();
      events.close();
      metrics.close();
    }
  });
});

describe('runtime certificates as presented', () => {
  it('expiry comes from the certificate the runtime presented, recorded again when it changes; a host never seen has none estimated', () => {
    seedRecordedInstalls(store.db, [{ name: 'lab', hosts: [{ hostId }, { name: 'gpu-2', address: '10.0.0.6' }] }]);
    const certificates = recordedCertificates(store.db);
    // The stand-in CA does not parse: listed by neither (each runtime's own is read, not derived).
    expect(certificates.list()).toEqual([]);

    const alerts = service('rules:\n  - name: CertificateExpiring\n    kind: certificate-expiry\n    within: 30d\n');
    certificates.recordPresented(hostId, { notAfterMs: T0 + 40 * DAY, fingerprint256: 'AA:01' }, T0);
    alerts.evaluate();
    expect(certificates.list()).toEqual([{ installName: 'lab', hostId, what: 'runtime certificate', notAfterMs: T0 + 40 * DAY }]);
    expect(seen()).toEqual([]);

    step(11 * DAY);
    alerts.evaluate();
    expect(seen()).toEqual(['firing CertificateExpiring#1']);
    expect(changes[0]![1]).toMatchObject({
      value: 29,
      labels: { install: 'lab', host: 'gpu-1', certificate: 'runtime certificate' },
      summary: `gpu-1's runtime certificate expires in 29 days (${new Date(T0 + 40 * DAY).toISOString()})`,
    });

    // A reconfigure issued a new one; the link read it when it came up again.
    certificates.recordPresented(hostId, { notAfterMs: nowMs + 365 * DAY, fingerprint256: 'BB:02' }, nowMs);
    step(MINUTE);
    alerts.evaluate();
    expect(seen()).toEqual(['firing CertificateExpiring#1', 'resolved CertificateExpiring#1']);
  });
});

describe('changes other processes write', () => {
  it('an acknowledgement written by another process (the CLI) is handed on once, with its actor; this process’s own changes are not repeated', async () => {
    const serving = service(CRASH_LOOP_RULE);
    readings.observeProcessState({ hostId, ...agent1 }, 'crash-loop');
    readings.observeProcessState({ hostId, ...agent2 }, 'crash-loop');
    serving.start(3_600_000); // evaluates once: both firing
    // The CLI: its own connection to the same store file, its own repo.
    const cliStore = openStore({ dataDir: dir.path });
    try {
      const cliChanges: Array<[AlertChange, Alert]> = [];
      const cli = service(CRASH_LOOP_RULE, { db: cliStore.db, sink: cliChanges });
      const acked = cli.acknowledge(1, 'cli:operator');
      expect(acked.acknowledged).toEqual({ by: 'cli:operator', atMs: T0 });
      await waitFor('the serving process to hear of the acknowledgement', () => changes.length === 3);
      expect(changes[2]![1]).toMatchObject({ id: 1, state: 'firing', acknowledged: { by: 'cli:operator', atMs: T0 } });

      // The serving process's own change, then another from the CLI: the own one is not read back as another's.
      step(MINUTE);
      readings.observeProcessState({ hostId, ...agent1 }, 'crash-loop-left');
      serving.evaluate();
      cli.acknowledge(1, 'cli:someone-else'); // the first acknowledgement is kept: nothing written
      cli.acknowledge(2, 'cli:operator');
      await waitFor('the second acknowledgement', () => changes.length === 5);
      expect(seen()).toEqual([
        'firing ProcessCrashLoop#1',
        'firing ProcessCrashLoop#2',
        'acknowledged ProcessCrashLoop#1',
        'resolved ProcessCrashLoop#1',
        'acknowledged ProcessCrashLoop#2',
      ]);
      expect(cliChanges.map(([change, alert]) => `${change} #${alert.id}`)).toEqual(['acknowledged #1', 'acknowledged #2']);
    } finally {
      cliStore.close();
      serving.close();
    }
  });
});

describe('who acknowledges', () => {
  it('alerts.ack records the pipe’s actor: the desktop window, a web session, a command', async () => {
    const alerts = service(CRASH_LOOP_RULE);
    for (const instance of ['agent-1', 'agent-2', 'agent-3'])
      readings.observeProcessState({ hostId, process: 'agent', instance }, 'crash-loop');
    alerts.evaluate();
    const hub = new EventHub(() => {});
    const dispatcher = createDispatcher({
      handlers: createAlertHandlers({ alerts, hub }) as Partial<MethodHandlers> as MethodHandlers,
      sources: createAlertEventSources({ hub }) as Partial<EventSources> as EventSources,
      logger: { warn: () => {}, error: () => {} },
    });
    const pipes = [
      createApiClient(connectInProcess(dispatcher, 'port:1', 'desktop')),
      createApiClient(connectInProcess(dispatcher, 'ws:1', 'web:0a1b2c3d')),
      createApiClient(connectInProcess(dispatcher, 'cli')),
    ];
    try {
      const acked = await Promise.all(pipes.map((client, index) => client.call('alerts.ack', { id: index + 1 })));
      expect(acked.map((alert) => alert.acknowledged?.by)).toEqual(['desktop', 'web:0a1b2c3d', commandLineActor()]);
      expect(commandLineActor()).toMatch(/^cli:./);
      const repo = createAlertsRepo(store.db);
      expect([1, 2, 3].map((id) => repo.history(id).at(-1))).toEqual([
        { change: 'acknowledged', atMs: T0, actor: 'desktop', value: null },
        { change: 'acknowledged', atMs: T0, actor: 'web:0a1b2c3d', value: null },
        { change: 'acknowledged', atMs: T0, actor: commandLineActor(), value: null },
      ]);
    } finally {
      for (const client of pipes) client.close();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type Alert, type AlertChange } from '../../../electron/contract';
import type { CertificateExpiry } from '../../../electron/backend/fleet/alerts/alert-inputs';
import type { AlertService } from '../../../electron/backend/fleet/alerts/alert-service';
import { createAlertsRepo } from '../../../electron/backend/fleet/alerts/alerts-repo';
import { createFleetReadings, type FleetReadings } from '../../../electron/backend/fleet/alerts/fleet-readings';
import type { LinkState } from '../../../electron/backend/fleet/link/link-types';
import type { Store } from '../../../electron/backend/store/open-store';
import { alertServiceOn, openAlertTestStore, writeRules, type AlertTestStore } from '../../support/alerts-on-store';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);

let opened: AlertTestStore;
let store: Store;
let hostId: number;
let nowMs: number;
let readings: FleetReadings;
let links: LinkState[];
let certificates: CertificateExpiry[];
let changes: Array<[AlertChange, Alert]>;
let warnings: string[];

beforeEach(() => {
  opened = openAlertTestStore('sutazai-alerts-');
  ({ store, hostId } = opened);
  nowMs = T0;
  readings = createFleetReadings();
  links = [];
  certificates = [];
  changes = [];
  warnings = [];
});

afterEach(() => opened.close());

function service(yaml: string, options: { staleAfterMs?: number } = {}): AlertService {
  return alertServiceOn({
    db: store.db,
    readings,
    ruleFolder: writeRules(opened.dir.path, yaml),
    clock: () => nowMs,
    describeHost: (id) => (id === hostId ? { hostName: 'gpu-1', installName: 'lab' } : undefined),
    links: () => links,
    certificates: { list: () => certificates },
    onChange: (change, alert) => changes.push([change, alert]),
    warn: (message) => warnings.push(message),
    ...options,
  });
}

const step = (ms: number) => (nowMs += ms);
const memory = (percent: number) => readings.observeSample(hostId, nowMs, [['memory.used_percent', percent]]);
const seen = () => changes.map(([change, alert]) => `${change} ${alert.rule}#${alert.id}`);

const MEMORY_RULE =
  'rules:\n  - name: MemoryHigh\n    kind: memory-usage\n    above: 90\n    for: 5m\n    severity: critical\n    labels: { team: ops }\n';

describe('alert evaluation (Prometheus semantics, stepped clock, real store)', () => {
  it('memory over 90% goes pending, fires once it has held for 5 minutes, and resolves when it drops', () => {
    const alerts = service(MEMORY_RULE);
    memory(95);
    alerts.evaluate();
    expect(seen()).toEqual(['pending MemoryHigh#1']);
    expect(changes[0]![1]).toMatchObject({
      state: 'pending',
      severity: 'critical',
      hostId,
      value: 95,
      activeSinceMs: T0,
      firingSinceMs: null,
      labels: { alertname: 'MemoryHigh', severity: 'critical', team: 'ops', install: 'lab', host: 'gpu-1' },
      summary: 'gpu-1: memory is 95.0% used (over 90%)',
    });

    step(4 * MINUTE);
    memory(97);
    alerts.evaluate();
    // Still pending: `for:` has not elapsed, and an unchanged state is no change.
    expect(seen()).toEqual(['pending MemoryHigh#1']);
    expect(alerts.list({ resolvedWithinMs: 0, limit: 10 })).toMatchObject([{ id: 1, state: 'pending', value: 97 }]);

    step(MINUTE);
    memory(96);
    alerts.evaluate();
    expect(seen()).toEqual(['pending MemoryHigh#1', 'firing MemoryHigh#1']);
    expect(changes[1]![1]).toMatchObject({ state: 'firing', activeSinceMs: T0, firingSinceMs: T0 + 5 * MINUTE, value: 96 });

    step(MINUTE);
    memory(40);
    alerts.evaluate();
    expect(seen()).toEqual(['pending MemoryHigh#1', 'firing MemoryHigh#1', 'resolved MemoryHigh#1']);
    expect(changes[2]![1]).toMatchObject({ state: 'resolved', resolvedAtMs: T0 + 6 * MINUTE });
    expect(
      createAlertsRepo(store.db)
        .history(1)
        .map((entry) => [entry.change, entry.atMs]),
    ).toEqual([
      ['pending', T0],
      ['firing', T0 + 5 * MINUTE],
      ['resolved', T0 + 6 * MINUTE],
    ]);
  });

  it('a pending alert whose condition stops before `for:` is dropped without a trace, and a later breach starts afresh', () => {
    const alerts = service(MEMORY_RULE);
    memory(95);
    alerts.evaluate();
    step(2 * MINUTE);
    memory(50);
    alerts.evaluate();
    expect(seen()).toEqual(['pending MemoryHigh#1', 'dropped MemoryHigh#1']);
    expect(alerts.list({ resolvedWithinMs: 86_400_000, limit: 10 })).toEqual([]);

    step(MINUTE);
    memory(99);
    alerts.evaluate();
    step(4 * MINUTE);
    memory(99);
    alerts.evaluate();
    // The new breach counts its 5 minutes from its own start, not from the dropped one's.
    expect(seen().slice(2)).toEqual(['pending MemoryHigh#2']);
    step(MINUTE);
    memory(99);
    alerts.evaluate();
    expect(seen().slice(2)).toEqual(['pending MemoryHigh#2', 'firing MemoryHigh#2']);
  });

  it('a process in crash-loop fires at once (for: 0) and resolves once it runs again; a relapse is a new alert', () => {
    const alerts = service('rules:\n  - name: ProcessCrashLoop\n    kind: process-crash-loop\n    severity: critical\n');
    const agent = { hostId, process: 'agent', instance: 'agent-2' };
    readings.observeProcessState(agent, 'running');
    alerts.evaluate();
    expect(seen()).toEqual([]);

    step(10_000);
    readings.observeProcessState(agent, 'crash-loop');
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1']);
    expect(changes[0]![1]).toMatchObject({
      state: 'firing',
      activeSinceMs: T0 + 10_000,
      firingSinceMs: T0 + 10_000,
      labels: { install: 'lab', host: 'gpu-1', process: 'agent', instance: 'agent-2' },
      summary: 'agent-2 on gpu-1 is in crash-loop',
    });

    step(10_000);
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1']);

    step(10_000);
    readings.observeProcessState(agent, 'running');
    alerts.evaluate();
    step(10_000);
    readings.observeProcessState(agent, 'crash-loop');
    alerts.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'resolved ProcessCrashLoop#1', 'firing ProcessCrashLoop#2']);
  });

  it('more than N restarts within M minutes fires from the restart counter, and resolves when the window slides past them', () => {
    const alerts = service('rules:\n  - name: Restarting\n    kind: process-restarts\n    restarts: 2\n    within: 10m\n');
    const restarts = (count: number) => readings.observeSample(hostId, nowMs, [['process.restarts:agent-1', count]]);
    restarts(7); // a baseline: restarts before the control center watched happened at unknown times
    alerts.evaluate();
    for (const count of [8, 9]) {
      step(MINUTE);
      restarts(count);
    }
    alerts.evaluate();
    expect(seen()).toEqual([]);
    step(MINUTE);
    restarts(10);
    alerts.evaluate();
    expect(seen()).toEqual(['firing Restarting#1']);
    expect(changes[0]![1]).toMatchObject({ value: 3, summary: 'agent-1 on gpu-1 restarted 3 times in 10m' });
    step(9 * MINUTE);
    alerts.evaluate();
    expect(seen()).toEqual(['firing Restarting#1', 'resolved Restarting#1']);
  });

  it('a host offline longer than `for:` fires, naming the reason; back online it resolves', () => {
    const alerts = service('rules:\n  - name: HostOffline\n    kind: host-offline\n    for: 5m\n');
    const target = { installName: 'lab', hostId, hostName: 'gpu-1' };
    links = [
      {
        target,
        state: 'offline',
        lastSeenMs: T0,
        sinceMs: T0,
        reason: new ApiError('CONNECTION_REFUSED', 'sshd refused the connection.', 'Start sshd.'),
      },
    ];
    alerts.evaluate();
    step(5 * MINUTE);
    alerts.evaluate();
    expect(seen()).toEqual(['pending HostOffline#1', 'firing HostOffline#1']);
    expect(changes[1]![1].summary).toBe('gpu-1 is offline: sshd refused the connection.');
    step(MINUTE);
    links = [{ target, state: 'online', lastSeenMs: nowMs, sinceMs: nowMs, reason: null }];
    alerts.evaluate();
    expect(seen().at(-1)).toBe('resolved HostOffline#1');
  });

  it('filesystems and GPUs alert per mount and per GPU; a host gone quiet keeps its alerts until it reports again', () => {
    const alerts = service(
      'rules:\n  - name: Full\n    kind: filesystem-usage\n    above: 90\n  - name: Hot\n    kind: gpu-temperature\n    above: 85\n',
      { staleAfterMs: 2 * MINUTE },
    );
    readings.observeSample(hostId, nowMs, [
      ['filesystem.used_percent:/', 95.5],
      ['filesystem.used_percent:/var/lib', 20],
      ['gpu.temperature_celsius:0', 70],
      ['gpu.temperature_celsius:1', 91],
    ]);
    alerts.evaluate();
    expect(changes.map(([change, alert]) => [change, alert.rule, alert.labels.mount ?? alert.labels.gpu])).toEqual([
      ['firing', 'Full', '/'],
      ['firing', 'Hot', '1'],
    ]);
    // Its readings went stale (the link dropped): not knowing is not getting well, nothing resolves.
    step(3 * MINUTE);
    alerts.evaluate();
    expect(seen()).toEqual(['firing Full#1', 'firing Hot#2']);
    // It reports again: the GPU cooled, and / is no longer mounted; the hot mount and GPU resolve.
    readings.observeSample(hostId, nowMs, [
      ['filesystem.used_percent:/var/lib', 20],
      ['gpu.temperature_celsius:1', 60],
    ]);
    alerts.evaluate();
    expect(seen()).toEqual(['firing Full#1', 'firing Hot#2', 'resolved Full#1', 'resolved Hot#2']);
  });

  it('after a restart the backend has heard nothing yet: open alerts stay until their subjects are heard of', () => {
    const yaml = 'rules:\n  - name: ProcessCrashLoop\n    kind: process-crash-loop\n  - name: HostOffline\n    kind: host-offline\n';
    const target = { installName: 'lab', hostId, hostName: 'gpu-1' };
    links = [{ target, state: 'offline', lastSeenMs: T0, sinceMs: T0, reason: null }];
    readings.observeProcessState({ hostId, process: 'agent', instance: 'agent-1' }, 'crash-loop');
    service(yaml).evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing HostOffline#2']);

    // A new backend: no process state heard of yet, the link connecting again.
    readings = createFleetReadings();
    links = [{ target, state: 'connecting', lastSeenMs: T0, sinceMs: nowMs, reason: null }];
    const restarted = service(yaml);
    step(MINUTE);
    restarted.evaluate();
    expect(seen()).toEqual(['firing ProcessCrashLoop#1', 'firing HostOffline#2']);

    links = [{ target, state: 'online', lastSeenMs: nowMs, sinceMs: nowMs, reason: null }];
    readings.observeProcessState({ hostId, process: 'agent', instance: 'agent-1' }, 'running');
    step(MINUTE);
    restarted.evaluate();
    expect(seen().slice(2)).toEqual(['resolved ProcessCrashLoop#1', 'resolved HostOffline#2']);
  });

  it('a certificate expiring within 30 days fires with the days left', () => {
    const alerts = service('rules:\n  - name: CertificateExpiring\n    kind: certificate-expiry\n    within: 30d\n');
    certificates = [
      { installName: 'lab', hostId, what: 'runtime certificate', notAfterMs: T0 + 12 * 86_400_000 },
      { installName: 'lab', hostId: null, what: 'install CA', notAfterMs: T0 + 3000 * 86_400_000 },
    ];
    alerts.evaluate();
    expect(changes).toHaveLength(1);
    expect(changes[0]![1]).toMatchObject({
      state: 'firing',
      value: 12,
      labels: { install: 'lab', host: 'gpu-1', certificate: 'runtime certificate' },
      summary: `gpu-1's runtime certificate expires in 12 days (${new Date(T0 + 12 * 86_400_000).toISOString()})`,
    });
  });

  it('an acknowledgement records who and when once; an unknown id is ALERT_NOT_FOUND', () => {
    const alerts = service(MEMORY_RULE.replace('for: 5m', 'for: 0s'));
    memory(99);
    alerts.evaluate();
    step(30_000);
    const acked = alerts.acknowledge(1, 'cli:ops');
    expect(acked.acknowledged).toEqual({ by: 'cli:ops', atMs: T0 + 30_000 });
    step(30_000);
    // A second operator's acknowledgement keeps the first, and is no change.
    expect(alerts.acknowledge(1, 'web:abcd').acknowledged).toEqual({ by: 'cli:ops', atMs: T0 + 30_000 });
    expect(seen()).toEqual(['firing MemoryHigh#1', 'acknowledged MemoryHigh#1']);
    expect(createAlertsRepo(store.db).history(1)).toEqual([
      { change: 'firing', atMs: T0, actor: null, value: 99 },
      { change: 'acknowledged', atMs: T0 + 30_000, actor: 'cli:ops', value: null },
    ]);
    // Acknowledged is not resolved: it stays firing while the condition holds.
    memory(99);
    alerts.evaluate();
    expect(alerts.list({ resolvedWithinMs: 0, limit: 10 })).toMatchObject([{ id: 1, state: 'firing' }]);

    let error: unknown;
    try {
      alerts.acknowledge(42, 'cli:ops');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'ALERT_NOT_FOUND', message: 'There is no alert 42.' });
  });

  it('a restarted backend carries on counting `for:` from the store, and lists firing, then pending, then resolved', () => {
    const yaml = MEMORY_RULE + '  - name: Hot\n    kind: gpu-temperature\n    above: 80\n    for: 1m\n';
    const first = service(yaml);
    memory(95);
    readings.observeSample(hostId, nowMs, [['gpu.temperature_celsius:0', 90]]);
    first.evaluate();
    step(MINUTE);
    memory(95);
    readings.observeSample(hostId, nowMs, [['gpu.temperature_celsius:0', 90]]);
    first.evaluate();
    expect(seen()).toEqual(['pending MemoryHigh#1', 'pending Hot#2', 'firing Hot#2']);
    first.close();

    // A new service over the same store: MemoryHigh is still pending since T0.
    const second = service(yaml);
    step(4 * MINUTE);
    memory(95);
    readings.observeSample(hostId, nowMs, [['gpu.temperature_celsius:0', 50]]);
    second.evaluate();
    expect(seen().slice(3)).toEqual(['firing MemoryHigh#1', 'resolved Hot#2']);
    step(MINUTE);
    readings.observeSample(hostId, nowMs, [['gpu.temperature_celsius:0', 95]]);
    memory(95);
    second.evaluate();
    expect(second.list({ resolvedWithinMs: 86_400_000, limit: 10 }).map((alert) => [alert.id, alert.state])).toEqual([
      [1, 'firing'],
      [3, 'pending'],
      [2, 'resolved'],
    ]);
    expect(second.list({ states: ['resolved'], resolvedWithinMs: 86_400_000, limit: 10 }).map((alert) => alert.id)).toEqual([2]);
    expect(second.list({ rule: 'Hot', resolvedWithinMs: 0, limit: 10 }).map((alert) => alert.id)).toEqual([3]);
  });

  it('a rule file with a typo leaves the other rules evaluating, and alerts.rules reports it', () => {
    const alerts = service(MEMORY_RULE.replace('for: 5m', 'for: 0s') + '  - name: Broken\n    kind: gpu-temperature\n    abov: 80\n');
    memory(99);
    alerts.evaluate();
    expect(seen()).toEqual(['firing MemoryHigh#1']);
    const { rules, errors } = alerts.rules();
    expect(rules.map((rule) => rule.name)).toEqual(['MemoryHigh']);
    expect(rules[0]).toMatchObject({
      kind: 'memory-usage',
      severity: 'critical',
      forMs: 0,
      settings: { above: 90 },
      labels: { team: 'ops' },
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ALERT_RULE_INVALID', line: 10, column: 5 });
    expect(errors[0]!.message).toContain('unknown key "abov" for kind gpu-temperature; did you mean above?');
    expect(warnings).toContain(errors[0]!.message);
  });
});

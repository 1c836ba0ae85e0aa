import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../agents-runtime/src/manifest/manifest-schema';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';
import { FleetSupervisor, START_BATCH, type FleetIntent } from '../../../agents-runtime/src/supervisor/fleet-supervisor';
import type { SupervisorEvent } from '../../../agents-runtime/src/supervisor/process-supervisor';
import { FakeClock, FakeDriver, FakeProbe, FakeProcess, flush } from './fake-runtime';

const MANIFEST = `
version: 1
processes:
  - name: agent
    command: /bin/agent
    replicas: 2
    depends_on: [core]
    backoff: { initial_ms: 1000, jitter: 0 }
    stop: { signal: SIGINT, grace_ms: 500 }
  - name: core
    command: /bin/core
    backoff: { initial_ms: 1000, jitter: 0 }
    health: { type: http, port: 7400, interval_ms: 1000, healthy_threshold: 1, start_period_ms: 0 }
  - name: web
    command: /bin/web
    depends_on: [agent]
    backoff: { initial_ms: 1000, jitter: 0 }
    health: { type: tcp, port: 8080, interval_ms: 1000, start_period_ms: 0 }
`;

function setup(options: { text?: string; intent?: FleetIntent; adopt?: Record<string, { pid: number; startTime: string }> } = {}) {
  const manifest: Manifest = parseManifest(options.text ?? MANIFEST, 'runtime.yaml');
  const clock = new FakeClock();
  const driver = new FakeDriver(clock);
  const probe = new FakeProbe(driver);
  const saved: FleetIntent[] = [];
  const fleet = new FleetSupervisor({
    onIntentChange: (intent) => saved.push(intent),
    manifest,
    driver,
    probe,
    clock,
    random: () => 0.5,
    ...(options.intent === undefined ? {} : { intent: options.intent }),
    ...(options.adopt === undefined ? {} : { adopt: options.adopt }),
  });
  const events: SupervisorEvent[] = [];
  fleet.on((e) => events.push(e));
  const stateOf = (instance: string) => fleet.instance(instance)?.state;
  return { manifest, clock, driver, probe, fleet, events, stateOf, saved };
}

describe('FleetSupervisor', () => {
  it('starts in dependency order: a dependent waits until every instance it depends on is healthy', async () => {
    const { fleet, clock, driver, stateOf } = setup();
    fleet.startAll();
    await flush();
    expect(driver.starts.map((s) => s.instance)).toEqual(['core']);
    expect(stateOf('core')).toBe('starting');
    const agent = fleet.snapshot().processes.find((p) => p.name === 'agent');
    expect(agent).toMatchObject({
      waitingFor: ['core'],
      instances: [
        { instance: 'agent-1', state: 'stopped' },
        { instance: 'agent-2', state: 'stopped' },
      ],
    });

    await clock.advance(999);
    expect(driver.starts).toHaveLength(1);
    await clock.advance(1);
    expect(stateOf('core')).toBe('running');
    // agent has no health check: running once spawned, so web starts right after it
    expect(driver.starts.map((s) => s.instance)).toEqual(['core', 'agent-1', 'agent-2', 'web']);
    await clock.advance(1000);
    expect(fleet.snapshot().processes.flatMap((p) => p.instances.map((i) => i.state))).toEqual([
      'running',
      'running',
      'running',
      'running',
    ]);
  });

  it('holds dependents back while a dependency is not healthy', async () => {
    const { fleet, clock, driver, probe } = setup();
    probe.sick.add('core');
    fleet.startAll();
    await clock.advance(30_000);
    expect(new Set(driver.starts.map((s) => s.instance))).toEqual(new Set(['core']));
    expect(fleet.snapshot().processes.find((p) => p.name === 'web')?.waitingFor).toEqual(['agent']);
  });

  it('stops in reverse dependency order, with each process its own signal', async () => {
    const { fleet, clock, driver } = setup();
    fleet.startAll();
    await clock.advance(2000);
    await fleet.stopAll();
    expect(driver.stops.map((s) => s.instance)).toEqual(['web', 'agent-1', 'agent-2', 'core']);
    expect(driver.stops.find((s) => s.instance === 'agent-1')).toMatchObject({ signal: 'SIGINT', graceMs: 500 });
    expect(fleet.intent()).toEqual({ stopped: [], replicas: {} });
    await clock.advance(100_000);
    expect(driver.starts).toHaveLength(4);
  });

  it('keeps a process stopped on purpose, records it as intent, and starts it again on request', async () => {
    const { fleet, clock, driver, stateOf, saved } = setup();
    fleet.startAll();
    await clock.advance(2000);
    expect(saved).toEqual([]);
    await fleet.stop('web');
    expect(saved).toEqual([{ stopped: ['web'], replicas: {} }]);
    expect(stateOf('web')).toBe('stopped');
    expect(fleet.intent()).toEqual({ stopped: ['web'], replicas: {} });
    await clock.advance(100_000);
    expect(driver.startsOf('web')).toBe(1);
    fleet.start('web');
    await flush();
    expect(driver.startsOf('web')).toBe(2);
    expect(fleet.intent().stopped).toEqual([]);
    expect(saved.at(-1)).toEqual({ stopped: [], replicas: {} });
    await fleet.scale('agent', 4);
    expect(saved.at(-1)).toEqual({ stopped: [], replicas: { agent: 4 } });
    expect(saved).toHaveLength(3);
  });

  it('restores saved intent: a process stopped on purpose is not started, a scaled count is kept', async () => {
    const { fleet, clock, driver } = setup({ intent: { stopped: ['web', 'gone'], replicas: { agent: 3, ghost: 2 } } });
    fleet.startAll();
    await clock.advance(5000);
    expect(driver.starts.map((s) => s.instance).sort()).toEqual(['agent-1', 'agent-2', 'agent-3', 'core']);
    const web = fleet.snapshot().processes.find((p) => p.name === 'web');
    expect(web).toMatchObject({ stoppedOnPurpose: true, waitingFor: [], instances: [{ state: 'stopped' }] });
    expect(fleet.intent()).toEqual({ stopped: ['web'], replicas: { agent: 3 } });
  });

  it('scales up and down, and renames between one and several replicas', async () => {
    const { fleet, clock, driver, stateOf } = setup();
    fleet.startAll();
    await clock.advance(2000);
    await fleet.scale('agent', 3);
    await flush();
    expect(stateOf('agent-3')).toBe('running');
    expect(driver.starts.at(-1)?.spec.env.SUTAZAI_REPLICA).toBe('3');
    expect(fleet.intent().replicas).toEqual({ agent: 3 });

    await fleet.scale('agent', 1);
    await flush();
    expect(
      fleet
        .snapshot()
        .processes.find((p) => p.name === 'agent')
        ?.instances.map((i) => [i.instance, i.state]),
    ).toEqual([['agent', 'running']]);
    expect(driver.isAlive('agent-1') || driver.isAlive('agent-2') || driver.isAlive('agent-3')).toBe(false);
    expect(fleet.instance('agent-2')).toBeUndefined();

    await fleet.scale('agent', 2);
    await flush();
    expect(fleet.intent().replicas).toEqual({});
    await fleet.scale('agent', 0);
    expect(fleet.snapshot().processes.find((p) => p.name === 'agent')?.instances).toEqual([]);
    await expect(fleet.scale('agent', 65)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(fleet.scale('agent', 1.5)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('a carried restart count serves the instance once: one that a scale removes and creates again starts at 0, as after a daemon restart', async () => {
    const clock = new FakeClock();
    const driver = new FakeDriver(clock);
    const fleet = new FleetSupervisor({
      manifest: parseManifest(MANIFEST, 'runtime.yaml'),
      driver,
      probe: new FakeProbe(driver),
      clock,
      random: () => 0.5,
      intent: { stopped: [], replicas: { agent: 3 } },
      restarts: { 'agent-1': 2, 'agent-3': 5 },
      operatorRestarts: { 'agent-3': 1 },
    });
    const counts = () =>
      Object.fromEntries(
        fleet
          .snapshot()
          .processes.find((p) => p.name === 'agent')!
          .instances.map((i) => [i.instance, [i.restarts, i.operatorRestarts]]),
      );
    fleet.startAll();
    await clock.advance(2000);
    expect(counts()).toEqual({ 'agent-1': [2, 0], 'agent-2': [0, 0], 'agent-3': [5, 1] });
    await fleet.scale('agent', 2);
    await fleet.scale('agent', 3);
    await flush();
    expect(counts()).toEqual({ 'agent-1': [2, 0], 'agent-2': [0, 0], 'agent-3': [0, 0] });
  });

  it('refuses an unknown process name with PROCESS_NOT_FOUND and a remedy listing the names', async () => {
    const { fleet } = setup();
    expect(() => fleet.start('nope')).toThrow(RuntimeError);
    expect(() => fleet.restart('nope')).toThrow(
      expect.objectContaining({ code: 'PROCESS_NOT_FOUND', remedy: 'use one of: core, agent, web' }),
    );
    await expect(fleet.stop('nope')).rejects.toMatchObject({ code: 'PROCESS_NOT_FOUND' });
  });

  it('reports a missing command with code and remedy and keeps supervising everything else', async () => {
    const text = MANIFEST.replace('command: /bin/web', 'command: /opt/missing/web');
    const { fleet, clock, driver, events, stateOf } = setup({ text });
    driver.missingCommands.add('/opt/missing/web');
    fleet.startAll();
    await clock.advance(2000);
    const error = events.find((e) => e.kind === 'error');
    expect(error).toMatchObject({ instance: 'web', code: 'COMMAND_NOT_FOUND', remedy: expect.any(String) });
    expect(stateOf('web')).toBe('backoff');
    driver.process('agent-1').exit(1);
    await clock.advance(1000);
    expect(stateOf('agent-1')).toBe('running');
    expect(driver.startsOf('agent-1')).toBe(2);
    expect(stateOf('core')).toBe('running');
  });

  it('reports a health port taken by another program and keeps supervising everything else', async () => {
    const { fleet, clock, probe, driver, events, stateOf } = setup();
    probe.foreignPorts.add(8080);
    fleet.startAll();
    await clock.advance(2000);
    expect(events.find((e) => e.kind === 'error')).toMatchObject({ instance: 'web', code: 'HEALTH_TARGET_IN_USE' });
    expect(driver.startsOf('web')).toBe(0);
    expect([stateOf('core'), stateOf('agent-1'), stateOf('agent-2')]).toEqual(['running', 'running', 'running']);
    driver.process('core').exit(1);
    await clock.advance(2000);
    expect(stateOf('core')).toBe('running');
  });

  it('treats a one-shot dependency (restart: never) that exited 0 as done', async () => {
    const text = `
version: 1
processes:
  - name: migrate
    command: /bin/migrate
    restart: never
    health: { type: exec, command: /bin/false, interval_ms: 60000 }
  - name: core
    command: /bin/core
    depends_on: [migrate]
`;
    const { fleet, driver, stateOf } = setup({ text });
    fleet.startAll();
    await flush();
    expect(driver.starts.map((s) => s.instance)).toEqual(['migrate']);
    driver.process('migrate').exit(0);
    await flush();
    expect(stateOf('migrate')).toBe('exited');
    expect(stateOf('core')).toBe('running');
  });

  it('re-adopts running processes of a previous daemon without waiting for dependencies', async () => {
    const { fleet, driver, stateOf } = setup({ adopt: { 'agent-1': { pid: 7, startTime: 'S' } } });
    driver.adoptable.set('agent-1', new FakeProcess(7, 'agent-1', 'S'));
    fleet.startAll();
    await flush();
    expect(stateOf('agent-1')).toBe('running');
    expect(fleet.instance('agent-1')?.snapshot().pid).toBe(7);
    expect(driver.startsOf('agent-1')).toBe(0);
    expect(stateOf('agent-2')).toBe('stopped');
  });

  it('starts a big manifest in batches, letting other work run between them', async () => {
    const count = START_BATCH * 3 + 1;
    const text = `version: 1\nprocesses:\n${Array.from({ length: count }, (_, i) => `  - name: p${i}\n    command: /bin/p\n`).join('')}`;
    const { fleet, driver } = setup({ text });
    const startsSeenByOtherWork: number[] = [];
    fleet.startAll();
    const startedAtOnce = driver.starts.length;
    setImmediate(() => startsSeenByOtherWork.push(driver.starts.length));
    await flush();
    expect(startedAtOnce).toBe(START_BATCH);
    // Work queued behind the first batch ran before the last instance started.
    expect(startsSeenByOtherWork[0]).toBeLessThan(count);
    expect(driver.starts).toHaveLength(count);
  });

  it('refuses to scale past manifest_limits.max_instances', async () => {
    const manifest = parseManifest(MANIFEST, 'runtime.yaml');
    const clock = new FakeClock();
    const driver = new FakeDriver(clock);
    const fleet = new FleetSupervisor({ manifest, driver, probe: new FakeProbe(driver), clock, maxInstances: 6 });
    await expect(fleet.scale('agent', 5)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      remedy: expect.stringContaining('max_instances'),
    });
    await fleet.scale('agent', 4);
    expect(fleet.snapshot().processes.find((p) => p.name === 'agent')?.replicas).toBe(4);
  });
});

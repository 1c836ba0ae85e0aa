import { describe, expect, it } from 'vitest';
import { toProcessSpec } from '../../../agents-runtime/src/manifest/manifest-schema';
import { ProcessSupervisor, type SupervisorEvent } from '../../../agents-runtime/src/supervisor/process-supervisor';
import { nextState } from '../../../agents-runtime/src/supervisor/states';
import { FakeClock, FakeDriver, FakeProbe, FakeProcess, flush } from './fake-runtime';

type RawSpec = Parameters<typeof toProcessSpec>[0];

function setup(raw: Partial<RawSpec> = {}, options: { replica?: number; instance?: string } = {}) {
  const clock = new FakeClock();
  const driver = new FakeDriver(clock);
  const probe = new FakeProbe(driver);
  const spec = toProcessSpec({
    name: 'core',
    command: '/bin/core',
    backoff: { initial_ms: 1000, factor: 2, max_ms: 8000, jitter: 0, reset_after_ms: 60_000 },
    crash_loop: { after_restarts: 100, within_ms: 60_000, retry_every_ms: 300_000 },
    ...raw,
  });
  const supervisor = new ProcessSupervisor({
    spec,
    instance: options.instance ?? 'core',
    replica: options.replica ?? 1,
    driver,
    probe,
    clock,
    random: () => 0.5,
  });
  const events: SupervisorEvent[] = [];
  supervisor.on((e) => events.push(e));
  const states = () => events.flatMap((e) => (e.kind === 'state' ? [`${e.from}->${e.to}`] : []));
  return { clock, driver, probe, spec, supervisor, events, states };
}

const httpHealth = {
  type: 'http' as const,
  port: 7400,
  interval_ms: 1000,
  timeout_ms: 500,
  healthy_threshold: 2,
  unhealthy_threshold: 3,
  start_period_ms: 5000,
};

describe('ProcessSupervisor without a health check', () => {
  it('is running as soon as the spawn succeeds, and tells the process who it is', async () => {
    const { supervisor, driver, states } = setup({ env: { A: '1' } }, { instance: 'core', replica: 1 });
    supervisor.start();
    await flush();
    expect(supervisor.state).toBe('running');
    expect(states()).toEqual(['stopped->starting', 'starting->running']);
    expect(driver.starts[0]?.spec.env).toEqual({ A: '1', SUTAZAI_INSTANCE: 'core', SUTAZAI_REPLICA: '1' });
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', pid: 100, healthy: null, restarts: 0 });
  });

  it('restarts a crashed process after a backoff that doubles up to the cap, not before', async () => {
    const { supervisor, driver, clock, events } = setup();
    supervisor.start();
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      driver.process('core').exit(1);
      await flush();
      expect(supervisor.state).toBe('backoff');
      const next = supervisor.snapshot().nextStartAt;
      if (next === null) throw new Error('no restart scheduled');
      const delay = next - clock.now();
      delays.push(delay);
      await clock.advance(delay - 1);
      expect(supervisor.state).toBe('backoff');
      await clock.advance(1);
      expect(supervisor.state).toBe('running');
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(driver.startsOf('core')).toBe(6);
    const crash = events.find((e) => e.kind === 'state' && e.to === 'backoff');
    expect(crash).toMatchObject({ exit: { code: 1, signal: null }, reason: expect.stringContaining('exited with code 1') });
  });

  it('starts the backoff over after running stably for reset_after_ms', async () => {
    const { supervisor, driver, clock } = setup();
    supervisor.start();
    await flush();
    driver.process('core').exit(1);
    await clock.advance(1000);
    driver.process('core').exit(1);
    await flush();
    expect(supervisor.snapshot().nextStartAt! - clock.now()).toBe(2000);
    await clock.advance(2000);
    await clock.advance(60_000);
    driver.process('core').exit(1);
    await flush();
    expect(supervisor.snapshot().nextStartAt! - clock.now()).toBe(1000);
  });

  it('enters crash-loop with an event after too many restarts, and keeps retrying on the long interval', async () => {
    const { supervisor, driver, clock, events } = setup({ crash_loop: { after_restarts: 2, within_ms: 60_000, retry_every_ms: 300_000 } });
    supervisor.start();
    await flush();
    driver.process('core').exit(1);
    await clock.advance(1000);
    driver.process('core').exit(1);
    await clock.advance(2000);
    driver.process('core').exit(2);
    await flush();
    expect(supervisor.state).toBe('crash-loop');
    const loop = events.find((e) => e.kind === 'crash-loop');
    expect(loop).toMatchObject({ instance: 'core', failures: 3, withinMs: 60_000, nextRetryAt: clock.now() + 300_000, exit: { code: 2 } });
    await clock.advance(299_999);
    expect(supervisor.state).toBe('crash-loop');
    expect(driver.startsOf('core')).toBe(3);
    await clock.advance(1);
    expect(supervisor.state).toBe('running');
    expect(driver.startsOf('core')).toBe(4);
    // failing again goes straight back to the long interval, and it is retried again after it
    driver.process('core').exit(1);
    await flush();
    expect(supervisor.state).toBe('crash-loop');
    expect(events.filter((e) => e.kind === 'crash-loop')).toHaveLength(2);
    await clock.advance(300_000);
    expect(driver.startsOf('core')).toBe(5);
  });

  it('leaves the crash loop with an event once it ran reset_after_ms without failing, and not before', async () => {
    const { supervisor, driver, clock, events } = setup({ crash_loop: { after_restarts: 1, within_ms: 60_000, retry_every_ms: 10_000 } });
    supervisor.start();
    await flush();
    driver.process('core').exit(1);
    await clock.advance(1000);
    driver.process('core').exit(1);
    await flush();
    expect(supervisor.state).toBe('crash-loop');
    await clock.advance(10_000);
    expect(supervisor.state).toBe('running');
    await clock.advance(59_999);
    expect(events.filter((e) => e.kind === 'crash-loop-left')).toEqual([]);
    await clock.advance(1);
    const left = events.filter((e) => e.kind === 'crash-loop-left');
    expect(left).toMatchObject([{ instance: 'core', reason: 'ran for 60000 ms without failing' }]);
    // out of the loop: the next failure backs off again instead of waiting the long interval
    driver.process('core').exit(1);
    await flush();
    expect(supervisor.state).toBe('backoff');
    expect(events.filter((e) => e.kind === 'crash-loop-left')).toHaveLength(1);
  });

  it('leaves the crash loop with an event when the operator starts or stops it, once each', async () => {
    const { supervisor, driver, clock, events } = setup({ crash_loop: { after_restarts: 1, within_ms: 60_000, retry_every_ms: 10_000 } });
    const loop = async (): Promise<void> => {
      driver.process('core').exit(1);
      await clock.advance(1000);
      driver.process('core').exit(1);
      await flush();
      expect(supervisor.state).toBe('crash-loop');
    };
    supervisor.start();
    await flush();
    await loop();
    supervisor.start();
    await flush();
    expect(supervisor.state).toBe('running');
    await loop();
    await supervisor.stop();
    await supervisor.stop();
    expect(
      events.flatMap((e) =>
        e.kind === 'crash-loop' || e.kind === 'crash-loop-left' ? [`${e.kind}: ${'reason' in e ? e.reason : ''}`] : [],
      ),
    ).toEqual([
      'crash-loop: exited with code 1',
      'crash-loop-left: started by the operator',
      'crash-loop: exited with code 1',
      'crash-loop-left: stopped by the operator',
    ]);
  });

  it('leaves a cleanly exited on-failure process exited, and restarts it after a failure', async () => {
    const { supervisor, driver, clock } = setup({ restart: 'on-failure' });
    supervisor.start();
    await flush();
    driver.process('core').exit(0);
    await clock.advance(100_000);
    expect(supervisor.state).toBe('exited');
    expect(driver.startsOf('core')).toBe(1);
    supervisor.start();
    await flush();
    driver.process('core').exit(null, 'SIGSEGV');
    await flush();
    expect(supervisor.state).toBe('backoff');
    expect(supervisor.snapshot().lastExit).toEqual({ code: null, signal: 'SIGSEGV' });
  });

  it('never restarts with restart: never', async () => {
    const { supervisor, driver, clock } = setup({ restart: 'never' });
    supervisor.start();
    await flush();
    driver.process('core').exit(137);
    await clock.advance(1_000_000);
    expect(supervisor.state).toBe('exited');
    expect(driver.startsOf('core')).toBe(1);
  });

  it('stops with the manifest signal and grace, and does not restart afterwards', async () => {
    const { supervisor, driver, clock, states } = setup({ stop: { signal: 'SIGINT', grace_ms: 1234 } });
    supervisor.start();
    await flush();
    await supervisor.stop();
    expect(supervisor.state).toBe('stopped');
    expect(driver.stops).toEqual([{ instance: 'core', signal: 'SIGINT', graceMs: 1234 }]);
    await clock.advance(1_000_000);
    expect(driver.startsOf('core')).toBe(1);
    expect(states()).toEqual(['stopped->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
  });

  it('cancels the pending restart when stopped in backoff', async () => {
    const { supervisor, driver, clock } = setup();
    supervisor.start();
    await flush();
    driver.process('core').exit(1);
    await flush();
    await supervisor.stop();
    expect(supervisor.state).toBe('stopped');
    await clock.advance(100_000);
    expect(driver.startsOf('core')).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops a process whose spawn was still in flight when the stop came', async () => {
    const { supervisor, driver } = setup();
    driver.holdStarts = true;
    supervisor.start();
    await flush();
    const stopped = supervisor.stop();
    expect(supervisor.state).toBe('stopping');
    driver.releaseStarts();
    await stopped;
    expect(supervisor.state).toBe('stopped');
    expect(driver.stops).toHaveLength(1);
    expect(driver.isAlive('core')).toBe(false);
  });

  it('restarts: stop, then start, with the crash count cleared', async () => {
    const { supervisor, driver, states } = setup();
    supervisor.start();
    await flush();
    supervisor.restart();
    await flush();
    expect(supervisor.state).toBe('running');
    expect(driver.startsOf('core')).toBe(2);
    expect(states()).toEqual(['stopped->starting', 'starting->running', 'running->stopping', 'stopping->starting', 'starting->running']);
  });

  it("counts the operator's restarts apart from crash restarts; a start during a stop is not a restart", async () => {
    const { supervisor, driver, clock } = setup();
    supervisor.start();
    await flush();
    supervisor.restart();
    await flush();
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', restarts: 0, operatorRestarts: 1 });

    driver.process('core').exit(1);
    await flush();
    await clock.advance(1000);
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', restarts: 1, operatorRestarts: 1 });

    // Restarted from backoff: started again by the operator, counted as theirs.
    driver.process('core').exit(1);
    await flush();
    expect(supervisor.state).toBe('backoff');
    supervisor.restart();
    await flush();
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', restarts: 2, operatorRestarts: 2 });

    // A restart overtaken by a stop, then a start: the operator stopped and started it, no restart.
    driver.holdStarts = true;
    supervisor.restart();
    const stopped = supervisor.stop();
    supervisor.start();
    driver.holdStarts = false;
    driver.releaseStarts();
    await stopped;
    await flush();
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', restarts: 2, operatorRestarts: 2 });
    expect(driver.startsOf('core')).toBe(5);
  });

  it('starts again when the operator starts it while a stop is still in flight', async () => {
    const { supervisor, driver } = setup();
    driver.holdStarts = true;
    supervisor.start();
    await flush();
    const stopped = supervisor.stop();
    supervisor.start();
    expect(supervisor.state).toBe('stopping');
    driver.holdStarts = false;
    driver.releaseStarts();
    await stopped;
    await flush();
    expect(supervisor.state).toBe('running');
    expect(driver.stops).toHaveLength(1);
    expect(driver.startsOf('core')).toBe(2);
  });

  it('reports a command that does not exist with its code and remedy, and retries it', async () => {
    const { supervisor, driver, clock, events } = setup({ command: '/no/such' });
    driver.missingCommands.add('/no/such');
    supervisor.start();
    await flush();
    expect(supervisor.state).toBe('backoff');
    const error = events.find((e) => e.kind === 'error');
    expect(error).toMatchObject({ code: 'COMMAND_NOT_FOUND', remedy: expect.any(String) });
    expect(events.find((e) => e.kind === 'state' && e.to === 'backoff')).toMatchObject({ error: { code: 'COMMAND_NOT_FOUND' } });
    expect(supervisor.snapshot().lastError?.code).toBe('COMMAND_NOT_FOUND');
    driver.missingCommands.clear();
    await clock.advance(1000);
    expect(supervisor.state).toBe('running');
    expect(supervisor.snapshot().lastError).toBeNull();
  });

  it('a zero-delay restart (issue 13) spawns in the turn the exit is reported; its listeners hear of the exit and the start after the spawn, in order', async () => {
    const { supervisor, driver, events } = setup({ backoff: { initial_ms: 0, factor: 1, max_ms: 1, jitter: 0, reset_after_ms: 60_000 } });
    supervisor.start();
    await flush();
    const heard: string[] = [];
    supervisor.on((e) => heard.push(e.kind === 'state' ? `${e.from}->${e.to} after ${driver.startsOf('core')} starts` : e.kind));
    driver.process('core').exit(null, 'SIGKILL');
    // No turn of the event loop has passed: the driver was asked already, and the events followed.
    expect(heard).toEqual(['running->backoff after 2 starts', 'backoff->starting after 2 starts']);
    expect(events.find((e) => e.kind === 'state' && e.to === 'backoff')).toMatchObject({ exit: { code: null, signal: 'SIGKILL' } });
    await flush();
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', restarts: 1, pid: 101 });
  });

  it('a start that fails with a zero delay is retried on a later turn, never in a loop inside one turn', async () => {
    const { supervisor, driver, clock } = setup({
      command: '/no/such',
      backoff: { initial_ms: 0, factor: 1, max_ms: 1, jitter: 0, reset_after_ms: 60_000 },
    });
    driver.missingCommands.add('/no/such');
    supervisor.start();
    // Each retry waits for a zero timer of the clock: none fires until the test moves it.
    await flush();
    expect(supervisor.state).toBe('backoff');
    expect(clock.pendingTimers()).toBe(1);
    driver.missingCommands.clear();
    await clock.advance(0);
    expect(supervisor.state).toBe('running');
  });

  it('adopts the process a previous daemon started instead of spawning a new one', async () => {
    const clock = new FakeClock();
    const driver = new FakeDriver(clock);
    const old = new FakeProcess(4242, 'core', 'T0');
    driver.adoptable.set('core', old);
    const supervisor = new ProcessSupervisor({
      spec: toProcessSpec({ name: 'core', command: '/bin/core' }),
      instance: 'core',
      replica: 1,
      driver,
      probe: new FakeProbe(driver),
      clock,
      adopt: { pid: 4242, startTime: 'T0' },
    });
    supervisor.start();
    await flush();
    expect(supervisor.snapshot()).toMatchObject({ state: 'running', pid: 4242, startTime: 'T0' });
    expect(driver.starts).toHaveLength(0);
    old.exit(1);
    await flush();
    expect(supervisor.state).toBe('backoff');
  });
});

describe('ProcessSupervisor with a health check', () => {
  it('stays starting until healthy_threshold checks pass, then runs and reports health', async () => {
    const { supervisor, clock, events, probe } = setup({ health: httpHealth });
    supervisor.start();
    await flush();
    expect(supervisor.state).toBe('starting');
    await clock.advance(1000);
    expect(supervisor.state).toBe('starting');
    await clock.advance(1000);
    expect(supervisor.state).toBe('running');
    expect(events.filter((e) => e.kind === 'health')).toMatchObject([{ healthy: true }]);
    expect(probe.calls.filter((c) => c.type === 'http')).toHaveLength(2);
    expect(supervisor.snapshot().healthy).toBe(true);
  });

  it('checks replica N on its own port', async () => {
    const { supervisor, clock, probe } = setup({ health: httpHealth }, { instance: 'core-3', replica: 3 });
    supervisor.start();
    await clock.advance(1000);
    expect(probe.calls.map((c) => c.port)).toEqual([7402, 7402]);
  });

  it('ignores failures during the start period, then gives up on a process that never gets healthy', async () => {
    const { supervisor, clock, probe, driver } = setup({ health: httpHealth });
    probe.sick.add('core');
    supervisor.start();
    // checks at 1 s .. 4 s fall in the 5 s start period; those at 5 s, 6 s and 7 s count
    await clock.advance(6999);
    expect(supervisor.state).toBe('starting');
    expect(driver.stops).toHaveLength(0);
    await clock.advance(1);
    expect(supervisor.state).toBe('backoff');
    expect(driver.stops).toHaveLength(1);
  });

  it('checks a starting instance every start_interval_ms within its start period, and every interval_ms once running', async () => {
    const slow = { type: 'http' as const, port: 7400, interval_ms: 5000, healthy_threshold: 1, start_period_ms: 10_000 };
    const { supervisor, clock, probe } = setup({ health: slow });
    supervisor.start();
    await clock.advance(999);
    expect(supervisor.state).toBe('starting');
    await clock.advance(1);
    // Seen running at the first check, 1 s after the start (the default start interval), not at 5 s.
    expect(supervisor.state).toBe('running');
    expect(probe.calls.filter((c) => c.type === 'http')).toHaveLength(1);
    await clock.advance(4999);
    expect(probe.calls.filter((c) => c.type === 'http')).toHaveLength(1);
    await clock.advance(1);
    expect(probe.calls.filter((c) => c.type === 'http')).toHaveLength(2);
  });

  it('goes back to interval_ms when the start period ends before a check passed, and counts the failures from then', async () => {
    const late = { ...httpHealth, interval_ms: 5000, start_interval_ms: 1000, start_period_ms: 3000, healthy_threshold: 1 };
    const { supervisor, clock, probe, driver } = setup({ health: late });
    probe.sick.add('core');
    const startedAt = clock.now();
    supervisor.start();
    const checksAt = async (ms: number) => {
      await clock.advance(startedAt + ms - clock.now());
      return probe.calls.filter((c) => c.type === 'http').length;
    };
    // Within the start period at 1 s and 2 s; the check at 3 s is the first counted, then 8 s and 13 s.
    expect(await checksAt(2000)).toBe(2);
    expect(await checksAt(3000)).toBe(3);
    expect(await checksAt(7999)).toBe(3);
    expect(await checksAt(8000)).toBe(4);
    expect(supervisor.state).toBe('starting');
    expect(await checksAt(13_000)).toBe(5);
    expect(supervisor.state).toBe('backoff');
    expect(driver.stops).toHaveLength(1);
  });

  it('restarts a running process after unhealthy_threshold failed checks in a row', async () => {
    const { supervisor, clock, probe, driver, events, states } = setup({ health: httpHealth });
    supervisor.start();
    await clock.advance(2000);
    expect(supervisor.state).toBe('running');
    probe.sick.add('core');
    await clock.advance(2000);
    expect(supervisor.state).toBe('running');
    await clock.advance(1000);
    expect(supervisor.state).toBe('backoff');
    expect(driver.stops).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'health').map((e) => (e.kind === 'health' ? e.healthy : null))).toEqual([true, false]);
    expect(states()).toContain('running->stopping');
    expect(states()).toContain('stopping->backoff');
    probe.sick.delete('core');
    await clock.advance(1000 + 2000);
    expect(supervisor.state).toBe('running');
    expect(driver.startsOf('core')).toBe(2);
  });

  it('counts a check that hangs past timeout_ms as a failure', async () => {
    const { supervisor, clock, probe } = setup({ health: { ...httpHealth, start_period_ms: 0 } });
    probe.hanging.add('core');
    supervisor.start();
    await clock.advance(3 * 1000 + 3 * 500 - 1);
    expect(supervisor.state).toBe('starting');
    await clock.advance(1);
    expect(supervisor.state).toBe('backoff');
  });

  it('refuses to start when another program already holds the health port', async () => {
    const { supervisor, clock, probe, driver, events } = setup({ health: httpHealth });
    probe.foreignPorts.add(7400);
    supervisor.start();
    await flush();
    expect(driver.starts).toHaveLength(0);
    expect(supervisor.state).toBe('backoff');
    expect(events.find((e) => e.kind === 'error')).toMatchObject({
      code: 'HEALTH_TARGET_IN_USE',
      message: expect.stringContaining('127.0.0.1:7400'),
      remedy: expect.stringContaining('health.port'),
    });
    probe.foreignPorts.clear();
    await clock.advance(1000);
    expect(driver.starts).toHaveLength(1);
  });

  it('emits only transitions that the table allows', async () => {
    const { supervisor, clock, probe, driver, events } = setup({
      health: httpHealth,
      crash_loop: { after_restarts: 2, within_ms: 60_000, retry_every_ms: 10_000 },
    });
    supervisor.start();
    await clock.advance(2000);
    probe.sick.add('core');
    await clock.advance(3000);
    probe.sick.delete('core');
    await clock.advance(5000);
    driver.process('core').exit(1);
    await clock.advance(3000);
    driver.process('core').exit(1);
    await clock.advance(20_000);
    supervisor.restart();
    await clock.advance(2000);
    await supervisor.stop();
    const transitions = events.flatMap((e) => (e.kind === 'state' ? [e] : []));
    expect(transitions.length).toBeGreaterThan(10);
    expect(new Set(transitions.map((t) => t.to))).toEqual(new Set(['starting', 'running', 'stopping', 'backoff', 'crash-loop', 'stopped']));
    for (const t of transitions) expect(nextState(t.from, t.event)).toBe(t.to);
    for (let i = 1; i < transitions.length; i += 1) expect(transitions[i]?.from).toBe(transitions[i - 1]?.to);
  });
});

import { describe, expect, it } from 'vitest';
import { CoordinatorError, LIMITS, TaskQueue, validateTask, type QueueEvent } from '../../../agents-runtime/programs/core/task-queue';

function setup(options: { leaseMs?: number; maxAttempts?: number; keepFinished?: number; maxQueued?: number } = {}) {
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  };
  const events: QueueEvent[] = [];
  const queue = new TaskQueue({ clock, leaseMs: 1_000, ...options });
  queue.onEvent((e) => events.push(e));
  let wakeups = 0;
  queue.onQueued(() => (wakeups += 1));
  return { clock, queue, events, wakeups: () => wakeups, advance: (ms: number) => (clock.t += ms) };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CoordinatorError);
    return (error as CoordinatorError).code;
  }
  throw new Error('did not throw');
}

describe('TaskQueue: hand-out and results', () => {
  it('hands tasks out in submission order, one holder each, and counts results', () => {
    const { queue } = setup();
    const a = queue.register('agent-1');
    const ids = [queue.submit({ kind: 'hash', payload: 'x', repeat: 2 }), queue.submit({ kind: 'fail', payload: 'y' })];
    expect(queue.counters()).toMatchObject({ queuedTasks: 2, runningTasks: 0, submittedTasks: 2, aliveAgents: 1, registeredAgents: 1 });

    const first = queue.take('agent-1', a.leaseId);
    expect(first).toMatchObject({ id: ids[0], kind: 'hash', payload: 'x', repeat: 2, attempt: 1 });
    expect(queue.get(ids[0]!)).toMatchObject({ state: 'running', agentId: 'agent-1', attempts: 1 });
    expect(queue.report('agent-1', a.leaseId, ids[0]!, true, 'digest')).toBe(true);
    expect(queue.get(ids[0]!)).toMatchObject({ state: 'done', output: 'digest', agentId: 'agent-1' });

    const second = queue.take('agent-1', a.leaseId);
    expect(second?.id).toBe(ids[1]);
    expect(queue.report('agent-1', a.leaseId, ids[1]!, false, 'nope')).toBe(true);
    expect(queue.take('agent-1', a.leaseId)).toBeNull();
    expect(queue.counters()).toMatchObject({ queuedTasks: 0, runningTasks: 0, doneTasks: 1, failedTasks: 1 });
  });

  it('gives an agent only the kinds it registered for', () => {
    const { queue } = setup();
    const sleeper = queue.register('sleeper', ['sleep']);
    const hashId = queue.submit({ kind: 'hash', payload: 'a' });
    const sleepId = queue.submit({ kind: 'sleep', sleepMs: 5 });
    expect(queue.take('sleeper', sleeper.leaseId)?.id).toBe(sleepId);
    queue.report('sleeper', sleeper.leaseId, sleepId, true, 'slept 5 ms');
    expect(queue.take('sleeper', sleeper.leaseId)).toBeNull();
    expect(queue.get(hashId).state).toBe('queued');
  });

  it('refuses a report for a task the agent does not hold, and a report twice', () => {
    const { queue } = setup();
    const a = queue.register('agent-1');
    const b = queue.register('agent-2');
    const id = queue.submit({ kind: 'hash', payload: 'a' });
    queue.take('agent-1', a.leaseId);
    expect(queue.report('agent-2', b.leaseId, id, true, 'forged')).toBe(false);
    expect(queue.report('agent-1', a.leaseId, id, true, 'real')).toBe(true);
    expect(queue.report('agent-1', a.leaseId, id, true, 'again')).toBe(false);
    expect(queue.get(id).output).toBe('real');
  });

  it('wakes long-polls on submit and on re-queue', () => {
    const { queue, wakeups, advance } = setup();
    const a = queue.register('agent-1');
    queue.submit({ kind: 'sleep', sleepMs: 1 });
    expect(wakeups()).toBe(1);
    queue.take('agent-1', a.leaseId);
    advance(1_000);
    queue.expire();
    expect(wakeups()).toBe(2);
  });
});

describe('TaskQueue: leases', () => {
  it('keeps a lease alive with heartbeats and expires it after leaseMs of silence', () => {
    const { queue, advance } = setup({ leaseMs: 1_000 });
    const a = queue.register('agent-1');
    for (let i = 0; i < 5; i += 1) {
      advance(900);
      queue.heartbeat('agent-1', a.leaseId);
      expect(queue.expire()).toEqual([]);
    }
    advance(999);
    expect(queue.expire()).toEqual([]);
    advance(1);
    expect(queue.expire()).toEqual(['agent-1']);
    expect(queue.counters()).toMatchObject({ registeredAgents: 1, aliveAgents: 0 });
    expect(codeOf(() => queue.heartbeat('agent-1', a.leaseId))).toBe('NOT_REGISTERED');
  });

  it('re-queues the tasks of an expired agent at the front, for another agent, with attempt 2', () => {
    const { queue, events, advance } = setup({ leaseMs: 1_000 });
    const a = queue.register('agent-1');
    const b = queue.register('agent-2');
    const long = queue.submit({ kind: 'sleep', sleepMs: 60_000 });
    const later = queue.submit({ kind: 'hash', payload: 'later' });
    expect(queue.take('agent-1', a.leaseId)?.id).toBe(long);

    advance(600);
    queue.heartbeat('agent-2', b.leaseId);
    advance(600); // agent-1 silent for 1200 ms (killed mid-task)
    queue.heartbeat('agent-2', b.leaseId);
    expect(queue.expire()).toEqual(['agent-1']);
    expect(events).toContainEqual({ type: 'agent-expired', agentId: 'agent-1', requeued: [long], failed: [] });
    expect(queue.get(long)).toMatchObject({ state: 'queued', agentId: '' });

    const again = queue.take('agent-2', b.leaseId);
    expect(again).toMatchObject({ id: long, attempt: 2 });
    expect(queue.report('agent-2', b.leaseId, long, true, 'slept 60000 ms')).toBe(true);
    expect(queue.take('agent-2', b.leaseId)?.id).toBe(later);
    expect(queue.counters().requeuedTasks).toBeGreaterThanOrEqual(1);
  });

  it("refuses the late result of an agent whose lease expired, and keeps the new holder's", () => {
    const { queue, advance } = setup({ leaseMs: 1_000 });
    const a = queue.register('agent-1');
    const id = queue.submit({ kind: 'sleep', sleepMs: 10 });
    queue.take('agent-1', a.leaseId);
    advance(1_000);
    queue.expire();
    const b = queue.register('agent-2');
    queue.take('agent-2', b.leaseId);
    expect(codeOf(() => queue.report('agent-1', a.leaseId, id, true, 'late'))).toBe('NOT_REGISTERED');
    expect(queue.report('agent-2', b.leaseId, id, true, 'slept')).toBe(true);
    expect(queue.get(id)).toMatchObject({ state: 'done', agentId: 'agent-2', attempts: 2 });
  });

  it('treats a call on a lease past its time as expired even before the sweep', () => {
    const { queue, advance } = setup({ leaseMs: 1_000 });
    const a = queue.register('agent-1');
    const id = queue.submit({ kind: 'sleep', sleepMs: 10 });
    queue.take('agent-1', a.leaseId);
    advance(1_500);
    expect(codeOf(() => queue.take('agent-1', a.leaseId))).toBe('NOT_REGISTERED');
    expect(queue.get(id).state).toBe('queued');
  });

  it('ends the previous lease when an agent id registers again (a restarted agent)', () => {
    const { queue, events } = setup();
    const old = queue.register('agent-1');
    const id = queue.submit({ kind: 'sleep', sleepMs: 10 });
    queue.take('agent-1', old.leaseId);
    const fresh = queue.register('agent-1');
    expect(fresh.leaseId).not.toBe(old.leaseId);
    expect(codeOf(() => queue.heartbeat('agent-1', old.leaseId))).toBe('NOT_REGISTERED');
    expect(queue.get(id).state).toBe('queued');
    expect(events).toContainEqual({ type: 'agent-registered', agentId: 'agent-1', replaced: true });
    expect(queue.counters()).toMatchObject({ registeredAgents: 1, aliveAgents: 1 });
  });

  it('re-queues on deregister and forgets the agent', () => {
    const { queue } = setup();
    const a = queue.register('agent-1');
    const id = queue.submit({ kind: 'sleep', sleepMs: 10 });
    queue.take('agent-1', a.leaseId);
    expect(queue.deregister('agent-1', a.leaseId)).toBe(1);
    expect(queue.get(id).state).toBe('queued');
    expect(queue.counters()).toMatchObject({ registeredAgents: 0, aliveAgents: 0 });
  });

  it('forgets expired agents after forgetAfterMs', () => {
    const { queue, advance } = setup({ leaseMs: 1_000 });
    queue.register('agent-1');
    advance(1_000);
    queue.expire();
    expect(queue.counters().registeredAgents).toBe(1);
    advance(9_000);
    queue.expire();
    expect(queue.counters().registeredAgents).toBe(0);
  });

  it('fails a task that lost its agent maxAttempts times instead of re-queueing it forever', () => {
    const { queue, advance } = setup({ leaseMs: 1_000, maxAttempts: 2 });
    const id = queue.submit({ kind: 'sleep', sleepMs: 10 });
    for (const agent of ['agent-1', 'agent-2']) {
      const lease = queue.register(agent);
      expect(queue.take(agent, lease.leaseId)?.id).toBe(id);
      advance(1_000);
      queue.expire();
    }
    expect(queue.get(id)).toMatchObject({ state: 'failed', attempts: 2 });
    expect(queue.get(id).output).toMatch(/lost its agent 2 times/);
    expect(queue.counters()).toMatchObject({ failedTasks: 1, queuedTasks: 0, requeuedTasks: 1 });
  });

  it('re-queues a hand-out the agent never got: TakeTask from an agent that still holds a task', () => {
    const { queue, events } = setup();
    const a = queue.register('agent-1');
    const lost = queue.submit({ kind: 'hash', payload: 'lost' });
    queue.take('agent-1', a.leaseId); // the answer never arrived
    const again = queue.take('agent-1', a.leaseId);
    expect(again).toMatchObject({ id: lost, attempt: 2 });
    expect(events.some((e) => e.type === 'handout-lost')).toBe(true);
  });

  it('untake puts a task back as if never handed out', () => {
    const { queue } = setup();
    const a = queue.register('agent-1');
    const id = queue.submit({ kind: 'hash', payload: 'x' });
    queue.take('agent-1', a.leaseId);
    queue.untake('agent-1', id);
    expect(queue.get(id)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(queue.take('agent-1', a.leaseId)).toMatchObject({ id, attempt: 1 });
  });
});

describe('TaskQueue: bounds', () => {
  it('validates submitted tasks', () => {
    expect(validateTask({ kind: 'hash', payload: 'a' })).toEqual({ kind: 'hash', payload: 'a', repeat: 0, sleepMs: 0 });
    expect(() => validateTask({ kind: 'rm -rf' })).toThrow(/unknown task kind/);
    expect(() => validateTask({ kind: 'sleep', sleepMs: LIMITS.sleepMs + 1 })).toThrow(/sleep_ms/);
    expect(() => validateTask({ kind: 'hash', payload: 'x'.repeat(1024), repeat: LIMITS.repeat })).toThrow(/payload × repeat/);
    expect(() => validateTask({ kind: 'hash', payload: 'x'.repeat(LIMITS.payloadBytes + 1) })).toThrow(/payload is/);
  });

  it('refuses unknown capabilities, empty agent ids and a full queue', () => {
    const { queue } = setup({ maxQueued: 2 });
    expect(codeOf(() => queue.register('agent-1', ['teleport']))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => queue.register(' '))).toBe('INVALID_ARGUMENT');
    queue.submit({ kind: 'fail' });
    queue.submit({ kind: 'fail' });
    expect(codeOf(() => queue.submit({ kind: 'fail' }))).toBe('QUEUE_FULL');
    expect(codeOf(() => queue.get('task-404'))).toBe('TASK_NOT_FOUND');
  });

  it('forgets the oldest finished tasks beyond keepFinished', () => {
    const { queue } = setup({ keepFinished: 2 });
    const a = queue.register('agent-1');
    const ids = [0, 1, 2].map(() => queue.submit({ kind: 'fail' }));
    for (const id of ids) {
      queue.take('agent-1', a.leaseId);
      queue.report('agent-1', a.leaseId, id, false, '');
    }
    expect(codeOf(() => queue.get(ids[0]!))).toBe('TASK_NOT_FOUND');
    expect(queue.get(ids[2]!).state).toBe('failed');
    expect(queue.counters().failedTasks).toBe(3);
  });
});

/**
 * The coordinator's state: agent leases and the task queue. Pure and synchronous, with an
 * injected clock, so the lease rules are unit-tested without timers; core.ts wires it to
 * gRPC, a periodic `expire()` and the long-poll of TakeTask.
 *
 * Rules:
 * - Register starts a lease (`leaseMs`). Any call carrying the lease renews it. A lease not
 *   renewed for `leaseMs` expires on the next `expire()`: the agent counts as not alive
 *   and every task it held goes back to the FRONT of the queue (it is older than the rest).
 * - Registering an agent id again ends its previous lease the same way (a restarted agent
 *   does not know the tasks its previous self held).
 * - A task handed out more than `maxAttempts` times (it keeps losing its agent: it may be
 *   what kills them) fails instead of being re-queued once more.
 * - A report for a task the agent no longer holds is refused (`accepted: false`): the task
 *   went to another agent, whose result counts.
 * - Finished tasks stay queryable until `keepFinished` newer ones finished.
 */

export const TASK_KINDS = ['hash', 'sleep', 'fail'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export type TaskState = 'queued' | 'running' | 'done' | 'failed';

export interface TaskInput {
  kind: string;
  payload?: string;
  repeat?: number;
  sleepMs?: number;
}

export interface Task {
  id: string;
  kind: TaskKind;
  payload: string;
  repeat: number;
  sleepMs: number;
  /** 1 on the first hand-out, +1 on each hand-out after a lost lease. */
  attempt: number;
}

export interface TaskRecord {
  task: Task;
  state: TaskState;
  /** Running: the holder; finished: who finished it (empty when the core failed it). */
  agentId: string;
  output: string;
  attempts: number;
  submittedMs: number;
  finishedMs: number;
}

export interface Lease {
  leaseId: string;
  leaseMs: number;
  heartbeatIntervalMs: number;
}

export interface Counters {
  registeredAgents: number;
  aliveAgents: number;
  queuedTasks: number;
  runningTasks: number;
  doneTasks: number;
  failedTasks: number;
  requeuedTasks: number;
  submittedTasks: number;
}

export interface Clock {
  now(): number;
}

export interface TaskQueueOptions {
  clock?: Clock;
  leaseMs?: number;
  maxAttempts?: number;
  maxQueued?: number;
  keepFinished?: number;
  /** Expired agents are forgotten (no longer "registered") after this long (default 10 leases). */
  forgetAfterMs?: number;
  /** Makes lease and task ids; the default counts. */
  newId?: (kind: 'lease' | 'task') => string;
}

/** Bounds on submitted work, so one request cannot make an agent busy for hours. */
export const LIMITS = {
  payloadBytes: 1024 * 1024,
  /** payload bytes × repeat */
  hashBytes: 256 * 1024 * 1024,
  repeat: 1_000_000,
  sleepMs: 10 * 60_000,
} as const;

export type CoordinatorErrorCode = 'NOT_REGISTERED' | 'INVALID_ARGUMENT' | 'QUEUE_FULL' | 'TASK_NOT_FOUND';

export class CoordinatorError extends Error {
  constructor(
    readonly code: CoordinatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CoordinatorError';
  }
}

interface AgentRecord {
  agentId: string;
  leaseId: string;
  capabilities: Set<TaskKind>;
  /** Renewed by every call carrying the lease. */
  lastSeenMs: number;
  alive: boolean;
  held: Set<string>;
}

export type QueueEvent =
  | { type: 'agent-registered'; agentId: string; replaced: boolean }
  | { type: 'agent-expired'; agentId: string; requeued: string[]; failed: string[] }
  | { type: 'agent-deregistered'; agentId: string; requeued: string[]; failed: string[] }
  | { type: 'handout-lost'; agentId: string; requeued: string[]; failed: string[] }
  | { type: 'task-finished'; taskId: string; agentId: string; ok: boolean };

export class TaskQueue {
  readonly leaseMs: number;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly maxQueued: number;
  private readonly keepFinished: number;
  private readonly forgetAfterMs: number;
  private readonly newId: (kind: 'lease' | 'task') => string;

  private readonly agents = new Map<string, AgentRecord>();
  private readonly tasks = new Map<string, TaskRecord>();
  /** Task ids in hand-out order. */
  private queue: string[] = [];
  private readonly finishedOrder: string[] = [];
  private readonly listeners = new Set<(event: QueueEvent) => void>();
  private readonly queuedListeners = new Set<() => void>();
  private counts = { done: 0, failed: 0, requeued: 0, submitted: 0 };

  constructor(options: TaskQueueOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.leaseMs = options.leaseMs ?? 15_000;
    if (!(this.leaseMs >= 30)) throw new Error(`leaseMs must be at least 30 (got ${this.leaseMs})`);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.keepFinished = options.keepFinished ?? 10_000;
    this.forgetAfterMs = options.forgetAfterMs ?? this.leaseMs * 10;
    const next = { lease: 0, task: 0 };
    this.newId = options.newId ?? ((kind) => `${kind}-${++next[kind]}`);
  }

  /** Events for the log. */
  onEvent(listener: (event: QueueEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called whenever tasks become available (submitted or re-queued): wakes long-polls. */
  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  register(agentId: string, capabilities: readonly string[] = []): Lease {
    if (agentId.trim() === '' || agentId.length > 200)
      throw new CoordinatorError('INVALID_ARGUMENT', 'agent_id must be 1 to 200 characters');
    const unknown = capabilities.filter((c) => !isTaskKind(c));
    if (unknown.length > 0)
      throw new CoordinatorError('INVALID_ARGUMENT', `unknown capabilities: ${unknown.join(', ')} (known: ${TASK_KINDS.join(', ')})`);
    const previous = this.agents.get(agentId);
    if (previous !== undefined) this.release(previous, 'agent-deregistered');
    const record: AgentRecord = {
      agentId,
      leaseId: this.newId('lease'),
      capabilities: new Set((capabilities.length === 0 ? TASK_KINDS : capabilities) as TaskKind[]),
      lastSeenMs: this.clock.now(),
      alive: true,
      held: new Set(),
    };
    this.agents.set(agentId, record);
    this.emit({ type: 'agent-registered', agentId, replaced: previous !== undefined });
    return { leaseId: record.leaseId, leaseMs: this.leaseMs, heartbeatIntervalMs: Math.max(10, Math.floor(this.leaseMs / 3)) };
  }

  heartbeat(agentId: string, leaseId: string): void {
    this.renew(agentId, leaseId);
  }

  /** Ends the lease; returns how many held tasks went back to the queue. */
  deregister(agentId: string, leaseId: string): number {
    const agent = this.renew(agentId, leaseId);
    const { requeued } = this.release(agent, 'agent-deregistered');
    this.agents.delete(agentId);
    return requeued.length;
  }

  submit(input: TaskInput): string {
    const task = validateTask(input);
    if (this.queue.length >= this.maxQueued)
      throw new CoordinatorError('QUEUE_FULL', `the queue holds ${this.queue.length} tasks already (the limit)`);
    const id = this.newId('task');
    this.tasks.set(id, {
      task: { ...task, id, attempt: 0 },
      state: 'queued',
      agentId: '',
      output: '',
      attempts: 0,
      submittedMs: this.clock.now(),
      finishedMs: 0,
    });
    this.queue.push(id);
    this.counts.submitted += 1;
    this.notifyQueued();
    return id;
  }

  /**
   * The next queued task the agent can run, now marked running and held by it; null when none.
   * An agent runs one task at a time and asks for the next only when idle, so tasks it still
   * holds here were handed out in an answer it never got: they go back to the queue first.
   */
  take(agentId: string, leaseId: string): Task | null {
    const agent = this.renew(agentId, leaseId);
    if (agent.held.size > 0) this.release(agent, 'handout-lost');
    const index = this.queue.findIndex((id) => agent.capabilities.has((this.tasks.get(id) as TaskRecord).task.kind));
    if (index === -1) return null;
    const [id] = this.queue.splice(index, 1) as [string];
    const record = this.tasks.get(id) as TaskRecord;
    record.state = 'running';
    record.agentId = agentId;
    record.attempts += 1;
    record.task = { ...record.task, attempt: record.attempts };
    agent.held.add(id);
    return { ...record.task };
  }

  /**
   * Undoes a take whose answer could not be delivered (the call was cancelled): the task goes
   * back to the front of the queue as if never handed out.
   */
  untake(agentId: string, taskId: string): void {
    const agent = this.agents.get(agentId);
    const record = this.tasks.get(taskId);
    if (agent === undefined || record === undefined || !agent.held.delete(taskId) || record.state !== 'running') return;
    record.state = 'queued';
    record.agentId = '';
    record.attempts -= 1;
    record.task = { ...record.task, attempt: record.attempts };
    this.queue.unshift(taskId);
    this.notifyQueued();
  }

  /** True when counted; false when the task is not (or no longer) this agent's. */
  report(agentId: string, leaseId: string, taskId: string, ok: boolean, output: string): boolean {
    const agent = this.renew(agentId, leaseId);
    const record = this.tasks.get(taskId);
    if (record === undefined || record.state !== 'running' || record.agentId !== agentId || !agent.held.has(taskId)) return false;
    agent.held.delete(taskId);
    this.finish(record, ok ? 'done' : 'failed', agentId, output.slice(0, 64 * 1024));
    this.emit({ type: 'task-finished', taskId, agentId, ok });
    return true;
  }

  get(taskId: string): TaskRecord {
    const record = this.tasks.get(taskId);
    if (record === undefined)
      throw new CoordinatorError('TASK_NOT_FOUND', `no task ${taskId} (unknown, or finished long ago and forgotten)`);
    return { ...record, task: { ...record.task } };
  }

  /** Expires leases not renewed for leaseMs and forgets long-expired agents. Returns the agents expired now. */
  expire(): string[] {
    const now = this.clock.now();
    const expired: string[] = [];
    for (const agent of [...this.agents.values()]) {
      const silentMs = now - agent.lastSeenMs;
      if (agent.alive && silentMs >= this.leaseMs) {
        agent.alive = false;
        this.release(agent, 'agent-expired');
        expired.push(agent.agentId);
      }
      if (!agent.alive && silentMs >= this.forgetAfterMs) this.agents.delete(agent.agentId);
    }
    return expired;
  }

  counters(): Counters {
    let alive = 0;
    let running = 0;
    for (const agent of this.agents.values()) {
      if (agent.alive) alive += 1;
      running += agent.held.size;
    }
    return {
      registeredAgents: this.agents.size,
      aliveAgents: alive,
      queuedTasks: this.queue.length,
      runningTasks: running,
      doneTasks: this.counts.done,
      failedTasks: this.counts.failed,
      requeuedTasks: this.counts.requeued,
      submittedTasks: this.counts.submitted,
    };
  }

  /** The agent behind a live lease, renewed; NOT_REGISTERED otherwise. */
  private renew(agentId: string, leaseId: string): AgentRecord {
    const agent = this.agents.get(agentId);
    if (agent === undefined || agent.leaseId !== leaseId || !agent.alive) {
      throw new CoordinatorError(
        'NOT_REGISTERED',
        `agent ${agentId} has no current lease ${leaseId === '' ? '' : `(${leaseId}) `}: register again`,
      );
    }
    // A lease past its time but not yet swept by expire() is dead all the same.
    if (this.clock.now() - agent.lastSeenMs >= this.leaseMs) {
      agent.alive = false;
      this.release(agent, 'agent-expired');
      throw new CoordinatorError('NOT_REGISTERED', `the lease of agent ${agentId} expired: register again`);
    }
    agent.lastSeenMs = this.clock.now();
    return agent;
  }

  /** Takes every task away from an agent: back to the front of the queue, or failed after maxAttempts. */
  private release(
    agent: AgentRecord,
    why: 'agent-expired' | 'agent-deregistered' | 'handout-lost',
  ): { requeued: string[]; failed: string[] } {
    const requeued: string[] = [];
    const failed: string[] = [];
    for (const id of agent.held) {
      const record = this.tasks.get(id);
      if (record === undefined || record.state !== 'running') continue;
      if (record.attempts >= this.maxAttempts) {
        this.finish(record, 'failed', '', `lost its agent ${record.attempts} times (last: ${agent.agentId}); not re-queued again`);
        failed.push(id);
      } else {
        record.state = 'queued';
        record.agentId = '';
        requeued.push(id);
      }
    }
    agent.held.clear();
    if (requeued.length > 0) {
      this.queue = [...requeued, ...this.queue];
      this.counts.requeued += requeued.length;
    }
    this.emit({ type: why, agentId: agent.agentId, requeued, failed });
    if (requeued.length > 0) this.notifyQueued();
    return { requeued, failed };
  }

  private finish(record: TaskRecord, state: 'done' | 'failed', agentId: string, output: string): void {
    record.state = state;
    record.agentId = agentId;
    record.output = output;
    record.finishedMs = this.clock.now();
    this.counts[state] += 1;
    this.finishedOrder.push(record.task.id);
    while (this.finishedOrder.length > this.keepFinished) this.tasks.delete(this.finishedOrder.shift() as string);
  }

  private emit(event: QueueEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private notifyQueued(): void {
    for (const listener of [...this.queuedListeners]) listener();
  }
}

export function isTaskKind(kind: string): kind is TaskKind {
  return (TASK_KINDS as readonly string[]).includes(kind);
}

/** A submitted task with its defaults filled, or INVALID_ARGUMENT naming what is wrong. */
export function validateTask(input: TaskInput): Omit<Task, 'id' | 'attempt'> {
  const invalid = (why: string): CoordinatorError => new CoordinatorError('INVALID_ARGUMENT', why);
  if (!isTaskKind(input.kind)) throw invalid(`unknown task kind ${JSON.stringify(input.kind)} (known: ${TASK_KINDS.join(', ')})`);
  const payload = input.payload ?? '';
  const repeat = input.repeat ?? 0;
  const sleepMs = input.sleepMs ?? 0;
  const payloadBytes = Buffer.byteLength(payload, 'utf8');
  if (payloadBytes > LIMITS.payloadBytes) throw invalid(`payload is ${payloadBytes} bytes; at most ${LIMITS.payloadBytes}`);
  if (!Number.isInteger(repeat) || repeat < 0 || repeat > LIMITS.repeat) throw invalid(`repeat must be 0..${LIMITS.repeat}`);
  if (!Number.isInteger(sleepMs) || sleepMs < 0 || sleepMs > LIMITS.sleepMs) throw invalid(`sleep_ms must be 0..${LIMITS.sleepMs}`);
  if (input.kind === 'hash' && payloadBytes * Math.max(1, repeat) > LIMITS.hashBytes) {
    throw invalid(`hash input would be ${payloadBytes * Math.max(1, repeat)} bytes (payload × repeat); at most ${LIMITS.hashBytes}`);
  }
  return { kind: input.kind, payload, repeat, sleepMs };
}

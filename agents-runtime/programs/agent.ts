/**
 * The reference SutazAI agent: registers with the core, heartbeats, and loops TakeTask ->
 * run -> ReportResult, one task at a time. When the core goes away (restart, crash) it
 * registers again with capped, jittered backoff. Serves grpc.health.v1 on its own port,
 * SERVING only while registered with a core that answers its heartbeats.
 *
 * SIGTERM / SIGINT: stop taking tasks, finish the current one within
 * SUTAZAI_AGENT_STOP_GRACE_MS (past it the task is abandoned and the core re-queues it),
 * report it, deregister, exit 0.
 *
 * Plaintext gRPC on loopback, like the core (see core.ts).
 *
 * Settings (environment):
 *   SUTAZAI_CORE_ADDRESS          the core (default 127.0.0.1:7700)
 *   SUTAZAI_INSTANCE              agent id (set by sutazai-runtime: agent-1, agent-2, ...; default agent-<pid>)
 *   SUTAZAI_REPLICA               1-based replica number (set by sutazai-runtime; default 1)
 *   SUTAZAI_AGENT_PORT            health port; default SUTAZAI_AGENT_BASE_PORT + replica - 1
 *   SUTAZAI_AGENT_BASE_PORT       default 7710, so replica N listens where the manifest's
 *                                 `health.port: 7710` checks it (7710 + N - 1)
 *   SUTAZAI_AGENT_CAPABILITIES    comma-separated task kinds (default: hash,sleep,fail)
 *   SUTAZAI_AGENT_TAKE_WAIT_MS    long-poll wait per TakeTask (default 5000)
 *   SUTAZAI_AGENT_STOP_GRACE_MS   how long a stop waits for the current task (default 8000)
 *   SUTAZAI_PROTO_DIR, SUTAZAI_LOG_LEVEL as for the core
 */
import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status as grpcStatus,
  type CallOptions,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoordinatorClient } from '../src/generated/sutazai/core/v1/Coordinator';
import type { Task__Output } from '../src/generated/sutazai/core/v1/Task';
import { runTask, type TaskOutcome } from './agent/run-task';
import { readAgentConfig, type AgentConfig } from './agent/config';
import { HealthState } from './shared/health';
import { createLogger, type Logger } from './shared/log';
import { loadProgramProtos, type ProgramProtos } from './shared/protos';

interface Session {
  leaseId: string;
  leaseMs: number;
  heartbeatIntervalMs: number;
  coreId: string;
  /** Aborted once the lease is gone (lost, expired, deregistered). */
  ended: AbortController;
  lastOkMs: number;
}

type Callback<Res> = (error: ServiceError | null, value?: Res) => void;

/** One unary call as a promise, with a deadline and cancelled by the signal. */
function callUnary<Res>(
  start: (metadata: Metadata, options: CallOptions, callback: Callback<Res>) => ClientUnaryCall,
  timeoutMs: number,
  signal?: AbortSignal,
  waitForReady = false,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = (): void => call.cancel();
    const call = start(new Metadata({ waitForReady }), { deadline: Date.now() + timeoutMs }, (error, value) => {
      signal?.removeEventListener('abort', onAbort);
      if (error !== null) reject(error);
      else resolve(value as Res);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function codeOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && typeof (error as ServiceError).code === 'number'
    ? (error as ServiceError).code
    : undefined;
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'details' in error && typeof (error as ServiceError).details === 'string') {
    const code = codeOf(error);
    return `${code === undefined ? '' : `${grpcStatus[code] ?? code}: `}${(error as ServiceError).details}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after ms, or early (without throwing) when the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks why
  }
}

export class Agent {
  private stopping = false;
  private readonly stopController = new AbortController();
  private taskController: AbortController | undefined;
  private currentTask: string | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly client: CoordinatorClient,
    private readonly health: HealthState,
    private readonly log: Logger,
  ) {}

  private backoff(attempt: number): number {
    const base = Math.min(this.config.backoffMaxMs, this.config.backoffInitialMs * 2 ** Math.min(attempt, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Runs until stop(): register, work, and register again whenever the lease is lost. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let session: Session;
      try {
        session = await this.register();
        failures = 0;
      } catch (error) {
        if (this.stopping) break;
        const delay = this.backoff(failures);
        failures += 1;
        this.log.warn('cannot register with the core; retrying', {
          core: this.config.coreAddress,
          error: describe(error),
          retry_in_ms: delay,
          attempt: failures,
        });
        await pause(delay, this.stopController.signal);
        continue;
      }
      this.health.set('SERVING');
      this.log.info('registered', {
        core: this.config.coreAddress,
        core_id: session.coreId,
        lease_ms: session.leaseMs,
        heartbeat_interval_ms: session.heartbeatIntervalMs,
      });
      const heartbeats = this.heartbeatLoop(session);
      await this.workLoop(session);
      if (this.stopping && !session.ended.signal.aborted) await this.deregister(session);
      session.ended.abort(new Error('session over'));
      await heartbeats;
      this.health.set('NOT_SERVING');
    }
  }

  stop(signal: string): void {
    if (this.stopping) {
      this.log.info('already stopping', { signal });
      return;
    }
    this.stopping = true;
    this.health.set('NOT_SERVING');
    this.log.info('stopping', { signal, current_task: this.currentTask, grace_ms: this.config.stopGraceMs });
    this.stopController.abort(new Error(`stopping on ${signal}`));
    setTimeout(() => {
      if (this.taskController === undefined) return;
      this.log.warn('the current task did not finish within the stop grace; abandoning it (the core re-queues it)', {
        task: this.currentTask,
      });
      this.taskController.abort(new Error('stop grace elapsed'));
    }, this.config.stopGraceMs).unref();
  }

  private async register(): Promise<Session> {
    const response = await callUnary<{ leaseId: string; leaseMs: number; heartbeatIntervalMs: number; coreId: string }>(
      (metadata, options, callback) =>
        this.client.Register({ agentId: this.config.agentId, capabilities: this.config.capabilities }, metadata, options, callback),
      3_000,
      this.stopController.signal,
      // Wait (up to the deadline) for a core that is starting or restarting rather than fail fast.
      true,
    );
    return { ...response, ended: new AbortController(), lastOkMs: Date.now() };
  }

  private async deregister(session: Session): Promise<void> {
    try {
      const { requeued } = await callUnary<{ requeued: number }>(
        (metadata, options, callback) =>
          this.client.Deregister({ agentId: this.config.agentId, leaseId: session.leaseId }, metadata, options, callback),
        1_000,
      );
      this.log.info('deregistered', { requeued });
    } catch (error) {
      this.log.warn('could not deregister; the core will expire the lease', { error: describe(error) });
    }
  }

  private endSession(session: Session, reason: string): void {
    if (session.ended.signal.aborted) return;
    session.ended.abort(new Error(reason));
    this.health.set('NOT_SERVING');
    this.log.warn('registration lost; registering again', { reason });
  }

  private async heartbeatLoop(session: Session): Promise<void> {
    const timeoutMs = Math.max(100, Math.min(Math.floor(session.leaseMs / 2), 5_000));
    while (!session.ended.signal.aborted) {
      await pause(session.heartbeatIntervalMs, session.ended.signal);
      if (session.ended.signal.aborted) return;
      try {
        await callUnary<unknown>(
          (metadata, options, callback) =>
            this.client.Heartbeat({ agentId: this.config.agentId, leaseId: session.leaseId }, metadata, options, callback),
          timeoutMs,
          session.ended.signal,
        );
        session.lastOkMs = Date.now();
        if (!this.stopping && this.health.set('SERVING')) this.log.info('the core answers again');
      } catch (error) {
        if (session.ended.signal.aborted) return;
        if (codeOf(error) === grpcStatus.NOT_FOUND) {
          this.endSession(session, `the core does not know this lease (it restarted, or the lease expired): ${describe(error)}`);
          return;
        }
        if (this.health.set('NOT_SERVING')) this.log.warn('heartbeat failed; the core is unreachable', { error: describe(error) });
        if (Date.now() - session.lastOkMs >= session.leaseMs) {
          this.endSession(session, `no heartbeat got through for a whole lease (${session.leaseMs} ms)`);
          return;
        }
      }
    }
  }

  private async workLoop(session: Session): Promise<void> {
    let failures = 0;
    const signal = AbortSignal.any([this.stopController.signal, session.ended.signal]);
    while (!signal.aborted) {
      let task: Task__Output | null;
      try {
        const response = await callUnary<{ task: Task__Output | null }>(
          (metadata, options, callback) =>
            this.client.TakeTask(
              { agentId: this.config.agentId, leaseId: session.leaseId, waitMs: this.config.takeWaitMs },
              metadata,
              options,
              callback,
            ),
          this.config.takeWaitMs + 5_000,
          signal,
        );
        task = response.task;
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (codeOf(error) === grpcStatus.NOT_FOUND) {
          this.endSession(session, `TakeTask: ${describe(error)}`);
          return;
        }
        // Unreachable core: heartbeats decide when the lease counts as lost; retry meanwhile.
        await pause(this.backoff(failures), signal);
        failures += 1;
        continue;
      }
      if (task !== null) await this.runAndReport(session, task);
    }
  }

  private async runAndReport(session: Session, task: Task__Output): Promise<void> {
    const controller = new AbortController();
    this.taskController = controller;
    this.currentTask = task.id;
    const started = Date.now();
    this.log.info('task started', { task: task.id, kind: task.kind, attempt: task.attempt });
    let outcome: TaskOutcome;
    try {
      outcome = await runTask(task, AbortSignal.any([controller.signal, session.ended.signal]));
    } catch (error) {
      if (controller.signal.aborted || session.ended.signal.aborted) {
        this.log.warn('task abandoned; the core re-queues it', {
          task: task.id,
          reason: describe(controller.signal.reason ?? session.ended.signal.reason),
        });
        return;
      }
      outcome = { ok: false, output: `the agent failed to run it: ${describe(error)}` };
    } finally {
      this.taskController = undefined;
      this.currentTask = undefined;
    }
    const elapsedMs = Date.now() - started;
    for (let attempt = 0; !session.ended.signal.aborted; attempt += 1) {
      try {
        const { accepted } = await callUnary<{ accepted: boolean }>(
          (metadata, options, callback) =>
            this.client.ReportResult(
              { taskId: task.id, agentId: this.config.agentId, leaseId: session.leaseId, ok: outcome.ok, output: outcome.output },
              metadata,
              options,
              callback,
            ),
          5_000,
          session.ended.signal,
        );
        this.log.info('task reported', { task: task.id, kind: task.kind, ok: outcome.ok, accepted, elapsed_ms: elapsedMs });
        return;
      } catch (error) {
        if (session.ended.signal.aborted) break;
        if (codeOf(error) === grpcStatus.NOT_FOUND) {
          this.endSession(session, `ReportResult: ${describe(error)}`);
          break;
        }
        await pause(this.backoff(attempt), session.ended.signal);
      }
    }
    this.log.warn('result not reported: the lease is gone (the core re-queues or forgot the task)', { task: task.id });
  }
}

async function startHealthServer(port: number, protos: ProgramProtos, health: HealthState): Promise<Server> {
  const server = new Server();
  health.addTo(server, protos);
  await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return server;
}

async function main(): Promise<void> {
  let log = createLogger('agent');
  let config: AgentConfig;
  let protos: ProgramProtos;
  try {
    config = readAgentConfig();
    protos = loadProgramProtos();
  } catch (error) {
    log.error('cannot start', { error: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    return;
  }
  log = createLogger('agent', { agent: config.agentId });
  const health = new HealthState(['']);
  let healthServer: Server;
  try {
    healthServer = await startHealthServer(config.healthPort, protos, health);
  } catch (error) {
    log.error('cannot serve health', { port: config.healthPort, error: describe(error) });
    process.exitCode = 1;
    return;
  }
  log.info('started', { core: config.coreAddress, health: `127.0.0.1:${config.healthPort}`, capabilities: config.capabilities });

  const client = new protos.sutazai.core.v1.Coordinator(config.coreAddress, credentials.createInsecure(), {
    // Reconnect quickly once a restarted core listens again (grpc-js waits up to 120 s by default).
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 2_000,
  });
  const agent = new Agent(config, client, health, log);
  const onSignal = (signal: NodeJS.Signals): void => {
    agent.stop(signal);
    // Whatever hangs, the process is out shortly after the grace.
    setTimeout(() => {
      log.error('did not stop in time; exiting anyway');
      process.exit(0);
    }, config.stopGraceMs + 3_000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await agent.run();
  health.endWatches();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      healthServer.forceShutdown();
      resolve();
    }, 1_000);
    healthServer.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.close();
  log.info('stopped');
  process.exit(0);
}

void main();

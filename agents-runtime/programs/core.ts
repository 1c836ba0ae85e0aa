/**
 * The reference SutazAI core: a coordinator that agents register with and heartbeat to,
 * that queues tasks and hands them out (long-poll), re-queues the tasks of agents whose
 * lease expired, and counts. Serves sutazai.core.v1.Coordinator and grpc.health.v1 (SERVING
 * once listening, NOT_SERVING from the moment it starts stopping).
 *
 * Plaintext gRPC on 127.0.0.1 by default: where every agent runs on the core's machine under
 * sutazai-runtime, nothing else should reach it. Agents on other machines need it on an
 * address they can reach (SUTAZAI_CORE_LISTEN_ADDRESS, set by the installer from
 * core.listen_address). State is in memory: a restarted core starts empty and the agents
 * register again.
 *
 * Settings (environment):
 *   SUTAZAI_CORE_LISTEN_ADDRESS   the IP address the gRPC server binds (default 127.0.0.1; 0.0.0.0 for all)
 *   SUTAZAI_CORE_PORT             gRPC port (default 7700)
 *   SUTAZAI_CORE_LEASE_MS         agent lease; heartbeats every third of it (default 15000)
 *   SUTAZAI_CORE_MAX_WAIT_MS      longest TakeTask long-poll (default 10000)
 *   SUTAZAI_CORE_MAX_ATTEMPTS     hand-outs of one task before it fails (default 5)
 *   SUTAZAI_CORE_STOP_GRACE_MS    SIGTERM: how long in-flight calls may finish (default 5000)
 *   SUTAZAI_CORE_HTTP_PORT        optional: GET /counters (JSON) and /healthz, always on 127.0.0.1
 *   SUTAZAI_PROTO_DIR             where core.proto and health.proto are (see shared/protos.ts)
 *   SUTAZAI_LOG_LEVEL             debug | info | warn | error (default info)
 * Logs: one JSON object per line on stdout (shared/log.ts).
 */
import {
  Server,
  ServerCredentials,
  status as grpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { CoordinatorHandlers } from '../src/generated/sutazai/core/v1/Coordinator';
import type { TaskInfo } from '../src/generated/sutazai/core/v1/TaskInfo';
import type { TaskState as WireTaskState } from '../src/generated/sutazai/core/v1/TaskState';
import { CoordinatorError, TaskQueue, type Task, type TaskRecord } from './core/task-queue';
import { readCoreConfig, type CoreConfig } from './core/config';
import { ConfigError } from './shared/env';
import { HealthState } from './shared/health';
import { createLogger, type Logger } from './shared/log';
import { loadProgramProtos } from './shared/protos';

// The optional HTTP endpoint is for the operator on the machine itself, wherever gRPC listens.
const HOST = '127.0.0.1';
const SERVICE_NAME = 'sutazai.core.v1.Coordinator';

const WIRE_STATE: Record<TaskRecord['state'], WireTaskState> = {
  queued: 'TASK_STATE_QUEUED',
  running: 'TASK_STATE_RUNNING',
  done: 'TASK_STATE_DONE',
  failed: 'TASK_STATE_FAILED',
};

function toServiceError(error: unknown): Partial<ServiceError> {
  if (error instanceof CoordinatorError) {
    const code = {
      NOT_REGISTERED: grpcStatus.NOT_FOUND,
      TASK_NOT_FOUND: grpcStatus.NOT_FOUND,
      INVALID_ARGUMENT: grpcStatus.INVALID_ARGUMENT,
      QUEUE_FULL: grpcStatus.RESOURCE_EXHAUSTED,
    }[error.code];
    return { code, details: error.message };
  }
  return { code: grpcStatus.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}

/** A unary handler whose thrown CoordinatorError becomes the matching gRPC status. */
function unary<Req, Res>(work: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => work(call.request, call))
      .then(
        (value) => callback(null, value),
        (error: unknown) => callback(toServiceError(error)),
      );
  };
}

function toWireTask(task: Task) {
  return { id: task.id, kind: task.kind, payload: task.payload, repeat: task.repeat, sleepMs: task.sleepMs, attempt: task.attempt };
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export interface RunningCore {
  port: number;
  httpPort?: number;
  coreId: string;
  /** Stops accepting calls, lets in-flight ones finish within stopGraceMs, then closes. */
  stop(reason: string): Promise<void>;
}

export async function startCore(config: CoreConfig, log: Logger): Promise<RunningCore> {
  const protos = loadProgramProtos();
  const coreId = randomUUID();
  const startedMs = Date.now();
  // Ids carry the core's boot id, so an id from before a restart never names a new task.
  const idPrefix = coreId.slice(0, 8);
  const counts = { lease: 0, task: 0 };
  const queue = new TaskQueue({
    leaseMs: config.leaseMs,
    maxAttempts: config.maxAttempts,
    newId: (kind) => `${kind}-${idPrefix}-${++counts[kind]}`,
  });
  const health = new HealthState(['', SERVICE_NAME]);
  let stopping = false;
  /** Wakes every long-poll at shutdown. */
  const wakeOnStop = new Set<() => void>();

  queue.onEvent((event) => {
    switch (event.type) {
      case 'agent-registered':
        log.info('agent registered', { agent: event.agentId, replaced_previous_lease: event.replaced });
        break;
      case 'agent-expired':
        log.warn('agent lease expired', { agent: event.agentId, requeued: event.requeued, failed: event.failed });
        break;
      case 'agent-deregistered':
        log.info('agent deregistered', { agent: event.agentId, requeued: event.requeued, failed: event.failed });
        break;
      case 'handout-lost':
        log.warn('tasks handed out but never received; re-queued', {
          agent: event.agentId,
          requeued: event.requeued,
          failed: event.failed,
        });
        break;
      case 'task-finished':
        log.info('task finished', { task: event.taskId, agent: event.agentId, ok: event.ok });
        break;
    }
  });

  /** Resolves when a task may have become available, after `ms`, on cancel or at shutdown. */
  const waitForWork = (ms: number, call: ServerUnaryCall<unknown, unknown>): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        wakeOnStop.delete(done);
        call.removeListener('cancelled', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = queue.onQueued(done);
      wakeOnStop.add(done);
      call.once('cancelled', done);
    });

  const handlers: CoordinatorHandlers = {
    Register: unary((req) => {
      const lease = queue.register(req.agentId, req.capabilities);
      return { leaseId: lease.leaseId, leaseMs: lease.leaseMs, heartbeatIntervalMs: lease.heartbeatIntervalMs, coreId };
    }),
    Heartbeat: unary((req) => {
      queue.heartbeat(req.agentId, req.leaseId);
      return { leaseMs: queue.leaseMs };
    }),
    Deregister: unary((req) => ({ requeued: queue.deregister(req.agentId, req.leaseId) })),
    TakeTask: unary(async (req, call) => {
      const deadline = Date.now() + Math.min(req.waitMs, config.maxWaitMs);
      for (;;) {
        const task = queue.take(req.agentId, req.leaseId);
        if (task !== null) {
          if (call.cancelled) {
            queue.untake(req.agentId, task.id);
            return { task: null };
          }
          log.debug('task handed out', { task: task.id, kind: task.kind, agent: req.agentId, attempt: task.attempt });
          return { task: toWireTask(task) };
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0 || stopping || call.cancelled) return { task: null };
        await waitForWork(remaining, call);
      }
    }),
    ReportResult: unary((req) => {
      const accepted = queue.report(req.agentId, req.leaseId, req.taskId, req.ok, req.output);
      if (!accepted) log.warn("result refused: the task is not this agent's (any more)", { task: req.taskId, agent: req.agentId });
      return { accepted };
    }),
    SubmitTask: unary((req) => {
      if (stopping) throw new CoordinatorError('QUEUE_FULL', 'the core is stopping');
      const taskId = queue.submit({ kind: req.kind, payload: req.payload, repeat: req.repeat, sleepMs: req.sleepMs });
      log.debug('task submitted', { task: taskId, kind: req.kind });
      return { taskId };
    }),
    GetTask: unary((req) => {
      const record = queue.get(req.taskId);
      const info: TaskInfo = {
        task: toWireTask(record.task),
        state: WIRE_STATE[record.state],
        agentId: record.agentId,
        output: record.output,
        attempts: record.attempts,
        submittedMs: record.submittedMs,
        finishedMs: record.finishedMs,
      };
      return { info };
    }),
    GetCounters: unary(() => {
      queue.expire();
      return { ...queue.counters(), coreId, startedMs };
    }),
  };

  const server = new Server();
  server.addService(protos.sutazai.core.v1.Coordinator.service, handlers);
  health.addTo(server, protos);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(config.listenAddress, config.port), ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  const sweep = setInterval(() => queue.expire(), Math.max(50, Math.floor(config.leaseMs / 4)));

  let httpServer: http.Server | undefined;
  let httpPort: number | undefined;
  if (config.httpPort !== undefined) {
    const srv = http.createServer((req, res) => {
      const reply = (code: number, body: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      };
      if (req.method !== 'GET') reply(405, { error: 'GET only' });
      else if (req.url === '/counters') reply(200, { ...(queue.expire(), queue.counters()), coreId, startedMs });
      else if (req.url === '/healthz') reply(health.status === 'SERVING' ? 200 : 503, { status: health.status });
      else reply(404, { error: 'try /counters or /healthz' });
    });
    httpServer = srv;
    httpPort = await new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(config.httpPort, HOST, () => resolve((srv.address() as { port: number }).port));
    });
  }

  health.set('SERVING');
  log.info('listening', {
    address: hostPort(config.listenAddress, port),
    core_id: coreId,
    lease_ms: config.leaseMs,
    max_wait_ms: config.maxWaitMs,
    http_port: httpPort,
  });

  let stopped: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      log.info('stopping', { reason, grace_ms: config.stopGraceMs });
      health.set('NOT_SERVING');
      health.endWatches();
      for (const wake of [...wakeOnStop]) wake();
      clearInterval(sweep);
      const graceful = new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true)));
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.stopGraceMs).unref());
      const clean = await Promise.race([graceful, timeout]);
      if (!clean) {
        log.warn('in-flight calls did not finish within the grace; closing them', { grace_ms: config.stopGraceMs });
        server.forceShutdown();
      }
      if (httpServer !== undefined) {
        httpServer.closeAllConnections();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
      log.info('stopped', { counters: queue.counters() });
    })();
    return stopped;
  };

  return { port, httpPort, coreId, stop };
}

async function main(): Promise<void> {
  const log = createLogger('core');
  let core: RunningCore;
  try {
    core = await startCore(readCoreConfig(), log);
  } catch (error) {
    log.error('cannot start', {
      error: error instanceof Error ? error.message : String(error),
      config_error: error instanceof ConfigError,
    });
    process.exitCode = 1;
    return;
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    core.stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

void main();

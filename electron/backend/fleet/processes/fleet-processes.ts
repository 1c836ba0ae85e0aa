import {
  ApiError,
  isApiError,
  MAX_REPLICAS,
  MIN_REPLICAS,
  type ApiErrorBody,
  type FleetActionResult,
  type FleetLogFollowPayload,
  type FleetLogsResult,
  type FleetProcess,
  type FleetProcessTable,
  type LogSearch,
} from '../../../contract';
import type { InstanceMetrics__Output } from '../../../../agents-runtime/src/wire';
import type { LinkTarget } from '../link/link-types';
import type { OperatorToken, RuntimeConnection } from '../runtime-connection';
import { compileLogSearch, filterLines, type LineMatcher } from './log-search';
import { fitLines, toFleetLine } from './log-lines';
import { describeProcesses } from './process-table';
import type { BorrowedConnection, ConnectionSource } from './connection-source';
import { processNotFoundError, scaleOutOfRangeError } from './process-errors';

export type ProcessAction = 'start' | 'stop' | 'restart' | 'scale';

/** One operator action on a host's process, as the event log records it. */
export interface ProcessActionRecord {
  atMs: number;
  target: LinkTarget;
  process: string;
  action: ProcessAction;
  /** For scale: the replicas asked for. */
  replicas: number | null;
  /** null when the runtime did it; the failure otherwise. */
  error: ApiErrorBody | null;
}

/** Where actions are recorded with who did them (the fleet's event log). */
export interface ProcessActionLog {
  record(action: ProcessActionRecord, actor: string | null): void;
}

/** Keeps a scale in the install's definition, so that applying the install again keeps it. */
export interface ScaleRecord {
  recordScale(target: LinkTarget, process: string, replicas: number): void;
}

export interface FleetProcessesDeps {
  /** The links of a serving backend, or connections opened per call (connection-source.ts). */
  connections: ConnectionSource;
  actions: ProcessActionLog;
  scales: ScaleRecord;
  now(): number;
  /** How long the process table waits for the runtime's CPU and RSS figures; default 3 s (then they are null). */
  sampleWaitMs?: number;
  /**
   * The access token a call made for `operatorName` carries to the runtime of `target`
   * (fleet/credentials), so the runtime checks and records that operator; null: none.
   */
  tokenFor?: (target: LinkTarget, operatorName: string) => Promise<OperatorToken>;
}

export interface LogsRequest {
  hostId: number;
  instance: string;
  lines: number;
  sinceMs?: number | undefined;
  search?: LogSearch | undefined;
  /** The operator who asks (their token goes with the call); none: the control center's own. */
  operator?: string | null | undefined;
}

/** The host and process control and logs of every installed host, each call through the host's link. */
export interface FleetProcesses {
  table(hostId: number): Promise<FleetProcessTable>;
  /** `actor` is recorded; `operator` (their name) is who the runtime is told the call is for. */
  act(
    hostId: number,
    process: string,
    action: Exclude<ProcessAction, 'scale'>,
    actor: string | null,
    operator?: string | null,
  ): Promise<FleetActionResult>;
  scale(hostId: number, process: string, replicas: number, actor: string | null, operator?: string | null): Promise<FleetActionResult>;
  logs(request: LogsRequest): Promise<FleetLogsResult>;
  /** Follows an instance's output; `emit` gets lines, then one `ended`. Returns the stop. Refuses a bad search before anything starts. */
  follow(request: LogsRequest, emit: (payload: FleetLogFollowPayload) => void): () => void;
}

const SAMPLE_WAIT_MS = 3_000;
/** The most lines the runtime sends for one tail (its TAIL_MAX_LINES). */
const RUNTIME_TAIL_MAX = 10_000;

export function createFleetProcesses(deps: FleetProcessesDeps): FleetProcesses {
  const sampleWaitMs = deps.sampleWaitMs ?? SAMPLE_WAIT_MS;

  /** Runs `use` on the host's runtime connection, given back however it ends. */
  async function withConnection<T>(hostId: number, use: (target: LinkTarget, connection: RuntimeConnection) => Promise<T>): Promise<T> {
    const borrowed = await deps.connections.borrow(hostId);
    try {
      return await use(borrowed.target, borrowed.connection);
    } finally {
      await borrowed.release();
    }
  }

  async function latestSample(connection: RuntimeConnection): Promise<Map<string, InstanceMetrics__Output>> {
    const byInstance = new Map<string, InstanceMetrics__Output>();
    const stream = connection.streamMetrics(Math.max(1, deps.now() - 1_500));
    const timer = setTimeout(() => stream.cancel(), sampleWaitMs);
    try {
      for await (const sample of stream) {
        for (const instance of sample.instances) byInstance.set(instance.instance, instance);
        break;
      }
    } catch {
      // The figures are a garnish of the table: without them CPU and RSS read null.
    } finally {
      clearTimeout(timer);
      stream.cancel();
    }
    return byInstance;
  }

  function table(hostId: number): Promise<FleetProcessTable> {
    return withConnection(hostId, async (target, connection) => {
      const [processes, sample] = await Promise.all([connection.listProcesses(), latestSample(connection)]);
      const atMs = deps.now();
      return {
        hostId,
        hostName: target.hostName,
        installName: target.installName,
        atMs,
        processes: describeProcesses(processes, sample, atMs),
      };
    });
  }

  async function processAfter(connection: RuntimeConnection, name: string): Promise<FleetProcess | null> {
    const processes = await connection.listProcesses().catch(() => null);
    const found = processes?.find((p) => p.name === name);
    return found ? (describeProcesses([found], new Map(), deps.now())[0] ?? null) : null;
  }

  async function run(
    hostId: number,
    process: string,
    action: ProcessAction,
    replicas: number | null,
    actor: string | null,
    operator: string | null | undefined,
    call: (connection: RuntimeConnection, target: LinkTarget, token: OperatorToken) => Promise<void>,
  ): Promise<FleetActionResult> {
    return withConnection(hostId, async (target, connection) => {
      const known = (await connection.listProcesses()).map((p) => p.name);
      if (!known.includes(process)) throw processNotFoundError(target.hostName, process, known);
      const record = (error: ApiErrorBody | null) =>
        deps.actions.record({ atMs: deps.now(), target, process, action, replicas, error }, actor);
      try {
        await call(connection, target, await tokenOf(target, operator));
      } catch (error) {
        record(isApiError(error) ? error.toBody() : { code: 'INTERNAL', message: String(error), remedy: 'See the app log.' });
        throw error;
      }
      record(null);
      return { hostId, process, action, after: await processAfter(connection, process) };
    });
  }

  async function tokenOf(target: LinkTarget, operator: string | null | undefined): Promise<OperatorToken> {
    return operator && deps.tokenFor ? deps.tokenFor(target, operator) : null;
  }

  async function logs(request: LogsRequest): Promise<FleetLogsResult> {
    // A bad pattern is refused before the runtime is asked for anything.
    const matcher = request.search ? compileLogSearch(request.search) : null;
    const filtered = matcher !== null || request.sinceMs !== undefined;
    const asked = filtered ? RUNTIME_TAIL_MAX : request.lines;
    const raw = await withConnection(request.hostId, async (target, connection) =>
      readAll(connection, request.instance, asked, await tokenOf(target, request.operator)),
    );
    let kept = raw.map(toFleetLine);
    if (request.sinceMs !== undefined) kept = kept.filter((line) => line.atMs >= request.sinceMs!);
    if (matcher) kept = filterLines(kept, matcher);
    const newest = kept.slice(-request.lines);
    const { lines, omitted } = fitLines(newest);
    const reachedStart = raw.length < asked || (request.sinceMs !== undefined && raw.length > 0 && Number(raw[0]!.atMs) < request.sinceMs);
    return {
      hostId: request.hostId,
      instance: request.instance,
      lines,
      scanned: raw.length,
      omitted,
      complete: !filtered || kept.length >= request.lines || reachedStart,
    };
  }

  function follow(request: LogsRequest, emit: (payload: FleetLogFollowPayload) => void): () => void {
    const matcher: LineMatcher | null = request.search ? compileLogSearch(request.search) : null;
    let stopped = false;
    let cancel = (): void => {};
    void (async () => {
      let error: ApiErrorBody | null = null;
      let borrowed: BorrowedConnection | null = null;
      try {
        borrowed = await deps.connections.borrow(request.hostId);
        if (stopped) return;
        const { connection, target } = borrowed;
        const token = await tokenOf(target, request.operator);
        if (stopped) return;
        const stream = connection.tailLogs({ instance: request.instance, lines: request.lines, follow: true }, token);
        cancel = () => stream.cancel();
        let batch: ReturnType<typeof toFleetLine>[] = [];
        let flushing: NodeJS.Immediate | null = null;
        let failure: unknown = null;
        const flush = (): void => {
          flushing = null;
          let lines = batch;
          batch = [];
          if (request.sinceMs !== undefined) lines = lines.filter((line) => line.atMs >= request.sinceMs!);
          try {
            if (matcher) lines = filterLines(lines, matcher);
          } catch (tooCostly) {
            failure = tooCostly;
            stream.cancel();
            return;
          }
          // One message stays under the pipe's limit: a flood of long lines goes out in parts.
          while (lines.length > 0 && !stopped) {
            const { lines: part, taken } = fitLines(lines, { keep: 'oldest' });
            emit({ kind: 'lines', lines: part });
            lines = lines.slice(taken);
          }
        };
        for await (const line of stream) {
          batch.push(toFleetLine(line));
          // Lines that arrive together go out together.
          flushing ??= setImmediate(flush);
        }
        if (flushing !== null) {
          clearImmediate(flushing);
          flush();
        }
        if (failure !== null) throw failure;
      } catch (caught) {
        error = isApiError(caught)
          ? caught.toBody()
          : new ApiError('INTERNAL', `Following the log failed: ${String(caught)}`, 'Follow it again; see the app log.').toBody();
      } finally {
        await borrowed?.release().catch(() => undefined);
      }
      if (!stopped) emit({ kind: 'ended', error });
    })();
    return () => {
      stopped = true;
      cancel();
    };
  }

  return {
    table,
    act: (hostId, process, action, actor, operator) =>
      run(hostId, process, action, null, actor, operator, (connection, _target, token) => {
        switch (action) {
          case 'start':
            return connection.startProcess(process, token);
          case 'stop':
            return connection.stopProcess(process, token);
          default:
            return connection.restartProcess(process, token);
        }
      }),
    async scale(hostId, process, replicas, actor, operator) {
      if (!Number.isInteger(replicas) || replicas < MIN_REPLICAS || replicas > MAX_REPLICAS) throw scaleOutOfRangeError(process, replicas);
      return run(hostId, process, 'scale', replicas, actor, operator, async (connection, target, token) => {
        await connection.scaleProcess(process, replicas, token);
        deps.scales.recordScale(target, process, replicas);
      });
    },
    logs,
    follow,
  };
}

async function readAll(connection: RuntimeConnection, instance: string, lines: number, token: OperatorToken) {
  const stream = connection.tailLogs({ instance, lines, follow: false }, token);
  const out = [];
  for await (const line of stream) out.push(line);
  return out;
}

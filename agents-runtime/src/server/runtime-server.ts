/**
 * The runtime's gRPC server: TLS with required client certificates from the install's CA,
 * the caller identified (certificate, access token, pushed access state: caller-identity.ts)
 * and their role checked on every call before its handler runs (role-policy.ts), the Runtime
 * service mapped onto a RuntimeApi, and the standard grpc.health.v1 service. The transport
 * is the runtime's own, on Node's HTTP/2 (grpc-http2/grpc-server.ts says why not grpc-js).
 */
import type * as grpc from '@grpc/grpc-js';
import { dirname, join } from 'node:path';
import type { HealthCheckRequest__Output } from '../generated/grpc/health/v1/HealthCheckRequest';
import type { HealthCheckResponse } from '../generated/grpc/health/v1/HealthCheckResponse';
import type { HealthHandlers } from '../generated/grpc/health/v1/Health';
import type { RuntimeHandlers } from '../generated/sutazai/runtime/v1/Runtime';
import { RuntimeError } from '../runtime-error';
import { accessStateFromWire, createAccessStateStore, type AccessStateStore } from './access-state';
import { createAccessTokenVerifier, type AccessTokenVerifier } from './access-token';
import { USED_TOKENS_FILE } from './used-token-record';
import { identifyCaller, type CallerIdentity } from './caller-identity';
import { statusFor, statusFromError } from './grpc-status';
import { CONTROL_CENTER_METHODS, HEALTH_SERVICE, RUNTIME_SERVICE, authorize, controlCenterOnly, methodsWithoutPolicy } from './role-policy';
import {
  eventToWire,
  logLineToWire,
  metricSampleToWire,
  processStatusToWire,
  runtimeInfoToWire,
  sinceMsFromWire,
  type RuntimeApi,
  type Unsubscribe,
} from './runtime-api';
import { checkServerTlsMaterial, type ServerTlsMaterial } from './server-certificate';
import { runtimeServiceCodecs } from '../wire/runtime-api-codec';
import { CallMetadata } from '../grpc-http2/call-metadata';
import {
  CallStatusError,
  createGrpcServer,
  type Admission,
  type ArrivedCall,
  type CallStatus,
  type MethodSpec,
  type StreamHandler,
  type UnaryHandler,
} from '../grpc-http2/grpc-server';
import { GrpcCode, grpcCodeName } from '../grpc-http2/status-codes';
import { createRuntimePolicy } from '../access/runtime-policy';
import { ERROR_CODE_HEADER } from '../wire/error-metadata';
import { openAuditFile, type AuditLimits } from '../audit/audit-file';
import { createCallAudit } from '../audit/call-audit';

export const DEFAULT_ADDRESS = '127.0.0.1:0';
const HEALTH_POLL_MS = 1_000;
const SHUTDOWN_GRACE_MS = 5_000;
const EXPIRY_WARNING_MS = 14 * 24 * 3600_000;

/** pino's Logger fits. */
export interface RuntimeServerLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface RuntimeServerOptions {
  /** host:port; default 127.0.0.1:0 (loopback, any free port). Anything else only when configured. */
  address?: string;
  tls: ServerTlsMaterial;
  api: RuntimeApi;
  logger?: RuntimeServerLogger;
  /** Where the pushed access state is kept (the daemon: `<state_dir>/access-state.json`); default: memory only. */
  accessStateFile?: string;
  /**
   * Where the access tokens used are kept across restarts (used-token-record.ts); default:
   * `access-tokens.used` beside the access state file, memory only without one.
   */
  usedTokensFile?: string;
  /** The runtime's own audit log (the daemon: `<state_dir>/audit.log`, audit/audit-file.ts); default: none kept. */
  auditLogFile?: string;
  /** Its segment size and how many sealed segments are kept; default DEFAULT_AUDIT_LIMITS. */
  auditLimits?: AuditLimits;
  /** The clock tokens are judged by; default Date.now. */
  now?: () => number;
}

export interface RuntimeServer {
  /** The address asked for, with the port actually bound. */
  address: string;
  port: number;
  /** Ends open streams (UNAVAILABLE), then stops; resolves when the port is free. Idempotent. */
  close(): Promise<void>;
}

const silentLogger: RuntimeServerLogger = { info: () => {}, warn: () => {} };

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

function splitAddress(address: string): { host: string; port: string } {
  const colon = address.lastIndexOf(':');
  if (colon <= 0 || !/^\d{1,5}$/.test(address.slice(colon + 1))) {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `the listen address "${address}" is not host:port`,
      'set the listen address in the runtime config as host:port, e.g. 127.0.0.1:7443',
    );
  }
  return { host: address.slice(0, colon), port: address.slice(colon + 1) };
}

/** The caller the admission identified; null when its credentials could not be checked (refused). */
type Caller = CallerIdentity | null;

/**
 * The runtime's handlers, typed by the generated handler types (@grpc/grpc-js's call shapes)
 * but in this server's form: a unary handler returns its response, a streaming one writes to a sink.
 */
type OwnHandlers<Handlers> = {
  // Without the index signature the generated types carry (grpc-js's UntypedServiceImplementation).
  [Method in keyof Handlers as string extends Method ? never : Method]: Handlers[Method] extends grpc.handleServerStreamingCall<
    infer Req,
    infer Res
  >
    ? StreamHandler<Req, Res, Caller>
    : Handlers[Method] extends grpc.handleUnaryCall<infer Req, infer Res>
      ? UnaryHandler<Req, Res, Caller>
      : never;
};

/** `ok`, or the runtime's error code a status carries (the gRPC status name when it carries none). */
function outcomeOf(status: CallStatus): string {
  if (status.code === GrpcCode.OK) return 'ok';
  const code = status.metadata?.get(ERROR_CODE_HEADER)[0];
  return typeof code === 'string' ? code : grpcCodeName(status.code);
}

/**
 * Identifies the caller of every call and refuses it when revoked, badly tokened or short of
 * the role the method needs (the server then ends it and reports it to the audit log).
 */
function admitter(
  logger: RuntimeServerLogger,
  access: AccessStateStore,
  tokens: AccessTokenVerifier,
): (call: ArrivedCall) => Promise<Admission<Caller>> {
  return async (call) => {
    const authorization = call.metadata.get('authorization')[0];
    let identified: CallerIdentity;
    try {
      identified = await identifyCaller(
        call.peerCertificate,
        typeof authorization === 'string' ? authorization : undefined,
        access.current(),
        tokens,
      );
    } catch (error) {
      // A token cannot be checked against the lost state (no keys): the loss is the reason to give.
      const lost = access.lost();
      const status = lost === null ? statusFromError(error) : accessStateLost(lost);
      logger.warn({ method: call.path, peer: call.peer, reason: status.details }, 'runtime API call refused: credentials');
      return { context: null, refused: status };
    }
    const lost = access.lost();
    if (lost !== null && !identified.controlCenter) return { context: identified, refused: accessStateLost(lost) };
    const decision =
      CONTROL_CENTER_METHODS.has(call.path) && !identified.controlCenter
        ? controlCenterOnly(call.path)
        : authorize(call.path, identified.role);
    if (decision.allowed) return { context: identified };
    logger.warn(
      {
        method: call.path,
        peer: call.peer,
        subject: identified.subject,
        role: identified.role.ok ? identified.role.role : null,
      },
      'runtime API call refused: permission denied',
    );
    return { context: identified, refused: statusFor('PERMISSION_DENIED', decision.message, decision.remedy) };
  };
}

/** Everyone but the control center's own certificate is refused until the next push restores the state (access-state.ts lost). */
function accessStateLost(lost: string): CallStatus {
  return statusFor(
    'ACCESS_STATE_LOST',
    `this runtime lost its access state (${lost}), so it cannot tell who may call it`,
    'it serves only the control center until the control center pushes the state again: wait until its link to this host is up, then retry',
  );
}

interface OpenStream {
  finish(status?: CallStatus): void;
}

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  const logger = options.logger ?? silentLogger;
  const { api } = options;
  const address = options.address ?? DEFAULT_ADDRESS;
  const { host } = splitAddress(address);

  const { notAfter } = await checkServerTlsMaterial(options.tls, {
    onCheckedInProcess: (why) => logger.warn({ why }, 'the TLS material was checked in the daemon itself, which keeps node:crypto loaded'),
  });
  if (notAfter.getTime() - Date.now() < EXPIRY_WARNING_MS) {
    logger.warn({ notAfter: notAfter.toISOString() }, 'the runtime server certificate expires within 14 days: renew it');
  }
  if (!isLoopbackHost(host)) {
    logger.warn({ address }, 'the runtime API listens beyond loopback, as configured');
  }

  // The API of the checked-in descriptor, coded without protobufjs (wire/runtime-api-codec.ts).
  const services = runtimeServiceCodecs();
  const runtimeService: Record<string, MethodSpec<unknown, unknown>> = services[RUNTIME_SERVICE] ?? {};
  const healthService: Record<string, MethodSpec<unknown, unknown>> = services[HEALTH_SERVICE] ?? {};
  const unguarded = methodsWithoutPolicy([...Object.values(runtimeService), ...Object.values(healthService)].map((m) => m.path));
  if (unguarded.length > 0) {
    throw new RuntimeError(
      'INTERNAL',
      `gRPC methods without a role policy: ${unguarded.join(', ')}`,
      'this is a defect of sutazai-runtime: add them to role-policy.ts',
    );
  }

  const openStreams = new Set<OpenStream>();
  const access = createAccessStateStore(options.accessStateFile ?? null, (detail) =>
    logger.warn({ detail }, 'the kept access state cannot be used: serving only the control center until it pushes the state again'),
  );
  const usedTokensFile =
    options.usedTokensFile ??
    (options.accessStateFile === undefined ? undefined : join(dirname(options.accessStateFile), USED_TOKENS_FILE));
  const tokens = createAccessTokenVerifier({
    now: options.now,
    startedAtMs: (options.now ?? Date.now)(),
    ...(usedTokensFile === undefined ? {} : { usedTokensFile }),
    // A token the record lost is still refused when issued before this start, less the clock tolerance.
    onUsedTokensProblem: (detail) => logger.warn({ detail }, 'the record of used access tokens is not whole or cannot be rewritten'),
  });
  const auditFile = options.auditLogFile === undefined ? null : openAuditFile(options.auditLogFile, options.auditLimits);
  const audit =
    auditFile === null
      ? null
      : createCallAudit({
          file: auditFile,
          ...(options.now === undefined ? {} : { now: options.now }),
          onError: (error, fields) =>
            logger.warn({ err: error, method: fields.method, outcome: fields.outcome }, 'runtime audit entry could not be appended'),
        });

  const abac = createRuntimePolicy();
  /** access_control: abac: a call made for an operator meets the policy the control center pushed (agents-runtime/src/access). */
  const checkPolicy = (path: string, request: unknown, caller: Caller): void => {
    const view = access.current();
    const pushed = caller === null ? undefined : view.operator(caller.subject);
    abac.check({
      policyYaml: view.state.abacPolicyYaml,
      operator:
        caller && pushed
          ? { name: pushed.name, role: caller.role.ok ? caller.role.role : pushed.role, attributes: pushed.attributes }
          : null,
      method: path.slice(path.lastIndexOf('/') + 1),
      request,
      atMs: (options.now ?? Date.now)(),
    });
  };

  /** A unary handler: `work` may throw or reject with RuntimeError. */
  function unary<Req, Res>(name: string, work: (request: Req) => Res | Promise<Res>): UnaryHandler<Req, Res, Caller> {
    return async (call) => {
      try {
        checkPolicy(call.path, call.request, call.context);
        return await work(call.request);
      } catch (error) {
        if (!(error instanceof RuntimeError)) logger.warn({ method: name, err: error }, 'runtime API call failed unexpectedly');
        throw error;
      }
    };
  }

  /**
   * A server-streaming handler around a subscription. The stream ends when the client
   * cancels (the subscription is dropped), when the source calls `end`, or on close().
   */
  function stream<Req, Res>(
    subscribe: (request: Req, write: (message: Res) => void, end: (error?: unknown) => void) => Unsubscribe,
  ): StreamHandler<Req, Res, Caller> {
    return (call, sink) => {
      let done = false;
      let unsubscribe: Unsubscribe | undefined;
      const entry: OpenStream = {
        finish(status) {
          if (done) return;
          done = true;
          openStreams.delete(entry);
          unsubscribe?.();
          if (!call.cancelled) sink.end(status);
        },
      };
      openStreams.add(entry);
      call.onCancel(() => entry.finish());
      const write = (message: Res): void => {
        if (!done && !call.cancelled) sink.write(message);
      };
      const end = (error?: unknown): void => entry.finish(error === undefined ? undefined : statusFromError(error));
      try {
        checkPolicy(call.path, call.request, call.context);
        unsubscribe = subscribe(call.request, write, end);
        if (done) unsubscribe();
      } catch (error) {
        entry.finish(statusFromError(error));
      }
    };
  }

  const requireName = (name: string): string => {
    if (name.trim() === '')
      throw new RuntimeError(
        'PROCESS_NOT_FOUND',
        'the request names no process',
        'pass the name of a process from the manifest (ListProcesses shows them)',
      );
    return name;
  };

  const runtimeHandlers: OwnHandlers<RuntimeHandlers> = {
    GetInfo: unary('GetInfo', () => runtimeInfoToWire(api.info())),
    ListProcesses: unary('ListProcesses', () => ({ processes: api.listProcesses().map(processStatusToWire) })),
    StartProcess: unary('StartProcess', async (request) => {
      await api.start(requireName(request.name));
      return {};
    }),
    StopProcess: unary('StopProcess', async (request) => {
      await api.stop(requireName(request.name));
      return {};
    }),
    RestartProcess: unary('RestartProcess', async (request) => {
      await api.restart(requireName(request.name));
      return {};
    }),
    ScaleProcess: unary('ScaleProcess', async (request) => {
      await api.scale(requireName(request.name), request.replicas);
      return {};
    }),
    UpdateManifest: unary('UpdateManifest', async (request) => {
      await api.updateManifest(request.manifestYaml);
      return {};
    }),
    WatchEvents: stream((request, write) => api.watchEvents(sinceMsFromWire(request.sinceMs), (event) => write(eventToWire(event)))),
    StreamMetrics: stream((request, write) =>
      api.streamMetrics(sinceMsFromWire(request.sinceMs), (sample) => write(metricSampleToWire(sample))),
    ),
    TailLogs: stream((request, write, end) =>
      api.tailLogs(request.instance, request.lines, request.follow, (line) => write(logLineToWire(line)), end, request.maxBytes),
    ),
    SetAccessState: (call) => {
      const applied = access.replace(accessStateFromWire(call.request));
      logger.info({ version: applied.state.version, by: call.context?.subject ?? null }, 'access state applied');
      return { version: String(applied.state.version) };
    },
  };

  const servingStatus = (service: string): HealthCheckResponse['status'] | null => {
    if (service !== '' && service !== RUNTIME_SERVICE && service !== HEALTH_SERVICE) return null;
    try {
      return api.health();
    } catch {
      return 'NOT_SERVING';
    }
  };

  const healthHandlers: OwnHandlers<HealthHandlers> = {
    // The standard answer to an unknown service is NOT_FOUND, without the runtime's metadata.
    Check: (call) => {
      const status = servingStatus(call.request.service);
      if (status === null) throw new CallStatusError({ code: GrpcCode.NOT_FOUND, details: `unknown service ${call.request.service}` });
      return { status };
    },
    // Sends the status now and again whenever it changes, until the client cancels.
    Watch: stream((request: HealthCheckRequest__Output, write) => {
      let last: HealthCheckResponse['status'] | undefined;
      const poll = (): void => {
        const status = servingStatus(request.service) ?? 'SERVICE_UNKNOWN';
        if (status !== last) write({ status });
        last = status;
      };
      poll();
      const timer = setInterval(poll, HEALTH_POLL_MS);
      timer.unref();
      return () => clearInterval(timer);
    }),
  };

  const server = createGrpcServer<Caller>({
    tls: { caPem: options.tls.caCertPem, certPem: options.tls.certPem, keyPem: options.tls.keyPem },
    admit: admitter(logger, access, tokens),
    statusOf: (error) => statusFromError(error),
    onServeError: (error) => logger.warn({ reason: String(error) }, 'runtime API cannot serve a connection: its TLS material was refused'),
    onCallEnd: (call, status, refused) =>
      audit?.record({
        methodPath: call.path,
        caller: call.context ?? null,
        peer: call.peer,
        request: call.request,
        outcome: outcomeOf(status),
        refused,
      }),
  });
  const serve = <Handlers extends object>(service: Record<string, MethodSpec<unknown, unknown>>, handlers: Handlers): void => {
    for (const [name, handler] of Object.entries(handlers)) {
      const method = service[name];
      if (method === undefined) throw new RuntimeError('INTERNAL', `no method ${name} in the API`, 'this is a defect of sutazai-runtime');
      if (method.responseStream) server.addServerStream(method, handler as StreamHandler<unknown, unknown, unknown>);
      else server.addUnary(method, handler as UnaryHandler<unknown, unknown, unknown>);
    }
  };
  serve(runtimeService, runtimeHandlers);
  serve(healthService, healthHandlers);

  const port = await server.listen(host, Number(splitAddress(address).port)).catch(async (error: unknown) => {
    await server.close(0);
    auditFile?.close();
    tokens.close();
    throw new RuntimeError(
      'CONFIG_INVALID',
      `the runtime API cannot listen on ${address}: ${(error as Error).message}`,
      'choose a free port or an address of this machine in the runtime config, or stop what holds the port',
      { cause: error },
    );
  });
  const boundAddress = `${host}:${port}`;
  logger.info({ address: boundAddress }, 'runtime API listening (TLS, client certificates required)');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closing === undefined) {
      for (const open of [...openStreams])
        open.finish({ code: GrpcCode.UNAVAILABLE, details: 'sutazai-runtime is shutting down', metadata: new CallMetadata() });
      // Calls still ending after the shutdown have nothing to append to: the entry is lost, the daemon's log says so.
      closing = server.close(SHUTDOWN_GRACE_MS).then(() => {
        auditFile?.close();
        tokens.close();
      });
    }
    return closing;
  };

  return { address: boundAddress, port, close };
}

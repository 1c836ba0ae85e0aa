/**
 * The runtime's gRPC server: TLS with required client certificates from the install's CA,
 * the caller identified (certificate, access token, pushed access state: caller-identity.ts)
 * and their role checked on every call by one interceptor (role-policy.ts), the Runtime
 * service mapped onto a RuntimeApi, and the standard grpc.health.v1 service.
 */
import * as grpc from '@grpc/grpc-js';
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
import { loadRuntimeProtos } from '../wire/load-proto';
import { createRuntimePolicy } from '../access/runtime-policy';
import { ERROR_CODE_HEADER } from '../wire/error-metadata';
import { openAuditFile, type AuditLimits } from '../audit/audit-file';
import { createCallAudit, type CallAudit } from '../audit/call-audit';

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
  /** Where runtime.proto and health.proto live; default agents-runtime/proto (from source). */
  protoDir?: string;
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

/**
 * Set by the interceptor on the metadata a handler sees, after removing any value the
 * client sent under this name: the identified caller, as JSON (callerOf reads it).
 */
const CALLER_METADATA_KEY = 'x-sutazai-caller';

/** The caller the interceptor identified for this call (handlers only). */
export function callerOf(metadata: grpc.Metadata): CallerIdentity | null {
  const value = metadata.get(CALLER_METADATA_KEY)[0];
  return typeof value === 'string' ? (JSON.parse(value) as CallerIdentity) : null;
}

/** A status as a call ends with it (grpc-js's PartialStatusObject, not exported). */
type EndStatus = Pick<grpc.StatusObject, 'code' | 'details'> & { metadata?: grpc.Metadata | null };

/** `ok`, or the runtime's error code a status carries (the gRPC status name when it carries none). */
function outcomeOf(status: EndStatus): string {
  if (status.code === grpc.status.OK) return 'ok';
  const code = status.metadata?.get(ERROR_CODE_HEADER)[0];
  return typeof code === 'string' ? code : (grpc.status[status.code] ?? 'UNKNOWN');
}

/**
 * Identifies the caller of every call and refuses it when revoked, badly tokened or short of
 * the role the method needs; reports each call's end, refusals included, to the audit log.
 */
function accessInterceptor(
  logger: RuntimeServerLogger,
  access: AccessStateStore,
  tokens: AccessTokenVerifier,
  audit: CallAudit | null,
): grpc.ServerInterceptor {
  return (method, call) => {
    let caller: CallerIdentity | null = null;
    let request: unknown = null;
    const record = (status: EndStatus, refused: boolean) =>
      audit?.record({ methodPath: method.path, caller, peer: call.getPeer(), request, outcome: outcomeOf(status), refused });
    const refuse = (status: grpc.StatusObject) => {
      record(status, true);
      call.sendStatus(status);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            const cert = call.getAuthContext().sslPeerCertificate;
            const authorization = metadata.get('authorization')[0];
            metadata.remove(CALLER_METADATA_KEY);
            identifyCaller(cert, typeof authorization === 'string' ? authorization : undefined, access.current(), tokens).then(
              (identified) => {
                caller = identified;
                const lost = access.lost();
                if (lost !== null && !identified.controlCenter) {
                  refuse(accessStateLost(lost));
                  return;
                }
                const decision =
                  CONTROL_CENTER_METHODS.has(method.path) && !identified.controlCenter
                    ? controlCenterOnly(method.path)
                    : authorize(method.path, identified.role);
                if (decision.allowed) {
                  metadata.set(CALLER_METADATA_KEY, JSON.stringify(identified));
                  pass(metadata);
                  return;
                }
                logger.warn(
                  {
                    method: method.path,
                    peer: call.getPeer(),
                    subject: identified.subject,
                    role: identified.role.ok ? identified.role.role : null,
                  },
                  'runtime API call refused: permission denied',
                );
                refuse(statusFor('PERMISSION_DENIED', decision.message, decision.remedy));
              },
              (error: unknown) => {
                // A token cannot be checked against the lost state (no keys): the loss is the reason to give.
                const lost = access.lost();
                const status = lost === null ? statusFromError(error) : accessStateLost(lost);
                logger.warn({ method: method.path, peer: call.getPeer(), reason: status.details }, 'runtime API call refused: credentials');
                refuse(status);
              },
            );
          },
          onReceiveMessage: (message, pass) => {
            request = message;
            pass(message);
          },
        });
      },
      // Every status a handler sends passes here (a refusal above goes around it).
      sendStatus: (status, next) => {
        record(status, false);
        next(status);
      },
    });
  };
}

/** Everyone but the control center's own certificate is refused until the next push restores the state (access-state.ts lost). */
function accessStateLost(lost: string): grpc.StatusObject {
  return statusFor(
    'ACCESS_STATE_LOST',
    `this runtime lost its access state (${lost}), so it cannot tell who may call it`,
    'it serves only the control center until the control center pushes the state again: wait until its link to this host is up, then retry',
  );
}

interface OpenStream {
  finish(status?: grpc.StatusObject): void;
}

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  const logger = options.logger ?? silentLogger;
  const { api } = options;
  const address = options.address ?? DEFAULT_ADDRESS;
  const { host } = splitAddress(address);

  const { notAfter } = checkServerTlsMaterial(options.tls);
  if (notAfter.getTime() - Date.now() < EXPIRY_WARNING_MS) {
    logger.warn({ notAfter: notAfter.toISOString() }, 'the runtime server certificate expires within 14 days: renew it');
  }
  if (!isLoopbackHost(host)) {
    logger.warn({ address }, 'the runtime API listens beyond loopback, as configured');
  }

  const protos = loadRuntimeProtos(options.protoDir);
  const runtimeService = protos.sutazai.runtime.v1.Runtime.service;
  const healthService = protos.grpc.health.v1.Health.service;
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
  const checkPolicy = (path: string, request: unknown, metadata: grpc.Metadata): void => {
    const caller = callerOf(metadata);
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
  function unary<Req, Res>(name: string, work: (request: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => {
          checkPolicy(call.getPath(), call.request, call.metadata);
          return work(call.request);
        })
        .then(
          (response) => callback(null, response),
          (error: unknown) => {
            if (!(error instanceof RuntimeError)) logger.warn({ method: name, err: error }, 'runtime API call failed unexpectedly');
            callback(statusFromError(error));
          },
        );
    };
  }

  /**
   * A server-streaming handler around a subscription. The stream ends when the client
   * cancels (the subscription is dropped), when the source calls `end`, or on close().
   */
  function stream<Req, Res>(
    subscribe: (request: Req, write: (message: Res) => void, end: (error?: unknown) => void) => Unsubscribe,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      let done = false;
      let unsubscribe: Unsubscribe | undefined;
      const entry: OpenStream = {
        finish(status) {
          if (done) return;
          done = true;
          openStreams.delete(entry);
          unsubscribe?.();
          if (call.cancelled) return;
          if (status) call.emit('error', status);
          else call.end();
        },
      };
      openStreams.add(entry);
      call.on('cancelled', () => entry.finish());
      call.on('error', () => entry.finish());
      const write = (message: Res): void => {
        if (!done && !call.cancelled) call.write(message);
      };
      const end = (error?: unknown): void => entry.finish(error === undefined ? undefined : statusFromError(error));
      try {
        checkPolicy(call.getPath(), call.request, call.metadata);
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

  const runtimeHandlers: RuntimeHandlers = {
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
    SetAccessState: (call, callback) => {
      try {
        const applied = access.replace(accessStateFromWire(call.request));
        const caller = callerOf(call.metadata);
        logger.info({ version: applied.state.version, by: caller?.subject ?? null }, 'access state applied');
        callback(null, { version: String(applied.state.version) });
      } catch (error) {
        callback(statusFromError(error));
      }
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

  const healthHandlers: HealthHandlers = {
    // The standard answer to an unknown service is NOT_FOUND, without the runtime's metadata.
    Check: (call, callback) => {
      const status = servingStatus(call.request.service);
      if (status === null) callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, { status });
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

  const server = new grpc.Server({ interceptors: [accessInterceptor(logger, access, tokens, audit)] });
  server.addService(runtimeService, runtimeHandlers);
  server.addService(healthService, healthHandlers);

  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(options.tls.caCertPem),
    [{ cert_chain: Buffer.from(options.tls.certPem), private_key: Buffer.from(options.tls.keyPem) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, boundPort) => {
      if (error) {
        reject(
          new RuntimeError(
            'CONFIG_INVALID',
            `the runtime API cannot listen on ${address}: ${error.message}`,
            'choose a free port or an address of this machine in the runtime config, or stop what holds the port',
            {
              cause: error,
            },
          ),
        );
      } else resolve(boundPort);
    });
  }).catch((error: unknown) => {
    server.forceShutdown();
    auditFile?.close();
    tokens.close();
    throw error;
  });
  const boundAddress = `${host}:${port}`;
  logger.info({ address: boundAddress }, 'runtime API listening (TLS, client certificates required)');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const open of [...openStreams])
        open.finish({ code: grpc.status.UNAVAILABLE, details: 'sutazai-runtime is shutting down', metadata: new grpc.Metadata() });
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    // Calls still ending after the shutdown have nothing to append to: the entry is lost, the daemon's log says so.
    return closing.then(() => {
      auditFile?.close();
      tokens.close();
    });
  };

  return { address: boundAddress, port, close };
}

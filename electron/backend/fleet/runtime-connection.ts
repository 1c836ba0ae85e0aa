import * as grpc from '@grpc/grpc-js';
import type { ApiError } from '../../contract';
import type { HealthCheckResponse__Output, GetInfoResponse__Output, ProcessStatus__Output } from '../../../agents-runtime/src/wire';
import { describeEndpoint } from '../hosts/ssh/ssh-endpoint';
import type { SshSession } from '../hosts/ssh/ssh-session';
import { LOOPBACK_DNS_NAME, LOOPBACK_IP_ADDRESS } from '../pki/issue-certificate';
import { diagnoseRuntimeTls, type TlsDiagnosis } from './diagnose-runtime-tls';
import { runtimeCallError } from './runtime-call-error';
import { runtimeProtos } from './runtime-protos';
import { checkRuntimeTls, runtimeChannelCredentials, type RuntimeTls } from './runtime-tls';
import { openSshTunnel } from './ssh-tunnel';

export type { RuntimeTls } from './runtime-tls';

/**
 * The control center's line to one runtime: an SSH tunnel from this machine's loopback
 * to the runtime's loopback port on the host, and a gRPC channel over TLS through it,
 * the install's CA as the only root and the operator's certificate (with its role) as
 * the client's. Every call has a deadline, so a link that dies without a word fails a
 * call in bounded time; every failure is an ApiError with a remedy (runtime-call-error.ts).
 */
export interface OpenRuntimeConnectionOptions {
  /** A logged-in session to the host (hosts/ssh connectSsh: its key pinned and checked). */
  session: SshSession;
  /** The runtime's port on the host's loopback (the `listen` of its config). */
  runtimePort: number;
  /** Default 127.0.0.1: the runtime listens on loopback unless told otherwise. */
  runtimeAddress?: string;
  tls: RuntimeTls;
  /** The name TLS checks in the server certificate; default `localhost`, which the install's server certificates always carry. */
  serverName?: string;
  /** Deadline of each call; default 10 s. */
  callTimeoutMs?: number;
  /** Where runtime.proto is, when not found by itself (runtime-protos.ts). */
  protoDir?: string;
}

export type ServingStatus = HealthCheckResponse__Output['status'];

export interface RuntimeConnection {
  /** The port of the tunnel on this machine's 127.0.0.1. */
  readonly localPort: number;
  getInfo(): Promise<GetInfoResponse__Output>;
  listProcesses(): Promise<ProcessStatus__Output[]>;
  /** The standard gRPC health check of the runtime as a whole. */
  checkHealth(): Promise<ServingStatus>;
  /** Cancels calls in flight, closes the channel and the tunnel; leaves the SSH session open. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
// The handshake that explains a failed call; bounded apart from the call's own deadline.
const DIAGNOSIS_TIMEOUT_MS = 3_000;

export async function openRuntimeConnection(options: OpenRuntimeConnectionOptions): Promise<RuntimeConnection> {
  const { session, tls } = options;
  const runtimeHost = options.runtimeAddress ?? LOOPBACK_IP_ADDRESS;
  const serverName = options.serverName ?? LOOPBACK_DNS_NAME;
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const protos = runtimeProtos({ protoDir: options.protoDir });
  // A wrong, expired or foreign operator certificate is named here, with its remedy,
  // rather than met later as a handshake the runtime hangs up on.
  checkRuntimeTls(tls);
  const credentials = runtimeChannelCredentials(tls);
  if (session.lost !== null) throw session.lost;

  const tunnel = await openSshTunnel(session, { address: runtimeHost, port: options.runtimePort });
  const target = `127.0.0.1:${tunnel.localPort}`;
  const runtime = new protos.sutazai.runtime.v1.Runtime(target, credentials, {
    // The tunnel's address is 127.0.0.1:<port>; TLS checks the runtime's name instead.
    'grpc.ssl_target_name_override': serverName,
    'grpc.default_authority': serverName,
    // This connection's own subchannel: closing it must not touch another connection's.
    'grpc.use_local_subchannel_pool': 1,
  });
  const health = new protos.grpc.health.v1.Health(target, credentials, { channelOverride: runtime.getChannel() });

  const inFlight = new Set<grpc.ClientUnaryCall>();
  let closing: Promise<void> | undefined;
  const host = describeEndpoint(session.endpoint);
  const runtimeAddress = `${runtimeHost}:${options.runtimePort}`;

  async function explain(method: string, error: unknown): Promise<ApiError> {
    const closed = closing !== undefined;
    let diagnosis: TlsDiagnosis | null = null;
    const unavailable = (error as { code?: unknown }).code === grpc.status.UNAVAILABLE;
    if (unavailable && !closed && session.lost === null && !session.closed && tunnel.lastFailure === null) {
      diagnosis = await diagnoseRuntimeTls(tunnel.localPort, tls, serverName, DIAGNOSIS_TIMEOUT_MS);
    }
    // Read after the diagnosis: its own connection may have met the tunnel's failure.
    return runtimeCallError(error, {
      method,
      host,
      runtimeAddress,
      serverName,
      timeoutMs,
      closed,
      sessionLost: session.lost,
      sessionClosed: session.closed,
      tunnelFailure: tunnel.lastFailure,
      tls: diagnosis,
    });
  }

  function call<T>(
    method: string,
    start: (options: grpc.CallOptions, callback: grpc.requestCallback<T>) => grpc.ClientUnaryCall,
  ): Promise<T> {
    if (closing !== undefined) return explain(method, new Error('closed')).then((error) => Promise.reject(error));
    return new Promise<T>((resolve, reject) => {
      const pending = start({ deadline: Date.now() + timeoutMs }, (error, value) => {
        inFlight.delete(pending);
        if (error) void explain(method, error).then(reject);
        else resolve(value as T);
      });
      inFlight.add(pending);
    });
  }

  return {
    localPort: tunnel.localPort,
    getInfo: () => call<GetInfoResponse__Output>('GetInfo', (o, cb) => runtime.GetInfo({}, o, cb)),
    listProcesses: () =>
      call<{ processes: ProcessStatus__Output[] }>('ListProcesses', (o, cb) => runtime.ListProcesses({}, o, cb)).then((r) => r.processes),
    checkHealth: () =>
      call<HealthCheckResponse__Output>('Health/Check', (o, cb) => health.Check({ service: '' }, o, cb)).then((r) => r.status),
    close() {
      closing ??= (async () => {
        for (const pending of inFlight) pending.cancel();
        runtime.close();
        await tunnel.close();
      })();
      return closing;
    },
  };
}

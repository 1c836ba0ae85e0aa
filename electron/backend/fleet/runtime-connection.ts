import * as grpc from '@grpc/grpc-js';
import type { ApiError } from '../../contract';
import {
  createSampleWireReader,
  type GetInfoResponse__Output,
  type HealthCheckResponse__Output,
  type LogLine__Output,
  type MetricSample__Output,
  type ProcessStatus__Output,
  type RuntimeEvent__Output,
  type SeriesSample,
  type SetAccessStateRequest,
} from '../../../agents-runtime/src/wire';
import { describeEndpoint } from '../hosts/ssh/ssh-endpoint';
import type { SshSession } from '../hosts/ssh/ssh-session';
import { LOOPBACK_DNS_NAME, LOOPBACK_IP_ADDRESS } from '../pki/issue-certificate';
import { diagnoseRuntimeTls, type TlsDiagnosis } from './diagnose-runtime-tls';
import { readServerCertificate, type PresentedCertificate } from './read-server-certificate';
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
 * Streams have no deadline (they are meant to stay open): a dead link ends them through the
 * SSH session's keepalive or the caller's own liveness check (fleet/link).
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
  /** Called whenever the runtime is heard from: a call answered (even with an error status) or a stream message. */
  onActivity?: () => void;
}

export type ServingStatus = HealthCheckResponse__Output['status'];

/**
 * A server stream from the runtime, read once with `for await`. It starts when it is asked
 * for (messages wait, with backpressure, until read). It ends quietly when the runtime ends
 * it or the reader calls cancel() or leaves the loop; any other end (the link lost, the
 * connection closed, the runtime refusing) is thrown from the loop as the same explained
 * ApiError a unary call gives.
 */
export interface RuntimeStream<T> extends AsyncIterable<T> {
  /** Ends the stream; the loop reading it finishes without an error. Idempotent. */
  cancel(): void;
}

export interface RuntimeConnection {
  /** The port of the tunnel on this machine's 127.0.0.1. */
  readonly localPort: number;
  getInfo(): Promise<GetInfoResponse__Output>;
  listProcesses(): Promise<ProcessStatus__Output[]>;
  /** The standard gRPC health check of the runtime as a whole. */
  checkHealth(): Promise<ServingStatus>;
  /** The server certificate the runtime presents (its expiry, for the certificate-expiry alert). */
  serverCertificate(): Promise<PresentedCertificate>;
  /** Samples at or after `sinceMs` the runtime's ring buffer still holds, then live ones; 0: live only. */
  streamMetrics(sinceMs: number): RuntimeStream<MetricSample__Output>;
  /** The same stream read straight into series values (sample-wire-reader.ts): what the metric ingest stores. */
  streamSeries(sinceMs: number): RuntimeStream<SeriesSample>;
  /** The runtime's events as they happen (`sinceMs`: a backfill point, for a runtime that keeps past events). */
  watchEvents(request?: { sinceMs?: number }): RuntimeStream<RuntimeEvent__Output>;
  /** An instance's last `lines` lines, then (with `follow`) new ones until cancelled. */
  /** `maxBytes` (without follow): the last whole lines within as many bytes; a runtime older than the field answers by `lines`. */
  tailLogs(
    request: { instance: string; lines: number; follow: boolean; maxBytes?: number },
    token?: OperatorToken,
  ): RuntimeStream<LogLine__Output>;
  startProcess(name: string, token?: OperatorToken): Promise<void>;
  stopProcess(name: string, token?: OperatorToken): Promise<void>;
  restartProcess(name: string, token?: OperatorToken): Promise<void>;
  scaleProcess(name: string, replicas: number, token?: OperatorToken): Promise<void>;
  /** Pushes who may call the runtime (admin): answers the version the runtime now holds. */
  setAccessState(state: SetAccessStateRequest): Promise<number>;
  /** Sends a new manifest (admin): the runtime restarts only the processes whose settings differ. */
  updateManifest(manifestYaml: string): Promise<void>;
  /** Cancels calls and streams in flight, closes the channel and the tunnel; leaves the SSH session open. Idempotent. */
  close(): Promise<void>;
}

/**
 * The access token of the operator a call is made for (fleet/credentials), sent as
 * `authorization: Bearer`; null or absent: the call goes as the connection's certificate.
 */
export type OperatorToken = string | null;

function tokenMetadata(token: OperatorToken | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** A streaming request's since_ms (StreamMetrics, WatchEvents): whole milliseconds, never negative, as the wire's int64 string. */
const sinceRequest = (sinceMs: number) => ({ sinceMs: String(Math.max(0, Math.trunc(sinceMs))) });
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

  const inFlight = new Set<grpc.ClientUnaryCall | grpc.ClientReadableStream<unknown>>();
  const heard = options.onActivity ?? (() => {});
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
        // A status from the runtime is hearing from it; a deadline or a lost link is not.
        if (!error || (error.code !== grpc.status.UNAVAILABLE && error.code !== grpc.status.DEADLINE_EXCEEDED)) heard();
        if (error) void explain(method, error).then(reject);
        else resolve(value as T);
      });
      inFlight.add(pending);
    });
  }

  function stream<T>(method: string, start: () => grpc.ClientReadableStream<T>): RuntimeStream<T> {
    // Started now, so that what the runtime sends from this moment on is not missed.
    const pending = closing === undefined ? start() : null;
    let cancelled = false;
    // grpc-js reports a failed stream by an 'error' event after the last message, which a
    // loop that is not reading at that moment would never see: it is kept here instead.
    let failure: unknown = null;
    if (pending !== null) {
      inFlight.add(pending);
      pending.on('error', (error) => (failure = error));
      pending.on('status', () => inFlight.delete(pending));
    }
    let iterated = false;
    async function* read(): AsyncGenerator<T> {
      if (pending === null) throw await explain(method, new Error('closed'));
      try {
        try {
          for await (const message of pending) {
            heard();
            yield message as T;
          }
        } catch (error) {
          failure ??= error;
        }
        const endedByCancel = cancelled && (failure as { code?: unknown } | null)?.code === grpc.status.CANCELLED;
        if (failure !== null && !endedByCancel) throw await explain(method, failure);
      } finally {
        // Leaving the loop early (break, return, a throw in its body) ends the call on the runtime too.
        inFlight.delete(pending);
        pending.cancel();
      }
    }
    return {
      cancel() {
        if (cancelled) return;
        cancelled = true;
        pending?.cancel();
      },
      [Symbol.asyncIterator]() {
        if (iterated) throw new Error(`a ${method} stream is read once`);
        iterated = true;
        return read();
      },
    };
  }

  const noAnswer = (): void => {};

  return {
    localPort: tunnel.localPort,
    getInfo: () => call<GetInfoResponse__Output>('GetInfo', (o, cb) => runtime.GetInfo({}, o, cb)),
    listProcesses: () =>
      call<{ processes: ProcessStatus__Output[] }>('ListProcesses', (o, cb) => runtime.ListProcesses({}, o, cb)).then((r) => r.processes),
    checkHealth: () =>
      call<HealthCheckResponse__Output>('Health/Check', (o, cb) => health.Check({ service: '' }, o, cb)).then((r) => r.status),
    serverCertificate: () => readServerCertificate(tunnel.localPort, tls, serverName, timeoutMs),
    streamMetrics: (sinceMs) => stream('StreamMetrics', () => runtime.StreamMetrics(sinceRequest(sinceMs))),
    streamSeries(sinceMs) {
      const method = protos.sutazai.runtime.v1.Runtime.service.StreamMetrics;
      // The same call with a deserializer of its own, one per stream (it keeps the series' names).
      return stream('StreamMetrics', () =>
        runtime.makeServerStreamRequest(method.path, method.requestSerialize, createSampleWireReader(), sinceRequest(sinceMs)),
      );
    },
    watchEvents(request = {}) {
      // since_ms is sent when asked for; a runtime whose WatchEventsRequest lacks it ignores the field.
      const wire = request.sinceMs !== undefined ? sinceRequest(request.sinceMs) : {};
      return stream('WatchEvents', () => runtime.WatchEvents(wire));
    },
    tailLogs: ({ instance, lines, follow, maxBytes }, token) =>
      stream('TailLogs', () => runtime.TailLogs({ instance, lines, follow, maxBytes: maxBytes ?? 0 }, tokenMetadata(token))),
    startProcess: (name, token) =>
      call('StartProcess', (o, cb) => runtime.StartProcess({ name }, tokenMetadata(token), o, cb)).then(noAnswer),
    stopProcess: (name, token) => call('StopProcess', (o, cb) => runtime.StopProcess({ name }, tokenMetadata(token), o, cb)).then(noAnswer),
    restartProcess: (name, token) =>
      call('RestartProcess', (o, cb) => runtime.RestartProcess({ name }, tokenMetadata(token), o, cb)).then(noAnswer),
    scaleProcess: (name, replicas, token) =>
      call('ScaleProcess', (o, cb) => runtime.ScaleProcess({ name, replicas }, tokenMetadata(token), o, cb)).then(noAnswer),
    setAccessState: (state) =>
      call<{ version: string }>('SetAccessState', (o, cb) => runtime.SetAccessState(state, o, cb)).then((r) => Number(r.version)),
    updateManifest: (manifestYaml) => call('UpdateManifest', (o, cb) => runtime.UpdateManifest({ manifestYaml }, o, cb)).then(noAnswer),
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

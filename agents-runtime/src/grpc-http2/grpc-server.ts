/**
 * A gRPC server on Node's own HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): TLS with required client
 * certificates, unary and server-streaming methods, deadlines, metadata and statuses as
 * grpc-js's clients (the control center) send and read them.
 *
 * Why not @grpc/grpc-js's Server: the daemon is meant to stay small (issue 13: its whole
 * footprint at most 0.75x PM2's). grpc-js brings its client, channel, resolvers, load
 * balancers and channelz with the server, ~590 KB of bundled code: a grpc-js server with
 * one method is ~3 MB more PSS than a Node HTTP/2 TLS server answering the same stream
 * (measured in one Node process each, 10 s after start). The runtime serves two services of
 * unary and server-streaming calls and compresses nothing; that is what this implements.
 *
 * Every call: its message read (one, at most maxReceiveBytes), decoded, then `admit`
 * (the caller's identity and role) before its handler runs; `onCallEnd` hears once how each
 * call that reached `admit` ended, a call its client cancelled included (CANCELLED): its
 * handler may already have changed something, and the audit log must say so.
 */
import type { Http2SecureServer, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { createDeferredServer } from '../listen/deferred-server';
import { CallMetadata } from './call-metadata';
import { DEFAULT_MAX_RECEIVE_BYTES, FramingError, frameMessage, MessageReader } from './message-framing';
import { startLongTimer, type LongTimer } from './long-timer';
import { encodeGrpcMessage, parseGrpcTimeout } from './protocol-headers';
import { GrpcCode } from './status-codes';

export interface CallStatus {
  code: number;
  details: string;
  metadata?: CallMetadata | null;
}

/** Thrown by a handler to end its call with exactly this status. */
export class CallStatusError extends Error {
  constructor(readonly status: CallStatus) {
    super(status.details);
  }
}

/** What a method needs here (wire/runtime-api-codec.ts builds them; @grpc/grpc-js's MethodDefinition fits too). */
export interface MethodSpec<Req, Res> {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize(bytes: Buffer): Req;
  responseSerialize(message: Res): Buffer;
}

/** A call as `admit` sees it: everything the client sent, and who it is at the TLS level. */
export interface ArrivedCall<Req = unknown> {
  readonly path: string;
  readonly request: Req;
  readonly metadata: CallMetadata;
  /** `address:port` of the client, as grpc-js's getPeer gives it. */
  readonly peer: string;
  /** The client's certificate TLS verified (undefined if none was presented). */
  readonly peerCertificate: PeerCertificate | undefined;
}

export interface ServerCall<Req, C> extends ArrivedCall<Req> {
  /** What `admit` gave for this call (the caller's identity). */
  readonly context: C;
  /** True once the client cancelled, the deadline passed or the server closed the call. */
  readonly cancelled: boolean;
  onCancel(listener: () => void): void;
}

export type UnaryHandler<Req, Res, C> = (call: ServerCall<Req, C>) => Res | Promise<Res>;

export interface StreamSink<Res> {
  /** Sends a message; nothing once the call has ended. */
  write(message: Res): void;
  /** Ends the call: OK without a status. Later calls do nothing. */
  end(status?: CallStatus): void;
}

export type StreamHandler<Req, Res, C> = (call: ServerCall<Req, C>, sink: StreamSink<Res>) => void;

export interface Admission<C> {
  context: C;
  /** Set to refuse the call with this status (its handler does not run). */
  refused?: CallStatus;
}

export interface GrpcServerTls {
  caPem: string | Buffer;
  certPem: string | Buffer;
  keyPem: string | Buffer;
}

export interface GrpcServerOptions<C> {
  tls: GrpcServerTls;
  admit(call: ArrivedCall): Promise<Admission<C>>;
  /** The status a handler's error ends its call with (a CallStatusError's own status is used as it is). */
  statusOf(error: unknown, path: string): CallStatus;
  /** How an admitted or refused call ended, once (CANCELLED when the client cancelled it or its connection went). */
  onCallEnd?(call: ArrivedCall & { context: C | undefined }, status: CallStatus, refused: boolean): void;
  /**
   * Told when the HTTP/2 TLS server cannot be made at a connection (its TLS material refused
   * by OpenSSL though it passed the start's checks): that connection is closed, the next tries again.
   */
  onServeError?(error: unknown): void;
  /**
   * The most one request message may hold (default 4 MiB, as grpc-js). The requests a connection
   * is still receiving may hold 4 times that together: a call's message is read before it is
   * admitted, and a client that never ends its streams would otherwise pin this much for each
   * of maxConcurrentStreams streams.
   */
  maxReceiveBytes?: number;
  /**
   * Bytes the streams of one connection may hold unsent together, for a client that does not
   * read, before the stream that passes it is cut (RST_STREAM ENHANCE_YOUR_CALM, which grpc-js
   * reports as RESOURCE_EXHAUSTED): a stalled reader of a log tail must not grow the daemon
   * without bound, and a limit per stream alone is multiplied by the streams one connection
   * opens (maxConcurrentStreams). Default 32 MiB.
   */
  maxBufferedBytes?: number;
  /** HTTP/2 streams one connection may have open at once (default 1000). */
  maxConcurrentStreams?: number;
}

export interface GrpcServer {
  addUnary<Req, Res>(method: MethodSpec<Req, Res>, handler: UnaryHandler<Req, Res, unknown>): void;
  addServerStream<Req, Res>(method: MethodSpec<Req, Res>, handler: StreamHandler<Req, Res, unknown>): void;
  /** Binds `host:port` (port 0: any free one); resolves with the port bound. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops taking connections, lets open calls finish for `graceMs`, then cuts what is left;
   * resolves when every connection is closed. Idempotent.
   */
  close(graceMs: number): Promise<void>;
}

type Registered =
  | { kind: 'unary'; method: MethodSpec<unknown, unknown>; handler: UnaryHandler<unknown, unknown, unknown> }
  | { kind: 'stream'; method: MethodSpec<unknown, unknown>; handler: StreamHandler<unknown, unknown, unknown> };

/** How a call ends when its stream closes before the server ended it. */
const CANCELLED_BY_CLIENT: CallStatus = {
  code: GrpcCode.CANCELLED,
  details: 'the client cancelled the call or its connection closed',
};

/** RST_STREAM's ENHANCE_YOUR_CALM (RFC 9113, 7): `node:http2` is not loaded before a connection needs it. */
const NGHTTP2_ENHANCE_YOUR_CALM = 0x0b;

const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity',
};

export function createGrpcServer<C>(options: GrpcServerOptions<C>): GrpcServer {
  const methods = new Map<string, Registered>();
  const sessions = new Set<Http2Session>();
  /** The open call streams of each connection: what they hold unsent is bounded together. */
  const streamsOf = new Map<Http2Session, Set<ServerHttp2Stream>>();
  const maxReceiveBytes = options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES;
  const maxConnectionReceiveBytes = 4 * maxReceiveBytes;
  /** Request bytes each connection's calls hold while their requests are still arriving. */
  const receivingOf = new Map<Http2Session, { bytes: number }>();
  const maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
  /**
   * The HTTP/2 TLS server, made at the first connection (listen/deferred-server.ts says why):
   * `node:http2` is loaded then, not when the daemon starts. The TLS material was checked at
   * start (server/server-certificate.ts), so a bad key still fails the start, not a client.
   */
  function makeSecureServer(): Http2SecureServer {
    const http2 = process.getBuiltinModule('node:http2');
    const server = http2.createSecureServer({
      ca: options.tls.caPem,
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
      allowHTTP1: false,
      settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 },
    });
    server.on('secureConnection', (socket: TLSSocket) => socket.on('error', () => undefined));
    server.on('session', (session) => {
      sessions.add(session);
      streamsOf.set(session, new Set());
      receivingOf.set(session, { bytes: 0 });
      session.once('close', () => {
        sessions.delete(session);
        streamsOf.delete(session);
        receivingOf.delete(session);
      });
      // A connection's failures (a peer that resets, garbage frames) end that connection only.
      session.on('error', () => undefined);
    });
    server.on('stream', (stream, headers) => serveStream(stream, headers));
    return server;
  }
  const listener = createDeferredServer({
    make: makeSecureServer,
    onMakeError: (error) => options.onServeError?.(error),
  });

  function register(kind: Registered['kind'], method: MethodSpec<unknown, unknown>, handler: Registered['handler']): void {
    if (method.requestStream || method.responseStream !== (kind === 'stream'))
      throw new Error(`${method.path} is not a ${kind === 'stream' ? 'server-streaming' : 'unary'} method`);
    if (methods.has(method.path)) throw new Error(`${method.path} is registered twice`);
    methods.set(method.path, { kind, method, handler } as Registered);
  }

  function serveStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // RST_STREAM from the client or a connection torn down: the call's 'close' handles it.
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'POST') {
      stream.respond({ ':status': 405 }, { endStream: true });
      return;
    }
    if (!String(headers['content-type'] ?? '').startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = String(headers[':path'] ?? '');
    const registered = methods.get(path);
    if (registered === undefined) {
      sendTrailersOnly(stream, { code: GrpcCode.UNIMPLEMENTED, details: `The server does not implement the method ${path}` });
      return;
    }
    new ServingCall(stream, headers, path, registered).start();
  }

  class ServingCall {
    private readonly reader = new MessageReader(maxReceiveBytes);
    private readonly requests: Buffer[] = [];
    private readonly cancelListeners: Array<() => void> = [];
    private readonly metadata: CallMetadata;
    private readonly peer: string;
    private readonly peerCertificate: PeerCertificate | undefined;
    private deadline: LongTimer | undefined;
    private arrived: (ArrivedCall & { context: C | undefined }) | null = null;
    /** onCallEnd has been told. */
    private reported = false;
    /** The handler has been started. */
    private admitted = false;
    private headersSent = false;
    private ended = false;
    private cancelled = false;
    private trailers: Record<string, string | string[]> = {};
    /** This call's share of its connection's request bytes still arriving. */
    private readonly receiving: { bytes: number } | undefined;
    private held = 0;

    constructor(
      private readonly stream: ServerHttp2Stream,
      headers: IncomingHttpHeaders,
      private readonly path: string,
      private readonly registered: Registered,
    ) {
      this.metadata = CallMetadata.fromHeaders(headers);
      this.receiving = stream.session === undefined ? undefined : receivingOf.get(stream.session);
      const socket = stream.session?.socket as TLSSocket | undefined;
      this.peer =
        socket?.remoteAddress === undefined
          ? 'unknown'
          : socket.remotePort === undefined
            ? socket.remoteAddress
            : `${socket.remoteAddress}:${socket.remotePort}`;
      const certificate = socket?.getPeerCertificate();
      this.peerCertificate = certificate?.raw === undefined ? undefined : certificate;
      const timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
      // Beyond 24.8 days (2592000S from a grpc-js client's 30-day deadline) a plain setTimeout would fire at once.
      if (timeoutMs !== null)
        this.deadline = startLongTimer(timeoutMs, () => this.fail({ code: GrpcCode.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }));
    }

    start(): void {
      const siblings = this.stream.session === undefined ? undefined : streamsOf.get(this.stream.session);
      siblings?.add(this.stream);
      this.stream.once('close', () => siblings?.delete(this.stream));
      this.stream.on('data', (chunk: Buffer) => {
        if (this.ended) return;
        this.held += chunk.length;
        if (this.receiving !== undefined) {
          this.receiving.bytes += chunk.length;
          if (this.receiving.bytes > maxConnectionReceiveBytes) {
            this.fail({
              code: GrpcCode.RESOURCE_EXHAUSTED,
              details: `the requests still arriving on this connection passed ${maxConnectionReceiveBytes} bytes`,
            });
            return;
          }
        }
        try {
          this.requests.push(...this.reader.push(chunk));
        } catch (error) {
          const framing = error as FramingError;
          this.fail({ code: framing.code, details: framing.message });
          return;
        }
        if (this.requests.length > 1)
          this.fail({ code: GrpcCode.UNIMPLEMENTED, details: `${this.path} takes one request message; the client sent more` });
      });
      this.stream.once('end', () => {
        this.release();
        void this.received();
      });
      // Closed before the call ended: the client cancelled (or its connection went).
      this.stream.once('close', () => {
        if (!this.ended) {
          // A running handler may have acted already: its call is reported. One still being admitted is reported in received().
          if (this.admitted) this.report(CANCELLED_BY_CLIENT, false);
          this.cancel();
        }
        this.deadline?.clear();
      });
    }

    private async received(): Promise<void> {
      if (this.ended) return;
      if (this.requests.length !== 1 || this.reader.partialBytes > 0) {
        this.fail({
          code: GrpcCode.INTERNAL,
          details: `${this.path} takes one whole request message; the client sent ${this.requests.length}`,
        });
        return;
      }
      let request: unknown;
      try {
        request = this.registered.method.requestDeserialize(this.requests[0]!);
      } catch (error) {
        this.fail({ code: GrpcCode.INTERNAL, details: `the request message cannot be decoded: ${(error as Error).message}` });
        return;
      }
      const arrived = { path: this.path, request, metadata: this.metadata, peer: this.peer, peerCertificate: this.peerCertificate };
      this.arrived = { ...arrived, context: undefined };
      let admission: Admission<C>;
      try {
        admission = await options.admit(arrived);
      } catch (error) {
        const status = options.statusOf(error, this.path);
        if (this.ended) this.report(status, true);
        else this.end(status, true);
        return;
      }
      this.arrived.context = admission.context;
      if (this.ended) {
        // Cancelled (or past its deadline) while being admitted: the handler does not run; a refusal is still one.
        if (admission.refused !== undefined) this.report(admission.refused, true);
        else this.report(CANCELLED_BY_CLIENT, false);
        return;
      }
      if (admission.refused !== undefined) {
        this.end(admission.refused, true);
        return;
      }
      this.admitted = true;
      this.run({ ...arrived, context: admission.context });
    }

    private run(fields: ArrivedCall & { context: C }): void {
      const isCancelled = (): boolean => this.cancelled;
      const call: ServerCall<unknown, unknown> = {
        ...fields,
        get cancelled() {
          return isCancelled();
        },
        onCancel: (listener) => {
          if (this.cancelled) listener();
          else this.cancelListeners.push(listener);
        },
      };
      const { registered } = this;
      if (registered.kind === 'unary') {
        Promise.resolve()
          .then(() => registered.handler(call))
          .then(
            (response) => {
              if (this.ended) return;
              // A response that does not encode has ended the call already (INTERNAL): end() then does nothing.
              this.send(response);
              this.end({ code: GrpcCode.OK, details: '' }, false);
            },
            (error: unknown) => this.end(this.statusOfError(error), false),
          );
        return;
      }
      const sink: StreamSink<unknown> = {
        write: (message) => this.send(message),
        end: (status) => this.end(status ?? { code: GrpcCode.OK, details: '' }, false),
      };
      try {
        registered.handler(call, sink);
      } catch (error) {
        this.end(this.statusOfError(error), false);
      }
    }

    private statusOfError(error: unknown): CallStatus {
      return error instanceof CallStatusError ? error.status : options.statusOf(error, this.path);
    }

    /**
     * Sends a message of the call, unless it has ended. Never throws: it runs in a handler's
     * promise (a throw would be an unhandled rejection, which ends the daemon) or in whatever
     * callback a stream's subscriber writes from. A message that does not encode ends the
     * call with the handler's error status (INTERNAL), as grpc-js does.
     */
    private send(message: unknown): void {
      if (this.ended || this.stream.destroyed || this.stream.closed) return;
      let bytes: Buffer;
      try {
        bytes = this.registered.method.responseSerialize(message);
      } catch (error) {
        this.fail(this.statusOfError(error));
        return;
      }
      if (!this.headersSent) {
        this.headersSent = true;
        this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
        this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
      }
      this.stream.write(frameMessage(bytes));
      if (this.connectionBacklog() > maxBufferedBytes) {
        // The client does not read: cut the stream rather than hold its backlog.
        const status = {
          code: GrpcCode.RESOURCE_EXHAUSTED,
          details: `the client left over ${maxBufferedBytes} bytes of its connection's streams unread`,
        };
        this.ended = true;
        this.deadline?.clear();
        this.report(status, false);
        this.stream.close(NGHTTP2_ENHANCE_YOUR_CALM);
        this.cancel();
      }
    }

    /** What this stream's connection holds unsent, all its streams together. */
    private connectionBacklog(): number {
      const siblings = this.stream.session === undefined ? undefined : streamsOf.get(this.stream.session);
      if (siblings === undefined) return this.stream.writableLength;
      let bytes = 0;
      for (const stream of siblings) bytes += stream.writableLength;
      return bytes;
    }

    /** Ends a call that did not reach its handler, or whose deadline passed: the handler, if running, is cancelled. */
    private fail(status: CallStatus): void {
      if (this.ended) return;
      this.end(status, false);
      this.cancel();
    }

    private end(status: CallStatus, refused: boolean): void {
      if (this.ended) return;
      this.ended = true;
      this.deadline?.clear();
      this.release();
      this.report(status, refused);
      if (this.stream.destroyed || this.stream.closed) return;
      if (!this.headersSent) {
        sendTrailersOnly(this.stream, status);
        return;
      }
      this.trailers = statusHeaders(status);
      this.stream.end();
    }

    /** Tells onCallEnd how a call that reached admit ended, once. */
    private report(status: CallStatus, refused: boolean): void {
      if (this.reported || this.arrived === null) return;
      this.reported = true;
      options.onCallEnd?.(this.arrived, status, refused);
    }

    /** The request has arrived or the call ended: its bytes no longer count against the connection's. */
    private release(): void {
      if (this.receiving !== undefined) this.receiving.bytes -= this.held;
      this.held = 0;
    }

    private cancel(): void {
      if (this.cancelled) return;
      this.cancelled = true;
      this.ended = true;
      this.release();
      for (const listener of this.cancelListeners.splice(0)) listener();
    }
  }

  let closing: Promise<void> | undefined;
  return {
    addUnary: (method, handler) =>
      register('unary', method as MethodSpec<unknown, unknown>, handler as UnaryHandler<unknown, unknown, unknown>),
    addServerStream: (method, handler) =>
      register('stream', method as MethodSpec<unknown, unknown>, handler as StreamHandler<unknown, unknown, unknown>),
    listen: (host, port) => listener.listen(host, port),
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        if (!listener.listening) {
          resolve();
          return;
        }
        // After the grace, every connection is cut and close() is done: a session whose peer
        // reads nothing (a client process that is blocked) can hold its graceful close open
        // for ever, and the port is already free (the listener closed first).
        const force = setTimeout(() => {
          for (const session of sessions) session.destroy();
          // Every TCP connection, from before its handshake, handshakes still running included.
          listener.destroyConnections();
          resolve();
        }, graceMs);
        listener.close(() => {
          clearTimeout(force);
          resolve();
        });
        for (const session of sessions) session.close();
      });
      return closing;
    },
  };
}

function statusHeaders(status: CallStatus): Record<string, string | string[]> {
  return {
    ...(status.metadata?.toHeaders() as Record<string, string | string[]> | undefined),
    'grpc-status': String(status.code),
    'grpc-message': encodeGrpcMessage(status.details),
  };
}

/** A call that ends before any message: its status in the one HEADERS frame (gRPC's Trailers-Only). */
function sendTrailersOnly(stream: ServerHttp2Stream, status: CallStatus): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ...RESPONSE_HEADERS, ...statusHeaders(status) }, { endStream: true });
}

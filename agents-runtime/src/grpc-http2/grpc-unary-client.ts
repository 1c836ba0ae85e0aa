/**
 * One unary gRPC call over its own HTTP/2 connection (plain for a loopback health check, TLS
 * with a client certificate for the CLI): the daemon's two client needs, without grpc-js
 * (grpc-server.ts says why). Never rejects: a refused connection, a deadline or an abort
 * end as a status (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED) with the reason in `details`.
 */
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import { CallMetadata } from './call-metadata';
import { startLongTimer } from './long-timer';
import { frameMessage, MessageReader } from './message-framing';
import { decodeGrpcMessage, formatGrpcTimeout } from './protocol-headers';
import { GrpcCode } from './status-codes';

export interface UnaryCallOptions {
  host: string;
  port: number;
  /** TLS with this CA and client certificate; plain HTTP/2 without. */
  tls?: { caPem: string | Buffer; certPem: string | Buffer; keyPem: string | Buffer };
  path: string;
  request: Buffer;
  metadata?: CallMetadata;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface UnaryResult {
  code: number;
  details: string;
  /** The response's headers and trailers, as metadata (the runtime's error code and remedy travel there). */
  metadata: CallMetadata;
  /** The response message when code is OK. */
  response: Buffer | null;
}

/** HTTP status of a response that is not gRPC's, as grpc/doc/http-grpc-status-mapping.md maps it. */
function codeOfHttpStatus(status: number): number {
  if (status === 400) return GrpcCode.INTERNAL;
  if (status === 401) return GrpcCode.UNAUTHENTICATED;
  if (status === 403) return GrpcCode.PERMISSION_DENIED;
  if (status === 404) return GrpcCode.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GrpcCode.UNAVAILABLE;
  return GrpcCode.UNKNOWN;
}

export function callUnary(options: UnaryCallOptions): Promise<UnaryResult> {
  return new Promise<UnaryResult>((resolve) => {
    const authority = `${isIP(options.host) === 6 ? `[${options.host}]` : options.host}:${options.port}`;
    const metadata = new CallMetadata();
    const result = (code: number, details: string, response: Buffer | null = null): UnaryResult => ({
      code,
      details,
      metadata,
      response: code === GrpcCode.OK ? response : null,
    });
    if (options.signal?.aborted === true) {
      resolve(result(GrpcCode.CANCELLED, 'Cancelled by the caller'));
      return;
    }
    const tls = options.tls;
    // Loaded when a call is made, not when the bundle starts: the daemon shares this bundle
    // and would otherwise carry HTTP/2 and TLS from its start (listen/deferred-server.ts).
    const http2 = process.getBuiltinModule('node:http2');
    let session: ClientHttp2Session;
    try {
      session = http2.connect(
        `${tls === undefined ? 'http' : 'https'}://${authority}`,
        tls === undefined ? {} : { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem },
      );
    } catch (error) {
      // A host that makes no URL (a config's typo): a status like any other failure to reach it.
      resolve(result(GrpcCode.UNAVAILABLE, `cannot reach ${authority}: ${(error as Error).message}`));
      return;
    }
    let settled = false;
    const finish = (code: number, details: string, response: Buffer | null = null): void => {
      if (settled) return;
      settled = true;
      deadline.clear();
      options.signal?.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(result(code, details, response));
    };
    // A plain setTimeout past 24.8 days would fire at once (the CLI's --timeout-ms is the operator's).
    const deadline = startLongTimer(options.timeoutMs, () => finish(GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    const onAbort = (): void => finish(GrpcCode.CANCELLED, 'Cancelled by the caller');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    session.on('error', (error: Error) => finish(GrpcCode.UNAVAILABLE, `cannot reach ${authority}: ${error.message}`));
    const stream = session.request({
      ':method': 'POST',
      ':path': options.path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      'grpc-timeout': formatGrpcTimeout(options.timeoutMs),
      'grpc-accept-encoding': 'identity',
      ...options.metadata?.toHeaders(),
    });
    stream.on('error', () => undefined);
    const reader = new MessageReader();
    const messages: Buffer[] = [];
    let status: { code: number; details: string } | null = null;
    const readStatus = (headers: IncomingHttpHeaders): void => {
      const code = headers['grpc-status'];
      if (typeof code === 'string')
        status = { code: /^\d{1,2}$/.test(code) ? Number(code) : GrpcCode.UNKNOWN, details: decodeGrpcMessage(headers['grpc-message']) };
      metadata.merge(CallMetadata.fromHeaders(headers));
    };
    stream.on('response', (headers) => {
      const httpStatus = Number(headers[':status']);
      if (httpStatus !== 200) {
        finish(codeOfHttpStatus(httpStatus), `the server answered HTTP ${httpStatus}, not gRPC`);
        return;
      }
      readStatus(headers);
    });
    stream.on('trailers', (trailers) => readStatus(trailers));
    stream.on('data', (chunk: Buffer) => {
      try {
        messages.push(...reader.push(chunk));
      } catch (error) {
        finish(GrpcCode.INTERNAL, (error as Error).message);
        return;
      }
      // A peer (a health check reaches any process's port) may send for ever: nothing past the one message is held.
      if (messages.length > 1) finish(GrpcCode.INTERNAL, 'a unary call answered with more than one message');
    });
    stream.on('close', () => {
      if (status === null) {
        // A failed handshake closes the stream before the session tells why: a turn later, its reason has been given.
        const code = stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? GrpcCode.INTERNAL : GrpcCode.UNAVAILABLE;
        setImmediate(() => finish(code, `the call ended without a status (HTTP/2 code ${stream.rstCode})`));
        return;
      }
      const ended: { code: number; details: string } = status;
      if (ended.code === GrpcCode.OK && messages.length !== 1) {
        finish(GrpcCode.INTERNAL, `a unary call answered with ${messages.length} messages`);
        return;
      }
      finish(ended.code, ended.details, messages[0] ?? null);
    });
    stream.end(frameMessage(options.request));
  });
}

// The runtime's own gRPC transport (agents-runtime/src/grpc-http2) over real TLS on 127.0.0.1:
// grpc-js's client (as the control center calls) and raw HTTP/2 (as a hostile or broken peer
// would) against createGrpcServer, and callUnary against it. Asserts events and statuses only.
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallMetadata } from '../../../agents-runtime/src/grpc-http2/call-metadata';
import {
  CallStatusError,
  createGrpcServer,
  type ArrivedCall,
  type CallStatus,
  type GrpcServer,
  type MethodSpec,
} from '../../../agents-runtime/src/grpc-http2/grpc-server';
import { callUnary } from '../../../agents-runtime/src/grpc-http2/grpc-unary-client';
import { frameMessage } from '../../../agents-runtime/src/grpc-http2/message-framing';
import { GrpcCode } from '../../../agents-runtime/src/grpc-http2/status-codes';
import { freePort } from '../../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../../support/runtime-certs';

const WAIT_MS = 10_000;

/** Messages are JSON: the transport is what is under test, not protobuf. */
function jsonMethod(path: string, responseStream = false): MethodSpec<unknown, unknown> {
  return {
    path,
    requestStream: false,
    responseStream,
    requestDeserialize: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
    responseSerialize: (message) => Buffer.from(JSON.stringify(message), 'utf8'),
  };
}
const toJson = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
const fromJson = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

interface Ended {
  path: string;
  request: unknown;
  context: unknown;
  status: CallStatus;
  refused: boolean;
}

let certs: RuntimeCerts;
let server: GrpcServer;
let port: number;
const ended: Ended[] = [];
const cancelled: string[] = [];
const endedWaiters: Array<() => void> = [];
let streamWrites = 0;
/** Handlers that started (Gate). */
const started: string[] = [];
/** FloodTogether's streams, and how many messages each had written when it was cut. */
const FLOOD_STREAMS = 4;
const together: Array<{ writes: number; cut: boolean }> = [];
const cutAfter: number[] = [];
/** Answers the Gate call now waiting. */
let openGate: (() => void) | undefined;

function waitFor(condition: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    const check = (): void => {
      if (condition()) {
        clearTimeout(limit);
        resolve();
      } else endedWaiters.push(check);
    };
    check();
  });
}
const wake = (): void => {
  for (const waiter of endedWaiters.splice(0)) waiter();
};

function grpcClient(): grpc.Client {
  return new grpc.Client(
    `127.0.0.1:${port}`,
    grpc.credentials.createSsl(Buffer.from(certs.ca.certPem), Buffer.from(certs.admin.keyPem), Buffer.from(certs.admin.certPem)),
  );
}

function unary(
  client: grpc.Client,
  path: string,
  request: unknown,
  metadata = new grpc.Metadata(),
  deadlineMs = WAIT_MS,
): Promise<{ error: grpc.ServiceError | null; response: unknown }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, toJson, fromJson, request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) =>
      resolve({ error: error ?? null, response }),
    );
  });
}

function rawSession(): http2.ClientHttp2Session {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: certs.ca.certPem, cert: certs.admin.certPem, key: certs.admin.keyPem });
  session.on('error', () => undefined);
  return session;
}

/** One raw request: the response headers, trailers and DATA bytes, and the stream's RST code. */
async function raw(
  headers: http2.OutgoingHttpHeaders,
  body: Buffer[],
): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; data: Buffer; rstCode: number | undefined }> {
  const session = rawSession();
  try {
    const stream = session.request({ ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', ...headers });
    stream.on('error', () => undefined);
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    for (const part of body) stream.write(part);
    stream.end();
    await once(stream, 'close');
    return { headers: responseHeaders, trailers, data: Buffer.concat(chunks), rstCode: stream.rstCode };
  } finally {
    session.destroy();
  }
}

const tlsOf = (c: RuntimeCerts, ca = c.ca.certPem) => ({ caPem: ca, certPem: c.admin.certPem, keyPem: c.admin.keyPem });

beforeAll(async () => {
  certs = makeRuntimeCerts();
  server = createGrpcServer<{ who: string }>({
    tls: { caPem: certs.ca.certPem, certPem: certs.server.certPem, keyPem: certs.server.keyPem },
    maxReceiveBytes: 64 * 1024,
    maxBufferedBytes: 1024 * 1024,
    admit: (call: ArrivedCall) => {
      const context = { who: String(call.peerCertificate?.subject.CN ?? 'nobody') };
      if (call.path === '/test.T/Refused')
        return Promise.resolve({ context, refused: { code: GrpcCode.PERMISSION_DENIED, details: 'not you' } });
      return Promise.resolve({ context });
    },
    statusOf: () => ({ code: GrpcCode.INTERNAL, details: 'the handler failed' }),
    onCallEnd: (call, status, refused) => {
      ended.push({ path: call.path, request: call.request, context: call.context, status, refused });
      wake();
    },
  });
  server.addUnary(jsonMethod('/test.T/Echo'), (call) => ({
    request: call.request,
    context: call.context,
    note: call.metadata.get('x-note'),
    trace: call.metadata.get('trace-bin').map((b) => (b as Buffer).toString('hex')),
    peer: call.peer,
  }));
  server.addUnary(jsonMethod('/test.T/Fail'), () => {
    const metadata = new CallMetadata();
    metadata.set('sutazai-error-code', 'PROCESS_NOT_FOUND');
    throw new CallStatusError({ code: GrpcCode.NOT_FOUND, details: 'no process “core” – 100% sure\nsecond line', metadata });
  });
  server.addUnary(jsonMethod('/test.T/Throw'), () => {
    throw new Error('secret detail');
  });
  server.addUnary(jsonMethod('/test.T/Refused'), () => 'never');
  server.addUnary(
    jsonMethod('/test.T/Hang'),
    (call) =>
      new Promise(() => {
        call.onCancel(() => {
          cancelled.push('Hang');
          wake();
        });
      }),
  );
  // Waits until the test opens it: a call whose handler is known to be running.
  server.addUnary(
    jsonMethod('/test.T/Gate'),
    (call) =>
      new Promise((resolve) => {
        openGate = () => resolve({ opened: true });
        call.onCancel(() => {
          cancelled.push('Gate');
          wake();
        });
        started.push('Gate');
        wake();
      }),
  );
  // Responses JSON cannot encode (a BigInt): a response serializer that throws.
  server.addUnary(jsonMethod('/test.T/BadResponse'), () => ({ big: 1n }));
  server.addServerStream(jsonMethod('/test.T/BadStream', true), (call, sink) => {
    call.onCancel(() => {
      cancelled.push('BadStream');
      wake();
    });
    sink.write({ fine: true });
    // Later, as a subscription's callback writes.
    setImmediate(() => sink.write({ big: 1n }));
  });
  // Floods of one connection: each waits until FLOOD_STREAMS have started, then all write in turn.
  server.addServerStream(jsonMethod('/test.T/FloodTogether', true), (call, sink) => {
    const chunk = 'x'.repeat(64 * 1024);
    const mine = { writes: 0, cut: false };
    together.push(mine);
    call.onCancel(() => {
      mine.cut = true;
      cutAfter.push(mine.writes);
      wake();
    });
    const next = (): void => {
      if (call.cancelled || mine.writes >= 200) return;
      if (together.length >= FLOOD_STREAMS) {
        mine.writes += 1;
        sink.write(chunk);
      }
      setImmediate(next);
    };
    next();
  });
  server.addServerStream(jsonMethod('/test.T/Flood', true), (call, sink) => {
    // Writes as fast as it may until the call is cancelled; bounded, whatever happens.
    const chunk = 'x'.repeat(64 * 1024);
    const next = (): void => {
      if (call.cancelled || streamWrites >= 2000) return;
      streamWrites += 1;
      sink.write(chunk);
      setImmediate(next);
    };
    call.onCancel(() => {
      cancelled.push('Flood');
      wake();
    });
    next();
  });
  server.addServerStream(jsonMethod('/test.T/Open', true), (call, sink) => {
    sink.write({ open: true });
    call.onCancel(() => {
      cancelled.push('Open');
      wake();
    });
  });
  port = await server.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await server?.close(1000);
  certs?.remove();
});

describe('the runtime gRPC server, called by grpc-js', () => {
  it('answers a unary call with what the client sent: the message, text and binary metadata, the admitted context, the peer', async () => {
    const client = grpcClient();
    const metadata = new grpc.Metadata();
    metadata.set('x-note', 'hello');
    metadata.set('trace-bin', Buffer.from([0, 1, 255]));
    const { error, response } = await unary(client, '/test.T/Echo', { name: 'core' }, metadata);
    client.close();
    expect(error).toBeNull();
    expect(response).toEqual({
      request: { name: 'core' },
      context: { who: 'admin' },
      note: ['hello'],
      trace: ['0001ff'],
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(ended.find((e) => e.path === '/test.T/Echo')).toMatchObject({ status: { code: GrpcCode.OK }, refused: false });
  });

  it("ends a failed call with the handler's status: its details exactly (UTF-8, percent, newline) and its metadata", async () => {
    const client = grpcClient();
    const { error } = await unary(client, '/test.T/Fail', {});
    client.close();
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe('no process “core” – 100% sure\nsecond line');
    expect(error?.metadata.get('sutazai-error-code')).toEqual(['PROCESS_NOT_FOUND']);
  });

  it('maps any other error through statusOf, without its message', async () => {
    const client = grpcClient();
    const { error } = await unary(client, '/test.T/Throw', {});
    client.close();
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(error?.details).toBe('the handler failed');
  });

  it('refuses what admit refuses, before the handler, and reports the refusal with the request it named', async () => {
    const client = grpcClient();
    const { error, response } = await unary(client, '/test.T/Refused', { name: 'db' });
    client.close();
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(response).toBeUndefined();
    expect(ended.find((e) => e.path === '/test.T/Refused')).toEqual({
      path: '/test.T/Refused',
      request: { name: 'db' },
      context: { who: 'admin' },
      status: { code: GrpcCode.PERMISSION_DENIED, details: 'not you' },
      refused: true,
    });
  });

  it('answers UNIMPLEMENTED for a method it does not serve', async () => {
    const client = grpcClient();
    const { error } = await unary(client, '/test.T/Nope', {});
    client.close();
    expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(error?.details).toContain('/test.T/Nope');
  });

  it('refuses a request over its receive limit with RESOURCE_EXHAUSTED', async () => {
    const client = grpcClient();
    const { error } = await unary(client, '/test.T/Echo', { blob: 'x'.repeat(100 * 1024) });
    client.close();
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('cancels the handler of a call whose client gave up at its deadline', async () => {
    const client = grpcClient();
    const { error } = await unary(client, '/test.T/Hang', {}, new grpc.Metadata(), 300);
    client.close();
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await waitFor(() => cancelled.includes('Hang'), 'the handler to be cancelled');
  });

  it('ends a unary call whose response does not encode with INTERNAL, as grpc-js did, and reports it', async () => {
    const client = grpcClient();
    const { error } = await unary(client, '/test.T/BadResponse', {});
    client.close();
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(ended.find((e) => e.path === '/test.T/BadResponse')?.status.code).toBe(GrpcCode.INTERNAL);
  });

  it('ends a stream whose later message does not encode with INTERNAL and cancels its handler, the writer unharmed', async () => {
    const client = grpcClient();
    const call = client.makeServerStreamRequest('/test.T/BadStream', toJson, fromJson, {}, new grpc.Metadata(), {});
    const messages: unknown[] = [];
    const statuses: grpc.StatusObject[] = [];
    call.on('data', (message: unknown) => messages.push(message));
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      statuses.push(status);
      wake();
    });
    await waitFor(() => statuses.length > 0, 'the stream to end');
    await waitFor(() => cancelled.includes('BadStream'), 'the handler to be cancelled');
    client.close();
    expect(statuses[0]?.code).toBe(grpc.status.INTERNAL);
    expect(messages).toEqual([{ fine: true }]);
  });

  it('keeps a deadline longer than a Node timer holds (30 days) rather than ending the call at once', async () => {
    const client = grpcClient();
    const before = started.filter((s) => s === 'Gate').length;
    // grpc-js sends it as 2592000S: 2.6e9 ms, past setTimeout's 2^31-1.
    const pending = unary(client, '/test.T/Gate', {}, new grpc.Metadata(), 30 * 24 * 3600_000);
    await waitFor(() => started.filter((s) => s === 'Gate').length > before, 'the Gate handler to start');
    // A whole other call there and back while the first one waits.
    const other = grpcClient();
    expect((await unary(other, '/test.T/Echo', {})).error).toBeNull();
    other.close();
    openGate?.();
    const { error, response } = await pending;
    client.close();
    expect(error).toBeNull();
    expect(response).toEqual({ opened: true });
  });

  it('reports a call its client cancels while the handler runs (CANCELLED, with its caller and request), and cancels the handler', async () => {
    const client = grpcClient();
    const before = started.filter((s) => s === 'Gate').length;
    const call = client.makeUnaryRequest('/test.T/Gate', toJson, fromJson, { name: 'web' }, () => undefined);
    await waitFor(() => started.filter((s) => s === 'Gate').length > before, 'the Gate handler to start');
    call.cancel();
    await waitFor(() => cancelled.includes('Gate'), 'the Gate handler to be cancelled');
    await waitFor(() => ended.some((e) => e.path === '/test.T/Gate' && e.status.code === GrpcCode.CANCELLED), 'the call to be reported');
    client.close();
    expect(ended.find((e) => e.path === '/test.T/Gate' && e.status.code === GrpcCode.CANCELLED)).toMatchObject({
      request: { name: 'web' },
      context: { who: 'admin' },
      refused: false,
    });
  });
});

describe('the runtime gRPC server, against raw HTTP/2', () => {
  it('ends a call at its grpc-timeout by itself (DEADLINE_EXCEEDED) and cancels the handler', async () => {
    const before = cancelled.filter((c) => c === 'Hang').length;
    const result = await raw({ ':path': '/test.T/Hang', 'grpc-timeout': '200m' }, [frameMessage(toJson({}))]);
    expect(result.headers['grpc-status']).toBe(String(GrpcCode.DEADLINE_EXCEEDED));
    await waitFor(() => cancelled.filter((c) => c === 'Hang').length > before, 'the handler to be cancelled');
    expect(ended.some((e) => e.path === '/test.T/Hang' && e.status.code === GrpcCode.DEADLINE_EXCEEDED)).toBe(true);
  });

  it('refuses a compressed message, a second request message, a call with no message, and a message that does not decode', async () => {
    const compressed = Buffer.from([1, 0, 0, 0, 2, 0x7b, 0x7d]);
    expect((await raw({ ':path': '/test.T/Echo' }, [compressed])).headers['grpc-status']).toBe(String(GrpcCode.UNIMPLEMENTED));
    const two = [frameMessage(toJson({})), frameMessage(toJson({}))];
    expect((await raw({ ':path': '/test.T/Echo' }, two)).headers['grpc-status']).toBe(String(GrpcCode.UNIMPLEMENTED));
    expect((await raw({ ':path': '/test.T/Echo' }, [])).headers['grpc-status']).toBe(String(GrpcCode.INTERNAL));
    const cut = frameMessage(toJson({ a: 1 })).subarray(0, 8);
    expect((await raw({ ':path': '/test.T/Echo' }, [cut])).headers['grpc-status']).toBe(String(GrpcCode.INTERNAL));
    const garbage = await raw({ ':path': '/test.T/Echo' }, [frameMessage(Buffer.from('{not json'))]);
    expect(garbage.headers['grpc-status']).toBe(String(GrpcCode.INTERNAL));
    expect(decodeURIComponent(String(garbage.headers['grpc-message']))).toMatch(/^the request message cannot be decoded/);
  });

  it('bounds what all the streams of one unread connection hold together, not each stream alone', async () => {
    const session = rawSession();
    try {
      for (let i = 0; i < FLOOD_STREAMS; i += 1) {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/test.T/FloodTogether',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => undefined);
        stream.end(frameMessage(toJson({})));
        stream.pause();
      }
      await waitFor(() => together.length === FLOOD_STREAMS && together.every((f) => f.cut), 'every flood to be cut');
      // The limit is 1 MiB: 16 messages of 64 KiB. Streams cut one by one as the connection's
      // backlog passes it: the first cut held its share, not a whole MiB of its own.
      expect(cutAfter[0]).toBeLessThan(10);
    } finally {
      session.destroy();
    }
  });

  it('bounds the request bytes a connection holds in streams it never ends (4 times the message limit)', async () => {
    const session = rawSession();
    const statuses: string[] = [];
    try {
      // Six streams each holding 60,004 bytes of a 60,000-byte message (the limit is 64 KiB,
      // 256 KiB for the connection), none ever ended.
      const partial = frameMessage(Buffer.alloc(60_000, 0x20)).subarray(0, 60_004);
      for (let i = 0; i < 6; i += 1) {
        const stream = session.request({ ':method': 'POST', ':path': '/test.T/Echo', 'content-type': 'application/grpc', te: 'trailers' });
        stream.on('error', () => undefined);
        stream.on('response', (headers) => {
          statuses.push(String(headers['grpc-status']));
          wake();
        });
        await new Promise<void>((resolve) => stream.write(partial, () => resolve()));
      }
      await waitFor(() => statuses.length > 0, 'a stream to be refused');
      expect(statuses[0]).toBe(String(GrpcCode.RESOURCE_EXHAUSTED));
    } finally {
      session.destroy();
    }
  });

  it('answers what is not a gRPC call at the HTTP level: GET 405, another content type 415', async () => {
    expect((await raw({ ':method': 'GET', ':path': '/test.T/Echo' }, [])).headers[':status']).toBe(405);
    expect((await raw({ ':path': '/test.T/Echo', 'content-type': 'text/plain' }, [])).headers[':status']).toBe(415);
  });

  it('cuts a stream whose client stops reading once its backlog passes the limit, and cancels the handler', async () => {
    const session = rawSession();
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/test.T/Flood', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      stream.end(frameMessage(toJson({})));
      // Never read: HTTP/2 flow control stops the server's sending, and its backlog grows.
      stream.pause();
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      await waitFor(() => cancelled.includes('Flood'), 'the flood to be cut');
      await closed;
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      // 1 MiB of backlog is 16 messages of 64 KiB beyond what flow control let through.
      expect(streamWrites).toBeLessThan(2000);
      expect(ended.find((e) => e.path === '/test.T/Flood')?.status.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    } finally {
      session.destroy();
    }
  });
});

describe('callUnary (the daemon’s client: health checks and the CLI)', () => {
  it('calls over TLS with a client certificate and reads the response, or the status and its metadata', async () => {
    const ok = await callUnary({
      host: '127.0.0.1',
      port,
      tls: tlsOf(certs),
      path: '/test.T/Echo',
      request: toJson({ n: 1 }),
      timeoutMs: WAIT_MS,
    });
    expect(ok.code).toBe(GrpcCode.OK);
    expect(fromJson(ok.response!)).toMatchObject({ request: { n: 1 }, context: { who: 'admin' } });
    const failed = await callUnary({
      host: '127.0.0.1',
      port,
      tls: tlsOf(certs),
      path: '/test.T/Fail',
      request: toJson({}),
      timeoutMs: WAIT_MS,
    });
    expect(failed).toMatchObject({ code: GrpcCode.NOT_FOUND, details: 'no process “core” – 100% sure\nsecond line', response: null });
    expect(failed.metadata.get('sutazai-error-code')).toEqual(['PROCESS_NOT_FOUND']);
  });

  it('ends as UNAVAILABLE with the reason when the server is not trusted or not there', async () => {
    const untrusted = await callUnary({
      host: '127.0.0.1',
      port,
      tls: tlsOf(certs, certs.otherCa.certPem),
      path: '/test.T/Echo',
      request: toJson({}),
      timeoutMs: WAIT_MS,
    });
    expect(untrusted.code).toBe(GrpcCode.UNAVAILABLE);
    expect(untrusted.details).toMatch(/certificate/i);
    const closedPort = await freePort();
    const nobody = await callUnary({ host: '127.0.0.1', port: closedPort, path: '/test.T/Echo', request: toJson({}), timeoutMs: WAIT_MS });
    expect(nobody.code).toBe(GrpcCode.UNAVAILABLE);
    expect(nobody.details).toContain('ECONNREFUSED');
  });

  it('ends as UNAVAILABLE, without throwing, for a host that makes no URL', async () => {
    const bad = await callUnary({ host: 'no such host', port: 1, path: '/test.T/Echo', request: toJson({}), timeoutMs: WAIT_MS });
    expect(bad.code).toBe(GrpcCode.UNAVAILABLE);
    expect(bad.details).toContain('cannot reach no such host:1');
  });

  it('ends at its deadline (DEADLINE_EXCEEDED) and when aborted (CANCELLED)', async () => {
    const late = await callUnary({ host: '127.0.0.1', port, tls: tlsOf(certs), path: '/test.T/Hang', request: toJson({}), timeoutMs: 200 });
    expect(late.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    const controller = new AbortController();
    const pending = callUnary({
      host: '127.0.0.1',
      port,
      tls: tlsOf(certs),
      path: '/test.T/Hang',
      request: toJson({}),
      timeoutMs: WAIT_MS,
      signal: controller.signal,
    });
    controller.abort();
    expect((await pending).code).toBe(GrpcCode.CANCELLED);
  });
  it('ends as soon as a server sends a unary call a second message, rather than gathering them until its deadline', async () => {
    // A plain HTTP/2 peer (as a health check reaches) that sends messages until the stream closes.
    const flood = http2.createServer();
    const closed: string[] = [];
    flood.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.once('close', () => {
        closed.push('flood');
        wake();
      });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      const next = (): void => {
        if (!stream.closed && !stream.destroyed) stream.write(frameMessage(Buffer.from('x')), () => setImmediate(next));
      };
      next();
    });
    flood.listen(0, '127.0.0.1');
    await once(flood, 'listening');
    try {
      const floodPort = (flood.address() as AddressInfo).port;
      const result = await callUnary({ host: '127.0.0.1', port: floodPort, path: '/test.T/Echo', request: toJson({}), timeoutMs: WAIT_MS });
      expect(result.code).toBe(GrpcCode.INTERNAL);
      await waitFor(() => closed.includes('flood'), 'the flooding stream to be closed');
    } finally {
      flood.close();
    }
  });

  it('waits out a timeout longer than a Node timer holds (30 days) rather than ending at once', async () => {
    const before = started.filter((s) => s === 'Gate').length;
    const pending = callUnary({
      host: '127.0.0.1',
      port,
      tls: tlsOf(certs),
      path: '/test.T/Gate',
      request: toJson({}),
      timeoutMs: 30 * 24 * 3600_000,
    });
    await waitFor(() => started.filter((s) => s === 'Gate').length > before, 'the Gate handler to start');
    // A whole other call there and back while the first one waits.
    expect(
      (await callUnary({ host: '127.0.0.1', port, tls: tlsOf(certs), path: '/test.T/Echo', request: toJson({}), timeoutMs: WAIT_MS })).code,
    ).toBe(GrpcCode.OK);
    openGate?.();
    const result = await pending;
    expect(result.code).toBe(GrpcCode.OK);
    expect(fromJson(result.response!)).toEqual({ opened: true });
  });
});

describe('closing the server', () => {
  it('cuts a stream still open after the grace and frees the port', async () => {
    const client = grpcClient();
    const call = client.makeServerStreamRequest('/test.T/Open', toJson, fromJson, {}, new grpc.Metadata(), {});
    const statuses: grpc.StatusObject[] = [];
    call.on('status', (s) => statuses.push(s));
    call.on('error', () => undefined);
    await once(call, 'data');
    await server.close(300);
    await waitFor(() => cancelled.includes('Open'), 'the open stream to be cancelled');
    client.close();
    const refused = await callUnary({
      host: '127.0.0.1',
      port,
      tls: tlsOf(certs),
      path: '/test.T/Echo',
      request: toJson({}),
      timeoutMs: WAIT_MS,
    });
    expect(refused.code).toBe(GrpcCode.UNAVAILABLE);
  });
});

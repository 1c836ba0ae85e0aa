// The runtime's gRPC API over real TLS on 127.0.0.1, with certificates made by openssl
// and an in-memory RuntimeApi (the daemon's wiring comes later).
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetInfoResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/GetInfoResponse';
import type { HealthCheckResponse__Output } from '../../../agents-runtime/src/generated/grpc/health/v1/HealthCheckResponse';
import type { HealthClient } from '../../../agents-runtime/src/generated/grpc/health/v1/Health';
import type { LogLine__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/LogLine';
import type { MetricSample__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/MetricSample';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { RuntimeEvent__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/RuntimeEvent';
import { RuntimeError } from '../../../agents-runtime/src/runtime-error';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import type { RuntimeEvent } from '../../../agents-runtime/src/daemon/runtime-event';
import type { RuntimeInfo } from '../../../agents-runtime/src/daemon/runtime-info';
import type { InstanceLogLine } from '../../../agents-runtime/src/logs/instance-log-line';
import type { MetricSample } from '../../../agents-runtime/src/metrics/metric-sample';
import type { RuntimeApi } from '../../../agents-runtime/src/server/runtime-api';
import type { ProcessStatus } from '../../../agents-runtime/src/supervisor/process-status';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { makeRuntimeCerts, type Pem, type RuntimeCerts } from '../../support/runtime-certs';

const CALL_DEADLINE_MS = 5_000;
const WAIT_MS = 5_000;

/** An in-memory daemon: records calls, keeps subscriptions countable. */
class MemoryRuntime implements RuntimeApi {
  calls: string[] = [];
  serving: 'SERVING' | 'NOT_SERVING' = 'SERVING';
  subscriptions = 0;
  private processes = new Map<string, ProcessStatus>([
    [
      'core',
      {
        name: 'core',
        replicas: 1,
        instances: [
          { instance: 'core-1', state: 'running', pid: 4242, restarts: 0, startedAtMs: 1_700_000_000_000, exitCode: null, lastError: null },
        ],
      },
    ],
    ['agent', { name: 'agent', replicas: 2, instances: [] }],
  ]);
  private eventListeners = new Set<(event: RuntimeEvent) => void>();
  private sampleListeners = new Set<(sample: MetricSample) => void>();
  private lineListeners = new Set<(line: InstanceLogLine) => void>();
  /** The ring buffer: samples at 1000, 2000, 3000 ms. */
  samples: MetricSample[] = [1000, 2000, 3000].map((atMs) => sample(atMs));
  logs: InstanceLogLine[] = ['one', 'two', 'three'].map((text, i) => ({
    atMs: 10 + i,
    instance: 'core-1',
    stream: i === 2 ? 'stderr' : 'stdout',
    text,
  }));

  info(): RuntimeInfo {
    return {
      runtimeVersion: '0.1.0-test',
      startedAtMs: 1_700_000_000_000,
      uptimeMs: 61_000,
      manifestVersion: 'm-7',
      bundleVersion: null,
      host: {
        hostname: 'box',
        platform: 'linux',
        osRelease: '6.1',
        arch: 'x64',
        cpuCount: 2,
        memoryTotalBytes: 8 * 2 ** 30,
        nodeVersion: 'v20.19.0',
      },
    };
  }
  listProcesses(): ProcessStatus[] {
    return [...this.processes.values()];
  }
  private known(name: string): void {
    if (!this.processes.has(name))
      throw new RuntimeError('PROCESS_NOT_FOUND', `no process named ${name}`, 'pick a process from ListProcesses');
  }
  async start(name: string): Promise<void> {
    this.known(name);
    this.calls.push(`start ${name}`);
  }
  async stop(name: string): Promise<void> {
    this.known(name);
    this.calls.push(`stop ${name}`);
  }
  async restart(name: string): Promise<void> {
    this.known(name);
    this.calls.push(`restart ${name}`);
  }
  async scale(name: string, replicas: number): Promise<void> {
    this.known(name);
    this.calls.push(`scale ${name} ${replicas}`);
  }
  async updateManifest(yaml: string): Promise<void> {
    if (!yaml.includes('processes:'))
      throw new RuntimeError('MANIFEST_INVALID', 'manifest.yaml:1:1: processes is missing', 'add a processes: list');
    this.calls.push('updateManifest');
  }
  private subscribe<T>(set: Set<T>, listener: T): () => void {
    set.add(listener);
    this.subscriptions++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      set.delete(listener);
      this.subscriptions--;
    };
  }
  watchEvents(_sinceMs: number, onEvent: (event: RuntimeEvent) => void): () => void {
    return this.subscribe(this.eventListeners, onEvent);
  }
  emitEvent(event: RuntimeEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }
  streamMetrics(sinceMs: number, onSample: (sample: MetricSample) => void): () => void {
    if (sinceMs > 0) for (const s of this.samples) if (s.atMs >= sinceMs) onSample(s);
    return this.subscribe(this.sampleListeners, onSample);
  }
  emitSample(s: MetricSample): void {
    for (const listener of this.sampleListeners) listener(s);
  }
  tailLogs(
    instance: string,
    lines: number,
    follow: boolean,
    onLine: (line: InstanceLogLine) => void,
    onEnd: (error?: Error) => void,
  ): () => void {
    if (instance !== 'core-1')
      throw new RuntimeError('PROCESS_NOT_FOUND', `no instance named ${instance}`, 'pick an instance from ListProcesses');
    for (const line of lines > 0 ? this.logs.slice(-lines) : []) onLine(line);
    if (!follow) {
      queueMicrotask(() => onEnd());
      return () => {};
    }
    return this.subscribe(this.lineListeners, onLine);
  }
  emitLine(line: InstanceLogLine): void {
    for (const listener of this.lineListeners) listener(line);
  }
  health(): 'SERVING' | 'NOT_SERVING' {
    return this.serving;
  }
}

function sample(atMs: number): MetricSample {
  return {
    atMs,
    host: {
      cpuPercent: 12.5,
      perCorePercent: [10, 15],
      memoryUsedBytes: 2 ** 30,
      memoryTotalBytes: 8 * 2 ** 30,
      loadOneMinute: 0.5,
      loadFiveMinutes: 0.4,
      loadFifteenMinutes: 0.3,
      swapUsedBytes: 0,
      swapTotalBytes: 0,
      diskReadBytesPerSec: 0,
      diskWriteBytesPerSec: 0,
      netRxBytesPerSec: 0,
      netTxBytesPerSec: 0,
      filesystems: [],
      gpus: [],
    },
    instances: [
      {
        instance: 'core-1',
        process: 'core',
        pid: 4242,
        cpuPercent: 3,
        rssBytes: 50_000_000,
        threads: 4,
        openFiles: 9,
        restarts: 0,
        operatorRestarts: 2,
        uptimeMs: 61_000,
      },
    ],
  };
}

const protos = loadRuntimeProtos();
// The server certificate names IP:127.0.0.1 and DNS:localhost; SNI may not carry an IP (RFC 6066).
const clientOptions: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost' };

function credentials(ca: string, client?: Pem): grpc.ChannelCredentials {
  return client
    ? grpc.credentials.createSsl(Buffer.from(ca), Buffer.from(client.keyPem), Buffer.from(client.certPem))
    : grpc.credentials.createSsl(Buffer.from(ca));
}

function runtimeClient(port: number, ca: string, client?: Pem): RuntimeClient {
  return new protos.sutazai.runtime.v1.Runtime(`127.0.0.1:${port}`, credentials(ca, client), clientOptions);
}

function healthClient(port: number, ca: string, client: Pem): HealthClient {
  return new protos.grpc.health.v1.Health(`127.0.0.1:${port}`, credentials(ca, client), clientOptions);
}

const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + CALL_DEADLINE_MS });

/** A unary call as a promise. */
function call<T>(start: (callback: grpc.requestCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Collects a server stream's messages until `count` arrived; then cancels or waits for its end. */
function collect<T>(stream: grpc.ClientReadableStream<T>, count: number, afterFirst?: () => void): Promise<T[]> {
  const messages: T[] = [];
  return new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`timed out with ${messages.length} of ${count} messages`));
    }, WAIT_MS);
    stream.on('data', (message: T) => {
      messages.push(message);
      if (messages.length === 1) afterFirst?.();
      if (messages.length === count) {
        clearTimeout(timer);
        resolve(messages);
      }
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The final status of a stream (a cancelled one reports CANCELLED). */
function streamStatus(stream: grpc.ClientReadableStream<unknown>): Promise<grpc.StatusObject> {
  const status = new Promise<grpc.StatusObject>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stream did not end')), WAIT_MS);
    stream.on('status', (status: grpc.StatusObject) => {
      clearTimeout(timer);
      resolve(status);
    });
    stream.on('error', () => {}); // the status event carries the outcome
    stream.on('data', () => {});
  });
  status.catch(() => {}); // a test that fails before awaiting it reports its own error
  return status;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function nonLoopbackIpv4(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

describe('runtime gRPC server', () => {
  let certs: RuntimeCerts;
  let api: MemoryRuntime;
  let server: RuntimeServer;
  const clients: grpc.Client[] = [];
  const track = <C extends grpc.Client>(client: C): C => {
    clients.push(client);
    return client;
  };
  const as = (role: 'viewer' | 'operator' | 'admin' | 'noRole'): RuntimeClient =>
    track(runtimeClient(server.port, certs.ca.certPem, certs[role]));

  beforeAll(async () => {
    certs = makeRuntimeCerts();
    api = new MemoryRuntime();
    server = await startRuntimeServer({
      tls: { caCertPem: certs.ca.certPem, certPem: certs.server.certPem, keyPem: certs.server.keyPem },
      api,
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    try {
      await server?.close();
    } finally {
      certs?.remove();
    }
  });

  describe('who may connect', () => {
    it('refuses a client without a certificate at the connection', async () => {
      const before = api.calls.length;
      const error = await failure(
        call((cb) => track(runtimeClient(server.port, certs.ca.certPem)).RestartProcess({ name: 'core' }, deadline(), cb)),
      );
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(error.details).toContain('certificate required');
      expect(api.calls.length).toBe(before);
    });

    it('refuses a client whose certificate comes from another CA', async () => {
      const before = api.calls.length;
      const error = await failure(
        call((cb) =>
          track(runtimeClient(server.port, certs.ca.certPem, certs.otherCaAdmin)).RestartProcess({ name: 'core' }, deadline(), cb),
        ),
      );
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(api.calls.length).toBe(before);
    });

    it('answers a client with a certificate from the install CA', async () => {
      const info = await call<GetInfoResponse__Output>((cb) => as('viewer').GetInfo({}, deadline(), cb));
      expect(info).toMatchObject({
        runtimeVersion: '0.1.0-test',
        uptimeMs: '61000',
        manifestVersion: 'm-7',
        bundleVersion: '',
        host: { hostname: 'box', cpuCount: 2, memoryTotalBytes: String(8 * 2 ** 30) },
      });
    });
  });

  describe('roles', () => {
    it('lets a viewer read, and refuses its RestartProcess with PERMISSION_DENIED naming the role needed', async () => {
      const viewer = as('viewer');
      const list = await call<{ processes: unknown[] }>((cb) => viewer.ListProcesses({}, deadline(), cb));
      expect(list.processes).toEqual([
        {
          name: 'core',
          replicas: 1,
          instances: [
            {
              instance: 'core-1',
              state: 'PROCESS_STATE_RUNNING',
              pid: 4242,
              restarts: 0,
              startedAtMs: '1700000000000',
              lastError: null,
              _exitCode: undefined,
            },
          ],
        },
        { name: 'agent', replicas: 2, instances: [] },
      ]);

      const error = await failure(call((cb) => viewer.RestartProcess({ name: 'core' }, deadline(), cb)));
      expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(error.details).toContain('RestartProcess needs the role operator; this client certificate carries viewer');
      expect(runtimeErrorFromMetadata(error.metadata)).toMatchObject({
        code: 'PERMISSION_DENIED',
        remedy: expect.stringContaining('operator'),
      });
      expect(api.calls).not.toContain('restart core');
    });

    it('lets an operator restart and scale, and refuses its UpdateManifest', async () => {
      const operator = as('operator');
      await call((cb) => operator.RestartProcess({ name: 'core' }, deadline(), cb));
      await call((cb) => operator.ScaleProcess({ name: 'agent', replicas: 3 }, deadline(), cb));
      expect(api.calls).toEqual(expect.arrayContaining(['restart core', 'scale agent 3']));

      const error = await failure(call((cb) => operator.UpdateManifest({ manifestYaml: 'processes: []' }, deadline(), cb)));
      expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(error.details).toContain('needs the role admin');
      expect(api.calls).not.toContain('updateManifest');
    });

    it('lets an admin change the manifest', async () => {
      await call((cb) => as('admin').UpdateManifest({ manifestYaml: 'processes: []' }, deadline(), cb));
      expect(api.calls).toContain('updateManifest');
    });

    it('refuses every call from a certificate of the install CA that carries no role', async () => {
      const error = await failure(call((cb) => as('noRole').GetInfo({}, deadline(), cb)));
      expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(runtimeErrorFromMetadata(error.metadata)?.remedy).toContain('urn:sutazai:role:viewer');
    });
  });

  describe('errors from the runtime', () => {
    it('maps PROCESS_NOT_FOUND to NOT_FOUND with code and remedy', async () => {
      const error = await failure(call((cb) => as('operator').StopProcess({ name: 'nope' }, deadline(), cb)));
      expect(error.code).toBe(grpc.status.NOT_FOUND);
      expect(runtimeErrorFromMetadata(error.metadata)).toEqual({ code: 'PROCESS_NOT_FOUND', remedy: 'pick a process from ListProcesses' });
    });

    it('maps MANIFEST_INVALID to INVALID_ARGUMENT', async () => {
      const error = await failure(call((cb) => as('admin').UpdateManifest({ manifestYaml: 'nonsense' }, deadline(), cb)));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toContain('manifest.yaml:1:1');
      expect(runtimeErrorFromMetadata(error.metadata)?.code).toBe('MANIFEST_INVALID');
    });
  });

  describe('streams', () => {
    it('WatchEvents delivers events and ends on cancel, dropping the subscription', async () => {
      const before = api.subscriptions;
      const stream = as('viewer').WatchEvents({});
      const status = streamStatus(stream);
      await until(() => api.subscriptions === before + 1, 'the subscription');
      const events = collect<RuntimeEvent__Output>(stream, 2);
      api.emitEvent({
        atMs: 5,
        kind: 'process.state',
        process: 'core',
        instance: 'core-1',
        state: 'backoff',
        message: 'exited with 1',
        error: null,
        runStartedAtMs: 1,
        sequence: 7,
        lastLines: ['boom'],
      });
      api.emitEvent({
        atMs: 6,
        kind: 'manifest.updated',
        process: null,
        instance: null,
        state: null,
        message: 'm-8',
        error: null,
        runStartedAtMs: 1,
        sequence: 8,
        lastLines: [],
      });
      expect(await events).toMatchObject([
        {
          atMs: '5',
          kind: 'process.state',
          process: 'core',
          instance: 'core-1',
          state: 'PROCESS_STATE_BACKOFF',
          runStartedAtMs: '1',
          sequence: '7',
          lastLines: ['boom'],
        },
        {
          atMs: '6',
          kind: 'manifest.updated',
          process: '',
          state: 'PROCESS_STATE_UNSPECIFIED',
          message: 'm-8',
          sequence: '8',
          lastLines: [],
        },
      ]);
      stream.cancel();
      expect((await status).code).toBe(grpc.status.CANCELLED);
      await until(() => api.subscriptions === before, 'the server to drop the subscription');
    });

    it('StreamMetrics with since_ms backfills from the buffer, then goes live', async () => {
      const before = api.subscriptions;
      const stream = as('viewer').StreamMetrics({ sinceMs: '2000' });
      const status = streamStatus(stream);
      const samples = await collect<MetricSample__Output>(stream, 3, () => setTimeout(() => api.emitSample(sample(4000)), 50));
      expect(samples.map((s) => s.atMs)).toEqual(['2000', '3000', '4000']);
      expect(samples[0]).toMatchObject({
        host: { cpuPercent: 12.5, memoryUsedBytes: String(2 ** 30), loadOneMinute: 0.5 },
        instances: [{ instance: 'core-1', rssBytes: '50000000', restarts: 0, operatorRestarts: 2 }],
      });
      stream.cancel();
      expect((await status).code).toBe(grpc.status.CANCELLED);
      await until(() => api.subscriptions === before, 'the server to drop the subscription');
    });

    it('StreamMetrics without since_ms sends live samples only', async () => {
      const before = api.subscriptions;
      const stream = as('viewer').StreamMetrics({});
      const status = streamStatus(stream);
      await until(() => api.subscriptions === before + 1, 'the subscription');
      const samples = collect<MetricSample__Output>(stream, 1);
      api.emitSample(sample(5000));
      expect((await samples).map((s) => s.atMs)).toEqual(['5000']);
      stream.cancel();
      expect((await status).code).toBe(grpc.status.CANCELLED);
    });

    it('TailLogs without follow sends the last lines and ends', async () => {
      const stream = as('viewer').TailLogs({ instance: 'core-1', lines: 2, follow: false });
      const lines: LogLine__Output[] = [];
      stream.on('data', (line: LogLine__Output) => lines.push(line));
      const status = await streamStatus(stream);
      expect(status.code).toBe(grpc.status.OK);
      expect(lines.map((l) => [l.text, l.stream])).toEqual([
        ['two', 'LOG_STREAM_STDOUT'],
        ['three', 'LOG_STREAM_STDERR'],
      ]);
    });

    it('TailLogs with follow sends new lines until cancelled', async () => {
      const before = api.subscriptions;
      const stream = as('viewer').TailLogs({ instance: 'core-1', lines: 1, follow: true });
      const status = streamStatus(stream);
      const lines = collect<LogLine__Output>(stream, 2, () =>
        api.emitLine({ atMs: 20, instance: 'core-1', stream: 'stdout', text: 'four' }),
      );
      expect((await lines).map((l) => l.text)).toEqual(['three', 'four']);
      stream.cancel();
      expect((await status).code).toBe(grpc.status.CANCELLED);
      await until(() => api.subscriptions === before, 'the server to drop the subscription');
    });

    it('TailLogs of an unknown instance ends with NOT_FOUND', async () => {
      const status = await streamStatus(as('viewer').TailLogs({ instance: 'ghost-1', lines: 5, follow: true }));
      expect(status.code).toBe(grpc.status.NOT_FOUND);
      expect(runtimeErrorFromMetadata(status.metadata)?.code).toBe('PROCESS_NOT_FOUND');
    });
  });

  describe('health', () => {
    it('Check answers SERVING, follows the runtime, and NOT_FOUND for an unknown service', async () => {
      const health = track(healthClient(server.port, certs.ca.certPem, certs.viewer));
      const check = (service: string) => call<HealthCheckResponse__Output>((cb) => health.Check({ service }, deadline(), cb));
      expect(await check('')).toEqual({ status: 'SERVING' });
      expect(await check('sutazai.runtime.v1.Runtime')).toEqual({ status: 'SERVING' });
      api.serving = 'NOT_SERVING';
      try {
        expect(await check('')).toEqual({ status: 'NOT_SERVING' });
      } finally {
        api.serving = 'SERVING';
      }
      expect((await failure(check('no.such.Service'))).code).toBe(grpc.status.NOT_FOUND);
    });

    it('Watch sends the current status at once', async () => {
      const stream = track(healthClient(server.port, certs.ca.certPem, certs.viewer)).Watch({ service: '' });
      const status = streamStatus(stream);
      expect(await collect<HealthCheckResponse__Output>(stream, 1)).toEqual([{ status: 'SERVING' }]);
      stream.cancel();
      expect((await status).code).toBe(grpc.status.CANCELLED);
    });
  });

  describe('listening address', () => {
    it('defaults to 127.0.0.1 only', async () => {
      expect(server.address).toBe(`127.0.0.1:${server.port}`);
      expect(await tcpConnects('127.0.0.1', server.port)).toBe(true);
      const external = nonLoopbackIpv4();
      if (external) expect(await tcpConnects(external, server.port)).toBe(false);
    });

    it.runIf(nonLoopbackIpv4() !== undefined)('listens beyond loopback only when configured', async () => {
      const wide = await startRuntimeServer({ address: '0.0.0.0:0', tls: { caCertPem: certs.ca.certPem, ...certs.server }, api });
      try {
        expect(await tcpConnects(nonLoopbackIpv4() as string, wide.port)).toBe(true);
      } finally {
        await wide.close();
      }
    });
  });

  describe('start and stop', () => {
    it('refuses an expired server certificate with CERTIFICATE_INVALID and a remedy', async () => {
      const error = await startRuntimeServer({ tls: { caCertPem: certs.ca.certPem, ...certs.expiredServer }, api }).then(
        async (s) => {
          await s.close();
          throw new Error('started with an expired certificate');
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error).toMatchObject({
        code: 'CERTIFICATE_INVALID',
        message: expect.stringContaining('expired'),
        remedy: expect.stringContaining('new server certificate'),
      });
    });

    it('refuses a key that does not match the server certificate with CERTIFICATE_INVALID', async () => {
      const error = await startRuntimeServer({
        tls: { caCertPem: certs.ca.certPem, certPem: certs.server.certPem, keyPem: certs.strayKeyPem },
        api,
      }).then(
        async (s) => {
          await s.close();
          throw new Error('started with a mismatched key');
        },
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'CERTIFICATE_INVALID',
        message: expect.stringContaining('does not match'),
        remedy: expect.any(String),
      });
    });

    it('close() ends open streams with UNAVAILABLE and frees the port', async () => {
      const own = await startRuntimeServer({ tls: { caCertPem: certs.ca.certPem, ...certs.server }, api });
      let closed = false;
      try {
        const before = api.subscriptions;
        const stream = track(runtimeClient(own.port, certs.ca.certPem, certs.viewer)).WatchEvents({});
        const status = streamStatus(stream);
        await until(() => api.subscriptions === before + 1, 'the subscription');
        await own.close();
        closed = true;
        expect((await status).code).toBe(grpc.status.UNAVAILABLE);
        expect(api.subscriptions).toBe(before);
        expect(await tcpConnects('127.0.0.1', own.port)).toBe(false);
      } finally {
        if (!closed) await own.close();
      }
    });
  });
});

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSpec } from '../../../agents-runtime/src/manifest/manifest-schema';
import { toProcessSpec } from '../../../agents-runtime/src/manifest/manifest-schema';
import { systemClock } from '../../../agents-runtime/src/supervisor/driver';
import {
  createHealthProbe,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
} from '../../../agents-runtime/src/supervisor/health-checks';
import { ProcessSupervisor, type SupervisorEvent } from '../../../agents-runtime/src/supervisor/process-supervisor';
import { makeTempDir } from '../../support/temp-dir';
import { FakeDriver } from '../../unit/runtime/fake-runtime';

const timing = { intervalMs: 1000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3, startPeriodMs: 0, startIntervalMs: 1000 };
const probe = createHealthProbe();
const check = (spec: HealthSpec, signal: AbortSignal = new AbortController().signal) => probe.check(spec, 'test', signal);

function listen(server: net.Server | http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function close(server: net.Server | http.Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port that nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe('tcp check', () => {
  it('is healthy when a listener accepts, unhealthy when the port is closed', async () => {
    const server = net.createServer((socket) => socket.end());
    const port = await listen(server);
    try {
      expect(await check({ type: 'tcp', host: '127.0.0.1', port, ...timing })).toBe(true);
    } finally {
      await close(server);
    }
    expect(await check({ type: 'tcp', host: '127.0.0.1', port: await freePort(), ...timing })).toBe(false);
  });

  it('answers false at once for an already aborted check', async () => {
    const server = net.createServer((socket) => socket.end());
    const port = await listen(server);
    try {
      expect(await check({ type: 'tcp', host: '127.0.0.1', port, ...timing }, AbortSignal.abort())).toBe(false);
    } finally {
      await close(server);
    }
  });
});

describe('http check', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      if (request.url === '/healthz') response.writeHead(200).end('ok');
      else if (request.url === '/sick') response.writeHead(503).end('no');
      else if (request.url === '/moved') response.writeHead(301, { location: '/healthz' }).end();
      else if (request.url === '/hang')
        request.socket.setTimeout(0); // never answers
      else response.writeHead(404).end();
    });
    port = await listen(server);
  });
  afterAll(() => close(server));

  const spec = (p: string, timeoutMs = 1000): HealthSpec => ({ type: 'http', host: '127.0.0.1', port, path: p, ...timing, timeoutMs });

  it('is healthy on 2xx only', async () => {
    expect(await check(spec('/healthz'))).toBe(true);
    expect(await check(spec('/sick'))).toBe(false);
    expect(await check(spec('/moved'))).toBe(false);
    expect(await check(spec('/other'))).toBe(false);
  });

  it('gives up on a server that never answers at timeout_ms', async () => {
    const { value, ms } = await timed(check(spec('/hang', 300)));
    expect(value).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3000);
  });

  it('gives up when the supervisor aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const { value, ms } = await timed(check(spec('/hang', 10_000), controller.signal));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(3000);
  });

  it('is unhealthy when nothing listens', async () => {
    expect(await check({ type: 'http', host: '127.0.0.1', port: await freePort(), path: '/healthz', ...timing })).toBe(false);
  });
});

describe('exec check', () => {
  const exec = (args: string[], timeoutMs = 2000, command = process.execPath): HealthSpec => ({
    type: 'exec',
    command,
    args,
    ...timing,
    timeoutMs,
  });

  it('is healthy when the command exits 0', async () => {
    expect(await check(exec(['-e', 'process.exit(0)']))).toBe(true);
    expect(await check(exec(['-e', 'process.exit(3)']))).toBe(false);
  });

  it('is unhealthy when the command does not exist', async () => {
    expect(await check(exec([], 2000, '/definitely/not/here'))).toBe(false);
  });

  it('kills a command that runs past timeout_ms and reports unhealthy', async () => {
    const { value, ms } = await timed(check(exec(['-e', 'setTimeout(() => process.exit(0), 20000)'], 400)));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(5000);
  });
});

describe('grpc check against a real grpc.health.v1 server', () => {
  const statuses: Record<string, 'SERVING' | 'NOT_SERVING'> = { '': 'SERVING', 'sutazai.Core': 'SERVING', 'sutazai.Agent': 'NOT_SERVING' };
  let server: grpc.Server;
  let port: number;
  let dir: { path: string; remove(): void };

  beforeAll(async () => {
    dir = makeTempDir('sutazai-health-');
    const protoFile = path.join(dir.path, 'health.proto');
    fs.writeFileSync(
      protoFile,
      `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`,
    );
    const definition = protoLoader.loadSync(protoFile, { enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    server = new grpc.Server();
    server.addService(loaded.grpc.health.v1.Health.service, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const status = statuses[call.request.service];
        if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else callback(null, { status });
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    dir.remove();
  });

  const grpcSpec = (service: string, p = port): HealthSpec => ({ type: 'grpc', host: '127.0.0.1', port: p, service, ...timing });

  it('is healthy when the server (or the named service) is SERVING', async () => {
    expect(await check(grpcSpec(''))).toBe(true);
    expect(await check(grpcSpec('sutazai.Core'))).toBe(true);
  });

  it('is unhealthy for NOT_SERVING, an unknown service, or no server', async () => {
    expect(await check(grpcSpec('sutazai.Agent'))).toBe(false);
    expect(await check(grpcSpec('sutazai.Nope'))).toBe(false);
    expect(await check(grpcSpec('', await freePort()))).toBe(false);
  });

  it('encodes the request and decodes the response as protobuf does', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(0));
    expect([...encodeHealthCheckRequest('ab')]).toEqual([0x0a, 2, 0x61, 0x62]);
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 0x01]))).toBe(1);
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(0);
    // an unknown length-delimited field before the status is skipped
    expect(decodeHealthCheckResponse(Buffer.from([0x12, 0x01, 0x00, 0x08, 0x02]))).toBe(2);
  });
});

describe('health port already taken', () => {
  it('is refused with HEALTH_TARGET_IN_USE before spawning, with the real probe and clock', async () => {
    const squatter = net.createServer((socket) => socket.end());
    const port = await listen(squatter);
    const driver = new FakeDriver(systemClock);
    const supervisor = new ProcessSupervisor({
      spec: toProcessSpec({
        name: 'core',
        command: '/bin/core',
        health: { type: 'http', port, interval_ms: 1000 },
        backoff: { initial_ms: 60_000 },
      }),
      instance: 'core',
      replica: 1,
      driver,
      probe,
      clock: systemClock,
    });
    const events: SupervisorEvent[] = [];
    supervisor.on((e) => events.push(e));
    try {
      supervisor.start();
      const deadline = Date.now() + 5000;
      while (supervisor.state === 'starting' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(supervisor.state).toBe('backoff');
      expect(events.find((e) => e.kind === 'error')).toMatchObject({
        code: 'HEALTH_TARGET_IN_USE',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      });
      expect(driver.starts).toHaveLength(0);
    } finally {
      await supervisor.stop();
      supervisor.dispose();
      await close(squatter);
    }
  });
});

import { spawn } from 'node:child_process';
import net from 'node:net';
import { callUnary } from '../grpc-http2/grpc-unary-client';
import { GrpcCode } from '../grpc-http2/status-codes';
import type { HealthSpec } from '../manifest/manifest-schema';
import type { HealthProbe } from './driver';

type Spec<T extends HealthSpec['type']> = Extract<HealthSpec, { type: T }>;

/**
 * The real health checks. Each resolves true or false and never throws; each stops at
 * `timeout_ms` on its own as well as when the supervisor aborts it.
 */
export function createHealthProbe(): HealthProbe {
  return {
    async check(spec, instance, signal) {
      if (signal.aborted) return false;
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]);
      try {
        switch (spec.type) {
          case 'tcp':
            return await checkTcp(spec, bounded);
          case 'http':
            return await checkHttp(spec, bounded);
          case 'grpc':
            return await checkGrpc(spec, bounded);
          case 'exec':
            return await checkExec(spec, bounded, instance);
        }
      } catch {
        return false;
      }
    },
  };
}

/** Healthy when a TCP connection is accepted. */
export function checkTcp(spec: Spec<'tcp'> | Pick<Spec<'tcp'>, 'host' | 'port'>, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: spec.host, port: spec.port });
    const finish = (ok: boolean): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = (): void => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Healthy on a 2xx answer to GET path. `node:http` is loaded at the first HTTP check, not
 * when the daemon starts: a manifest without one never pays its memory (metrics-http.ts).
 */
export function checkHttp(spec: Spec<'http'>, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const http = process.getBuiltinModule('node:http');
    const request = http.get(
      { host: spec.host, port: spec.port, path: spec.path, signal, headers: { 'user-agent': 'sutazai-runtime-health' } },
      (response) => {
        const status = response.statusCode ?? 0;
        response.resume();
        response.once('end', () => resolve(status >= 200 && status < 300));
        response.once('error', () => resolve(false));
        response.once('close', () => resolve(response.complete && status >= 200 && status < 300));
      },
    );
    request.once('error', () => resolve(false));
  });
}

/** Healthy when the command exits 0 before the timeout; killed otherwise. It learns the instance from SUTAZAI_INSTANCE. */
export function checkExec(spec: Spec<'exec'>, signal: AbortSignal, instance = ''): Promise<boolean> {
  return new Promise((resolve) => {
    const env = { ...process.env, SUTAZAI_INSTANCE: instance };
    const child = spawn(spec.command, spec.args, { stdio: 'ignore', signal, killSignal: 'SIGKILL', env });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0 && !signal.aborted));
  });
}

const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';
const SERVING = 1;

/**
 * The standard grpc.health.v1 Check, insecure (the check runs on loopback). The two
 * messages are one field each, so they are encoded by hand instead of loading a .proto.
 */
export async function checkGrpc(spec: Spec<'grpc'>, signal: AbortSignal): Promise<boolean> {
  const result = await callUnary({
    host: spec.host,
    port: spec.port,
    path: HEALTH_CHECK_METHOD,
    request: encodeHealthCheckRequest(spec.service),
    timeoutMs: spec.timeoutMs,
    signal,
  });
  if (result.code !== GrpcCode.OK || result.response === null) return false;
  try {
    return decodeHealthCheckResponse(result.response) === SERVING;
  } catch {
    // Not a HealthCheckResponse: not serving.
    return false;
  }
}

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthCheckRequest(service: string): Buffer {
  const text = Buffer.from(service, 'utf8');
  if (text.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(text.length), text]);
}

/** HealthCheckResponse { ServingStatus status = 1; }: the status, 0 (UNKNOWN) when absent. */
export function decodeHealthCheckResponse(bytes: Buffer): number {
  let offset = 0;
  let status = 0;
  while (offset < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, offset);
    const field = tag >>> 3;
    const wireType = tag & 7;
    offset = afterTag;
    if (wireType === 0) {
      const [value, next] = readVarint(bytes, offset);
      if (field === 1) status = value;
      offset = next;
    } else if (wireType === 2) {
      const [length, next] = readVarint(bytes, offset);
      offset = next + length;
    } else if (wireType === 1) {
      offset += 8;
    } else if (wireType === 5) {
      offset += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
  }
  return status;
}

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

function readVarint(bytes: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let offset = start;
  for (;;) {
    const byte = bytes[offset];
    if (byte === undefined) throw new Error('truncated protobuf varint');
    offset += 1;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, offset];
    shift += 7;
    if (shift > 63) throw new Error('protobuf varint too long');
  }
}

/**
 * The runtime's plain-HTTP side door for monitoring: `GET /metrics` (Prometheus text of a
 * sample at most a second old: MetricsService.freshSample) and `GET /healthz` (200 "ok" /
 * 503 "unhealthy"), 404 for anything else.
 * It listens on 127.0.0.1 unless told otherwise: it has no TLS and no authentication, and
 * is meant to be scraped locally or through the same SSH tunnel as the gRPC API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricSample } from './metric-sample';
import { PROMETHEUS_CONTENT_TYPE, sampleToPrometheus } from './prometheus-exposition';

export interface MetricsHttpOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  metrics: { freshSample(): MetricSample | null };
  healthy: () => boolean;
}

export interface MetricsHttp {
  port: number;
  close(): Promise<void>;
}

export function startMetricsHttp(options: MetricsHttpOptions): Promise<MetricsHttp> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const send = (status: number, contentType: string, body: string, extra: http.OutgoingHttpHeaders = {}): void => {
      res.writeHead(status, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname !== '/metrics' && pathname !== '/healthz') return send(404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
    if (pathname === '/healthz') {
      let ok: boolean;
      try {
        ok = options.healthy() === true;
      } catch {
        ok = false;
      }
      return send(ok ? 200 : 503, 'text/plain; charset=utf-8', ok ? 'ok\n' : 'unhealthy\n');
    }
    let body: string;
    try {
      body = sampleToPrometheus(options.metrics.freshSample());
    } catch (error) {
      return send(500, 'text/plain; charset=utf-8', `metrics failed: ${(error as Error).message}\n`);
    }
    return send(200, PROMETHEUS_CONTENT_TYPE, body);
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * The runtime's plain-HTTP side door for monitoring: `GET /metrics` (Prometheus text of a
 * sample at most a second old: MetricsService.freshSample) and `GET /healthz` (200 "ok" /
 * 503 "unhealthy"), 404 for anything else.
 * It listens on 127.0.0.1 unless told otherwise: it has no TLS and no authentication, and
 * is meant to be scraped locally or through the same SSH tunnel as the gRPC API.
 *
 * The HTTP server is made at the first connection (listen/deferred-server.ts says why):
 * `node:http` loads its client, agent and server together, some 0.8 MB of memory, which a
 * daemon that nobody scrapes never needs. The port is still bound at start.
 */
import type http from 'node:http';
import { createDeferredServer } from '../listen/deferred-server';
import type { MetricSample } from './metric-sample';
import { PROMETHEUS_CONTENT_TYPE, sampleToPrometheus } from './prometheus-exposition';

export interface MetricsHttpOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  metrics: { freshSample(): MetricSample | null };
  healthy: () => boolean;
  /** How long a client may take to send its request's headers (default 10 s; tests shorten it). */
  headersTimeoutMs?: number;
}

export interface MetricsHttp {
  port: number;
  close(): Promise<void>;
}

export function startMetricsHttp(options: MetricsHttpOptions): Promise<MetricsHttp> {
  const host = options.host ?? '127.0.0.1';
  const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
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
  };
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const listener = createDeferredServer({
    make: () => {
      // Node looks for clients past these timeouts every connectionsCheckingInterval (30 s by
      // default): a quarter of the timeout cuts a slow client soon after it, not up to 30 s later.
      const server = process
        .getBuiltinModule('node:http')
        .createServer({ connectionsCheckingInterval: Math.max(50, Math.floor(headersTimeoutMs / 4)) }, answer);
      server.keepAliveTimeout = 5_000;
      server.headersTimeout = headersTimeoutMs;
      server.requestTimeout = Math.max(headersTimeoutMs, 10_000);
      // An HTTP server starts tracking its connections, and the check that enforces the
      // timeouts above, when it hears 'listening'; this one never listens itself (the
      // deferred listener does), so it is told.
      server.emit('listening');
      return server;
    },
  });
  return listener.listen(host, options.port).then((port) => ({
    port,
    close: () =>
      new Promise<void>((done) => {
        const made = listener.made();
        // The timeouts' check is an interval (unref'd) that would outlive the server.
        made?.close();
        if (!listener.close(() => done())) done();
        listener.destroyConnections();
      }),
  }));
}

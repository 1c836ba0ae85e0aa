import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Another program on 127.0.0.1 (another local user's web server, on another port): it
 * records every request the browser makes to it, headers included, so a test can show
 * that nothing of the web-mode session (cookie, token, referrer) ever reaches it.
 */
export interface LocalNeighbour {
  origin: string;
  /** Each request as one text: method, path and every header line. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

export async function startLocalNeighbour(): Promise<LocalNeighbour> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}`);
    requests.push([`${req.method} ${req.url}`, ...headers].join('\n'));
    const body =
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Neighbour</title></head><body><p>Another program on 127.0.0.1.</p></body></html>';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

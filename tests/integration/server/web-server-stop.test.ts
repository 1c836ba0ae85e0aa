// Web mode stops when asked, whatever its connections are doing: a browser's keep-alive
// connection, a request whose headers are still arriving and the API socket all end with the
// stop, instead of holding it until the browser lets go (Node's server.close() alone ends idle
// connections only, and waited out a busy page for over 10 s of SIGTERM).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { startWebServer, type WebServer } from '../../../electron/backend/server/web-server';
import { startQuietBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';
import { WsPeer } from '../../support/ws-peer';

let dir: ReturnType<typeof makeTempDir>;
let backend: Backend;
let server: WebServer;
const TOKEN = 'web-server-stop-token';

beforeAll(async () => {
  dir = makeTempDir('web-server-stop-');
  backend = await startQuietBackend(path.join(dir.path, 'data'));
  server = await startWebServer({
    dispatcher: backend.dispatcher,
    rendererDir: path.join(dir.path, 'renderer'),
    token: TOKEN,
    port: 0,
    logger: backend.logger,
    downloads: backend.downloads,
  });
});

afterAll(async () => {
  await server?.close();
  await backend?.close();
  dir?.remove();
});

/** A raw connection to the server, with a promise of its end (the server hung up on it). */
function connect(port: number): Promise<{ socket: net.Socket; ended: Promise<'ended'> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      const ended = new Promise<'ended'>((done) => socket.once('close', () => done('ended')));
      resolve({ socket, ended });
    });
  });
}

/** One answered request on a keep-alive connection, which the server keeps open afterwards. */
function requestKeptAlive(port: number, agent: http.Agent): Promise<{ connection: string | undefined; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers: { host: `127.0.0.1:${port}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ connection: res.headers.connection, socket: req.socket! }));
    });
    req.on('error', reject);
  });
}

describe('web server stop', () => {
  it('ends a keep-alive connection, a half-sent request and the API socket, then refuses new connections', async () => {
    const port = server.port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const kept = await requestKeptAlive(port, agent);
    expect(kept.connection).toBe('keep-alive');
    const keptEnded = new Promise<'ended'>((done) => kept.socket.once('close', () => done('ended')));
    // A request whose headers have not all arrived: not idle, so server.close() alone would wait for it.
    const half = await connect(port);
    half.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const api = await WsPeer.open(`ws://127.0.0.1:${port}/api`, { token: TOKEN });
    expect(server.connectionCount).toBe(1);

    // Nothing on the client side lets go: the stop itself has to end them.
    await server.close();
    await expect(half.ended).resolves.toBe('ended');
    await expect(keptEnded).resolves.toBe('ended');
    await expect(api.closed).resolves.toMatchObject({ code: expect.any(Number) });
    expect(server.connectionCount).toBe(0);
    agent.destroy();

    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});

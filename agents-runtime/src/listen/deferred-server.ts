/**
 * A TCP listener whose protocol server is made at its first connection, not at start.
 *
 * Why: a daemon nobody is talking to should not pay for the protocols it would speak.
 * Loading `node:http2` (with `node:tls` under it) measured 2 MB more anonymous memory in an
 * empty Node process, and 0.6 MB PSS in the runtime daemon with 10 children, which then
 * loaded `node:crypto` at start (bench:runtime; issue 13's target is 0.75x PM2's daemon).
 * The metrics port's `node:http` is made the same way (metrics-http.ts). Node's `net` is
 * loaded anyway (child processes use it), so the port is bound at start as before, and a
 * bind error is still the daemon's start-up error; the first connection loads the module,
 * makes the server, and hands it the socket. From then on the server stays: a module cannot be
 * unloaded, and the next client should not wait for it again.
 *
 * Handing over is Node's own: a server built on net.Server takes a socket emitted as its
 * 'connection' event (a TLS server wraps it and handshakes, an HTTP server parses it).
 * The socket is handed over in the same tick it was accepted, before any of its data can
 * be read, so nothing the client sent first is lost.
 */
import net, { type AddressInfo, type Socket } from 'node:net';

export interface DeferredServer<S> {
  /** Binds `host:port` (port 0: any free one); resolves with the port bound. */
  listen(host: string, port: number): Promise<number>;
  /** The protocol server, once a connection has made it. */
  made(): S | undefined;
  /** True from a successful listen until close. */
  readonly listening: boolean;
  /**
   * Stops taking connections; `done` runs once every accepted connection has closed (the
   * caller ends them). False, and `done` not called, when it was not listening.
   */
  close(done: () => void): boolean;
  /** Destroys every accepted connection still open (what close waits for, cut now). */
  destroyConnections(): void;
}

export interface DeferredServerOptions<S> {
  /** Makes the protocol server, once, at the first connection (loading its modules then). */
  make: () => S;
  /** Told when `make` throws; that connection is closed and the next one tries again. */
  onMakeError?: (error: unknown) => void;
}

export function createDeferredServer<S extends net.Server>(options: DeferredServerOptions<S>): DeferredServer<S> {
  let server: S | undefined;
  /** Every TCP connection from its accept, before any handshake: what destroyConnections cuts. */
  const sockets = new Set<Socket>();
  const listener = net.createServer((socket) => {
    // A reset connection can report an error after it was handed over or closed; with no
    // listener that would be an uncaught exception of the daemon.
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (server === undefined) {
      try {
        server = options.make();
      } catch (error) {
        socket.destroy();
        options.onMakeError?.(error);
        return;
      }
    }
    server.emit('connection', socket);
  });
  return {
    listen: (host, port) =>
      new Promise<number>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        listener.once('error', onError);
        listener.listen(port, host.replace(/^\[|\]$/g, ''), () => {
          listener.off('error', onError);
          resolve((listener.address() as AddressInfo).port);
        });
      }),
    made: () => server,
    get listening() {
      return listener.listening;
    },
    close(done) {
      if (!listener.listening) return false;
      listener.close(() => done());
      return true;
    },
    destroyConnections() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

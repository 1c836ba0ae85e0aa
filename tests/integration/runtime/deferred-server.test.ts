/**
 * The listener whose protocol server is made at the first connection (agents-runtime/src/
 * listen/deferred-server.ts), on real sockets on 127.0.0.1: the server is made once, the
 * first bytes a client sends reach it, a `make` that throws closes that connection only and
 * is tried again, close waits for the connections it accepted, and destroyConnections cuts
 * them, a client that never sent a byte included.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDeferredServer } from '../../../agents-runtime/src/listen/deferred-server';

/** An echo server (a net.Server, as http2's and http's are): what a client sends comes back. */
function echoServer(): net.Server {
  return net.createServer((socket) => socket.pipe(socket));
}

/** Connects, sends `text` at once, and resolves with what comes back before the server ends it, or with 'closed'. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => {
      got += chunk.toString('utf8');
      if (got.length >= text.length) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got === '' ? 'closed' : got));
  });
}

describe('a listener whose server is made at the first connection', () => {
  it('binds at listen and makes nothing until a client comes; then makes it once and keeps it', async () => {
    let made = 0;
    const deferred = createDeferredServer({
      make: () => {
        made += 1;
        return echoServer();
      },
    });
    expect(deferred.close(() => undefined)).toBe(false);
    const port = await deferred.listen('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    expect(deferred.listening).toBe(true);
    expect(made).toBe(0);
    expect(deferred.made()).toBeUndefined();
    // The first bytes, sent before the server exists, are not lost.
    await expect(exchange(port, 'first')).resolves.toBe('first');
    await expect(exchange(port, 'second')).resolves.toBe('second');
    expect(made).toBe(1);
    expect(deferred.made()).toBeInstanceOf(net.Server);
    await new Promise<void>((resolve) => deferred.close(resolve));
    expect(deferred.listening).toBe(false);
  });

  it('closes the connection whose make threw, says why, and makes it again for the next', async () => {
    const errors: unknown[] = [];
    let tries = 0;
    const deferred = createDeferredServer({
      make: () => {
        tries += 1;
        if (tries === 1) throw new Error('no TLS context');
        return echoServer();
      },
      onMakeError: (error) => errors.push(error),
    });
    const port = await deferred.listen('127.0.0.1', 0);
    await expect(exchange(port, 'lost')).resolves.toBe('closed');
    expect(errors.map((e) => (e as Error).message)).toEqual(['no TLS context']);
    await expect(exchange(port, 'served')).resolves.toBe('served');
    expect(tries).toBe(2);
    await new Promise<void>((resolve) => deferred.close(resolve));
  });

  it('a port already taken fails listen with the bind error', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const deferred = createDeferredServer({ make: echoServer });
      await expect(deferred.listen('127.0.0.1', taken)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(deferred.listening).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('close stops taking connections and calls back once the accepted ones have closed', async () => {
    const deferred = createDeferredServer({ make: () => net.createServer(() => undefined) });
    const port = await deferred.listen('127.0.0.1', 0);
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.on('connect', () => resolve()));
    const events: string[] = [];
    const closed = new Promise<void>((resolve) =>
      deferred.close(() => {
        events.push('closed');
        resolve();
      }),
    );
    await expect(exchange(port, 'late')).resolves.toBe('closed');
    events.push('client ends');
    client.destroy();
    await closed;
    expect(events).toEqual(['client ends', 'closed']);
  });

  it('destroyConnections cuts every accepted connection, one whose server never answers included, and close then completes', async () => {
    let accepted = 0;
    const deferred = createDeferredServer({ make: () => net.createServer(() => (accepted += 1)) });
    const port = await deferred.listen('127.0.0.1', 0);
    const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    const ended = clients.map((client) => {
      client.on('error', () => undefined);
      return new Promise<string>((resolve) => client.on('close', () => resolve('cut')));
    });
    clients[1]!.on('connect', () => clients[1]!.write('hello'));
    // Both handed to the server (a bounded wait: 200 turns of 25 ms).
    for (let turn = 0; turn < 200 && accepted < 2; turn += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(accepted).toBe(2);
    const closed = new Promise<void>((resolve) => deferred.close(resolve));
    deferred.destroyConnections();
    await expect(Promise.all(ended)).resolves.toEqual(['cut', 'cut']);
    await closed;
    expect(deferred.listening).toBe(false);
  });
});

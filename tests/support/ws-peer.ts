import WebSocket from 'ws';
import { apiSocketProtocols, type Transport } from '../../electron/contract';

/** How a test client opens the API socket: with the session's token (as the page offers it) or without any. */
export interface SocketOptions {
  token?: string | null;
  headers?: Record<string, string>;
}

function newSocket(url: string, { token = null, headers = {} }: SocketOptions): WebSocket {
  return new WebSocket(url, token === null ? [] : apiSocketProtocols(token), { headers });
}

/** A raw WebSocket peer for tests: send anything, await the next message with a bound. */
export class WsPeer {
  private readonly queue: string[] = [];
  private waiters: Array<(text: string) => void> = [];
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      const waiter = this.waiters.shift();
      if (waiter) waiter(text);
      else this.queue.push(text);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve({ code })));
  }

  static open(url: string, options: SocketOptions = {}): Promise<WsPeer> {
    return new Promise((resolve, reject) => {
      const socket = newSocket(url, options);
      const timer = setTimeout(() => reject(new Error(`timed out opening ${url}`)), 5000);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(new WsPeer(socket));
      });
      socket.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  send(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  next(timeoutMs = 5000): Promise<unknown> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (text: string) => {
        clearTimeout(timer);
        resolve(JSON.parse(text));
      };
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.socket.terminate();
  }
}

/** The contract's Transport over a ws client, as the renderer's would be over a browser WebSocket. */
export function wsTransport(socket: WebSocket): Transport {
  return {
    send: (text) => socket.send(text),
    onMessage: (handler) => socket.on('message', (data) => handler(data.toString())),
    onClose: (handler) => socket.on('close', (code) => handler(`closed with ${code}`)),
    close: () => socket.close(),
  };
}

/** An API socket to `url` (ws://127.0.0.1:PORT/api) offering `token` the way the page does. */
export function openSocket(url: string, token: string | null): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = newSocket(url, { token });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../../electron/contract';
import { connectSsh, type SshTarget } from '../../../../electron/backend/hosts/ssh/connect-ssh';

// What connectSsh does before and around the SSH protocol, against local sockets (no
// root, no sshd): the real servers are in tests/integration/hosts/ssh-connect.test.ts.

let silent: net.Server;
let silentPort = 0;
let accepted = 0;
const held = new Set<net.Socket>();

beforeAll(async () => {
  // Accepts and says nothing, like a tarpit or a wedged sshd.
  silent = net.createServer((socket) => {
    accepted += 1;
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

function target(port: number): SshTarget {
  return {
    hostId: 1,
    name: 'db-2',
    address: '127.0.0.1',
    port,
    user: 'ops',
    credentials: { method: 'password', password: 'pw' },
    pinned: null,
    jump: null,
  };
}

function clientTcpHandles(): number {
  // The listening server is one handle of its own; its accepted sockets are the rest.
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length - held.size;
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('connectSsh around the protocol', () => {
  it('does not dial when the signal was aborted before the call', async () => {
    const before = accepted;
    const error = await rejection(connectSsh(target(silentPort), { timeoutMs: 5_000, signal: AbortSignal.abort() }));
    expect(error.code).toBe('SSH_FAILED');
    expect(error.message).toBe(`Connecting to host db-2 (127.0.0.1:${silentPort}) was cancelled.`);
    expect(accepted).toBe(before);
  });

  it('ends a silent server at the deadline and closes its socket', async () => {
    const baseline = clientTcpHandles();
    const started = performance.now();
    const error = await rejection(connectSsh(target(silentPort), { timeoutMs: 400 }));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('HANDSHAKE_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clientTcpHandles()).toBe(baseline);
  });

  it('reports a closed port as CONNECTION_REFUSED', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await rejection(connectSsh(target(port), { timeoutMs: 2_000 }));
    expect(error.code).toBe('CONNECTION_REFUSED');
    expect(error.message).toBe(`Host db-2 (127.0.0.1:${port}) refused the connection on port ${port} (ECONNREFUSED).`);
  });

  it('reports a name that does not resolve as ADDRESS_UNRESOLVED', async () => {
    const error = await rejection(connectSsh({ ...target(22), address: 'no-such-host.invalid' }, { timeoutMs: 5_000 }));
    expect(error.code).toBe('ADDRESS_UNRESOLVED');
    expect(error.message).toMatch(/^The address no-such-host\.invalid of host db-2 \(no-such-host\.invalid:22\) does not resolve/);
  });
});

import net from 'node:net';
import type { ClientChannel } from 'ssh2';
import type { ApiError } from '../../contract';
import type { SshSession } from '../hosts/ssh/ssh-session';

/**
 * `ssh -L 127.0.0.1:<any>:<address>:<port>` over a logged-in session: a TCP server on this
 * machine's loopback whose every connection is carried to `address:port` on the host's
 * side in its own SSH channel. The runtime listens on the host's loopback only, so this
 * is how the control center reaches it; TLS runs end to end on top.
 */
export interface SshTunnel {
  /** The port on 127.0.0.1 of this machine. */
  readonly localPort: number;
  /** Why the latest connection through the tunnel failed (refused on the host, SSH lost), or null. */
  readonly lastFailure: ApiError | null;
  /** Connections carried now. */
  readonly openConnections: number;
  /** Stops listening and cuts every connection and channel. Idempotent. */
  close(): Promise<void>;
}

export interface TunnelDestination {
  /** On the host's side; the runtime's default is its loopback. */
  address: string;
  port: number;
}

export type TunnelSession = Pick<SshSession, 'forwardOut'>;

export async function openSshTunnel(session: TunnelSession, destination: TunnelDestination): Promise<SshTunnel> {
  const sockets = new Set<net.Socket>();
  const channels = new Set<ClientChannel>();
  let lastFailure: ApiError | null = null;
  let closing: Promise<void> | undefined;

  const carry = (socket: net.Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A reset from the local client ends in 'close' like any other end.
    socket.on('error', () => {});
    // Bytes the client sends meanwhile (its TLS hello) wait in the socket: it is not flowing yet.
    session.forwardOut(destination.address, destination.port).then(
      (channel) => {
        if (closing || socket.destroyed) {
          channel.destroy();
          return;
        }
        channels.add(channel);
        lastFailure = null;
        channel.on('close', () => {
          channels.delete(channel);
          socket.destroy();
        });
        channel.on('error', () => socket.destroy());
        socket.on('close', () => channel.destroy());
        socket.pipe(channel).pipe(socket);
      },
      (error: ApiError) => {
        lastFailure = error;
        socket.destroy();
      },
    );
  };

  const server = net.createServer(carry);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const localPort = (server.address() as net.AddressInfo).port;

  return {
    localPort,
    get lastFailure() {
      return lastFailure;
    },
    get openConnections() {
      return sockets.size;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        for (const channel of channels) channel.destroy();
      });
      return closing;
    },
  };
}

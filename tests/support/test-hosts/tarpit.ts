import path from 'node:path';
import { startDaemon, type Daemon } from './daemon';
import { waitForTcpAccept } from './wait-for-server';

// A "slow host": it accepts TCP on the SSH port and then says nothing, forever, so a
// client's handshake timeout is what ends the attempt. It is a few lines of Node run by
// the same binary as the tests, so it needs nothing installed.

const TARPIT_SOURCE = `
const net = require('node:net');
const [address, port] = process.argv.slice(1);
const held = new Set();
const server = net.createServer((socket) => {
  held.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => held.delete(socket));
});
server.listen(Number(port), address, () => console.log('tarpit listening on ' + address + ':' + port));
`;

export interface TarpitSpec {
  namespace: string;
  address: string;
  port: number;
  dir: string;
}

export async function startTarpit(spec: TarpitSpec): Promise<Daemon> {
  const argv = [process.execPath, '-e', TARPIT_SOURCE, spec.address, String(spec.port)];
  const daemon = startDaemon(spec.namespace, argv, path.join(spec.dir, 'tarpit.log'));
  await waitForTcpAccept(spec.address, spec.port, daemon);
  return daemon;
}

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';
import type { ListeningPort } from '../../contract';
import { parseProcNetTcp, uniqueListeningPorts } from './parse-proc-net';

/** Listening TCP sockets: /proc/net/tcp and tcp6 on Linux (no tool needed), systeminformation elsewhere. */
export async function readLocalListeningPorts(platform = process.platform): Promise<ListeningPort[]> {
  if (platform === 'linux') {
    const littleEndian = os.endianness() === 'LE';
    const found: ListeningPort[] = [];
    let read = 0;
    for (const [file, family] of [
      ['/proc/net/tcp', 4],
      ['/proc/net/tcp6', 6],
    ] as const) {
      const text = await readFile(file, 'utf8').catch(() => null);
      if (text === null) continue;
      read++;
      found.push(...parseProcNetTcp(text, family, littleEndian));
    }
    if (read > 0) return uniqueListeningPorts(found);
  }
  const connections = await si.networkConnections();
  return uniqueListeningPorts(
    connections
      .filter((c) => /^tcp/i.test(c.protocol) && /^listen/i.test(c.state))
      .map((c) => ({ address: c.localAddress === '*' || c.localAddress === '' ? '0.0.0.0' : c.localAddress, port: Number(c.localPort) }))
      .filter((p) => Number.isInteger(p.port) && p.port >= 0 && p.port <= 65535),
  );
}

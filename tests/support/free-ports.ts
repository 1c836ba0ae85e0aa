import net from 'node:net';

function listenOn(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const closeServer = (server: net.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A port p such that p .. p + count - 1 are all free on 127.0.0.1 right now. */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listenOn(0);
    if (first === undefined) continue;
    const base = (first.address() as net.AddressInfo).port;
    const held = [first];
    for (let i = 1; i < count && base + i <= 65_535; i++) {
      const s = await listenOn(base + i);
      if (s === undefined) break;
      held.push(s);
    }
    await Promise.all(held.map(closeServer));
    if (held.length === count) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/** A port free on 127.0.0.1 right now. */
export const freePort = (): Promise<number> => freePorts(1);

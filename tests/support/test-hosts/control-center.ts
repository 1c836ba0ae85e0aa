import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createIsolatedNamespace, IP } from './netns';
import { runCommand, runCommandSync } from './run-command';
import { underSystemFilesLock } from './system-files-lock';

// The control center in a network namespace of its own, for tests that prove what it
// contacts. It sits on the lab's bridge like a host, but its address is a /32 and its only
// routes are one /32 per host it may reach: no default route, no route to the gateway (the
// root namespace, with its own loopback services), to the lab's other hosts or anywhere
// else, and no IPv6 but its own loopback. A connection or datagram to anything else fails
// in the kernel with ENETUNREACH before a packet leaves, and the namespace's own SNMP
// counters (Ip OutNoRoutes, Ip6OutNoRoutes) count every such try. Its /etc/resolv.conf,
// as `ip netns exec` shows it, names a nameserver it has no route to, so a DNS query is
// one of those tries too.

/** TEST-NET-1 (RFC 5737): never routed from the control center's namespace. */
export const BLACKHOLE_NAMESERVER = '192.0.2.53';

/** Where `ip netns exec <ns>` finds files it bind-mounts over /etc/<file>. */
export const NETNS_ETC_DIR = '/etc/netns';

export interface NamespaceCounters {
  /** IPv4 packets the kernel could not route (/proc/net/snmp, Ip OutNoRoutes). */
  ipv4OutNoRoutes: number;
  /** The same for IPv6 (/proc/net/snmp6, Ip6OutNoRoutes); 0 where the kernel has no IPv6. */
  ipv6OutNoRoutes: number;
  /** Every counter of /proc/net/snmp and /proc/net/snmp6, as `Ip.OutRequests`, `Tcp.ActiveOpens`, `Ip6OutNoRoutes`. */
  all: Record<string, number>;
}

export interface NamespaceRoutes {
  /** `ip -4 -o route show table all`, one route a line. */
  ipv4: string[];
  ipv6: string[];
}

/** A socket with a peer: TCP in any state but LISTEN, or connected UDP. */
export interface RemoteEndpoint {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
}

/** What a try from inside the namespace came to, and how many unroutable packets the kernel counted meanwhile. */
export interface Attempt {
  /** `connected`, `resolved <addresses>`, or the error code (ENETUNREACH, EAI_AGAIN, ...). */
  outcome: string;
  counted: { ipv4: number; ipv6: number };
}

export interface ControlCenter {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  /** The addresses it has a route to: the hosts it was given. */
  readonly reach: readonly string[];
  /** The nameserver its /etc/resolv.conf names (unroutable unless it is one of `reach`). */
  readonly nameserver: string;
  /** argv that runs `argv` inside the namespace (with its resolv.conf); the environment passes through. */
  command(argv: readonly string[]): string[];
  routes(): Promise<NamespaceRoutes>;
  counters(): Promise<NamespaceCounters>;
  /**
   * The peers of the sockets of the namespace, read through /proc/<pid>/net of a process
   * inside it; undefined when `pid` is not (or no longer) in the namespace.
   */
  remoteEndpoints(pid: number): RemoteEndpoint[] | undefined;
  /** A TCP connect from inside (Node, at most `timeoutMs`). */
  tryConnect(address: string, port: number, timeoutMs?: number): Promise<Attempt>;
  /** A name lookup from inside, through getaddrinfo (`lookup`, as Node's net does) or c-ares (`resolve`). */
  tryLookup(name: string, via?: 'lookup' | 'resolve'): Promise<Attempt>;
}

export interface ControlCenterSpec {
  name: string;
  namespace: string;
  bridge: string;
  /** Root-namespace end of the veth; the namespace end is `eth0`. */
  veth: string;
  address: string;
  reach: readonly string[];
  nameserver: string;
}

export async function createControlCenter(spec: ControlCenterSpec): Promise<ControlCenter> {
  await createIsolatedNamespace(spec.namespace);
  // Before eth0 exists, so it never gets a link-local address nor sends a router solicitation.
  await runCommand([
    IP,
    'netns',
    'exec',
    spec.namespace,
    '/bin/sh',
    '-c',
    'f=/proc/sys/net/ipv6/conf/default/disable_ipv6; [ ! -e "$f" ] || echo 1 > "$f"',
  ]);
  await ipBatch(
    [],
    [`link add ${spec.veth} type veth peer name eth0 netns ${spec.namespace}`, `link set ${spec.veth} master ${spec.bridge} up`],
  );
  await ipBatch(
    ['-n', spec.namespace],
    [
      `addr add ${spec.address}/32 dev eth0`,
      'link set eth0 up',
      ...spec.reach.map((address) => `route add ${address}/32 dev eth0 src ${spec.address}`),
    ],
  );
  await writeNetnsEtcFile(
    spec.namespace,
    'resolv.conf',
    `# SutazAI test-host harness: a nameserver this namespace has no route to.\nnameserver ${spec.nameserver}\n`,
  );
  return new NamespacedControlCenter(spec);
}

class NamespacedControlCenter implements ControlCenter {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly reach: readonly string[];
  readonly nameserver: string;

  constructor(spec: ControlCenterSpec) {
    this.name = spec.name;
    this.namespace = spec.namespace;
    this.address = spec.address;
    this.reach = [...spec.reach];
    this.nameserver = spec.nameserver;
  }

  command(argv: readonly string[]): string[] {
    return [IP, 'netns', 'exec', this.namespace, ...argv];
  }

  async routes(): Promise<NamespaceRoutes> {
    const show = async (family: '-4' | '-6') =>
      (await runCommand([IP, '-n', this.namespace, family, '-o', 'route', 'show', 'table', 'all'])).stdout
        .split('\n')
        .map((line) => line.trim().replace(/\s+/g, ' '))
        .filter((line) => line !== '');
    return { ipv4: await show('-4'), ipv6: await show('-6') };
  }

  async counters(): Promise<NamespaceCounters> {
    const { stdout } = await runCommand(this.command(['/bin/sh', '-c', 'cat /proc/net/snmp; echo; cat /proc/net/snmp6 2>/dev/null || :']));
    const all = parseSnmp(stdout);
    return { ipv4OutNoRoutes: all['Ip.OutNoRoutes'] ?? Number.NaN, ipv6OutNoRoutes: all.Ip6OutNoRoutes ?? 0, all };
  }

  remoteEndpoints(pid: number): RemoteEndpoint[] | undefined {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/net`) !== `net:[${fs.statSync(`/run/netns/${this.namespace}`).ino}]`) return undefined;
      const endpoints: RemoteEndpoint[] = [];
      for (const table of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
        const file = `/proc/${pid}/net/${table}`;
        if (!fs.existsSync(file)) continue;
        endpoints.push(...parseSocketTable(fs.readFileSync(file, 'utf8'), table.startsWith('tcp') ? 'tcp' : 'udp'));
      }
      // Read after the tables: a process that left the namespace meanwhile (exited, its pid reused) does not count.
      return fs.readlinkSync(`/proc/${pid}/ns/net`) === `net:[${fs.statSync(`/run/netns/${this.namespace}`).ino}]` ? endpoints : undefined;
    } catch {
      return undefined;
    }
  }

  tryConnect(address: string, port: number, timeoutMs = 3_000): Promise<Attempt> {
    return this.attempt(['connect', address, String(port), String(timeoutMs)]);
  }

  tryLookup(name: string, via: 'lookup' | 'resolve' = 'lookup'): Promise<Attempt> {
    return this.attempt([via, name, '', '3000']);
  }

  private async attempt(args: string[]): Promise<Attempt> {
    const before = await this.counters();
    const { stdout } = await runCommand(this.command([process.execPath, '-e', ATTEMPT_SCRIPT, ...args]), { timeoutMs: 15_000 });
    const after = await this.counters();
    return {
      outcome: stdout.trim(),
      counted: { ipv4: after.ipv4OutNoRoutes - before.ipv4OutNoRoutes, ipv6: after.ipv6OutNoRoutes - before.ipv6OutNoRoutes },
    };
  }
}

// Run by `node -e` inside the namespace: argv is [node, kind, target, port, timeoutMs].
const ATTEMPT_SCRIPT = `
const [kind, target, port, limit] = process.argv.slice(1);
const done = (outcome) => { process.stdout.write(outcome + '\\n'); process.exit(0); };
setTimeout(() => done('timeout'), Number(limit)).unref();
if (kind === 'connect') {
  const socket = require('node:net').connect({ host: target, port: Number(port) });
  socket.on('connect', () => { socket.destroy(); done('connected'); });
  socket.on('error', (error) => done(error.code || error.message));
} else if (kind === 'lookup') {
  require('node:dns').lookup(target, { all: true }, (error, found) => done(error ? error.code : 'resolved ' + found.map((a) => a.address).join(',')));
} else {
  require('node:dns').resolve4(target, (error, found) => done(error ? error.code : 'resolved ' + found.join(',')));
}`;

/** `Ip: Forwarding ...` / `Ip: 2 ...` pairs of /proc/net/snmp, and `Ip6OutNoRoutes 0` lines of /proc/net/snmp6. */
export function parseSnmp(text: string): Record<string, number> {
  const counters: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = /^(\w+):\s+(.*)$/.exec(lines[i] ?? '');
    const values = /^(\w+):\s+(.*)$/.exec(lines[i + 1] ?? '');
    if (header && values && header[1] === values[1] && /^[A-Za-z]/.test(header[2] ?? '')) {
      const names = (header[2] ?? '').trim().split(/\s+/);
      const numbers = (values[2] ?? '').trim().split(/\s+/);
      names.forEach((name, k) => (counters[`${header[1]}.${name}`] = Number(numbers[k])));
      i += 1;
      continue;
    }
    const single = /^(\w+)\s+(-?\d+)$/.exec((lines[i] ?? '').trim());
    if (single?.[1] !== undefined) counters[single[1]] = Number(single[2]);
  }
  return counters;
}

/** The peers in /proc/net/{tcp,tcp6,udp,udp6}: addresses are the kernel's 32-bit words in host byte order. */
export function parseSocketTable(text: string, protocol: 'tcp' | 'udp'): RemoteEndpoint[] {
  const TCP_LISTEN = '0A';
  const endpoints: RemoteEndpoint[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [remoteHex, portHex] = (fields[2] ?? '').split(':');
    if (remoteHex === undefined || portHex === undefined) continue;
    if (protocol === 'tcp' && fields[3] === TCP_LISTEN) continue;
    const port = parseInt(portHex, 16);
    if (port === 0 && /^0+$/.test(remoteHex)) continue; // unconnected UDP
    endpoints.push({ protocol, address: decodeAddress(remoteHex), port });
  }
  return endpoints;
}

function decodeAddress(hex: string): string {
  const bytes = Buffer.alloc(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    const value = parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    if (os.endianness() === 'LE') bytes.writeUInt32LE(value, word * 4);
    else bytes.writeUInt32BE(value, word * 4);
  }
  if (bytes.length === 4) return [...bytes].join('.');
  // An IPv4-mapped IPv6 address reads as IPv4.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return [...bytes.subarray(12)].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

// /etc/netns/<namespace>/: created and removed under the harness lock, so a run removing
// an emptied /etc/netns never races another run creating its entry in it.

async function writeNetnsEtcFile(namespace: string, file: string, content: string): Promise<void> {
  const dir = path.join(NETNS_ETC_DIR, namespace);
  await runCommand(underSystemFilesLock(['/bin/sh', '-c', 'mkdir -p -m 0755 "$1" && cat > "$1/$2"', 'szt-netns-etc', dir, file]), {
    input: content,
  });
}

/** Removes /etc/netns/<namespace> entries, and /etc/netns itself once empty. */
export function removeNetnsEtcSync(dirs: readonly string[]): void {
  if (dirs.length === 0) return;
  runCommandSync(
    underSystemFilesLock(['/bin/sh', '-c', 'rm -rf -- "$@" && { rmdir /etc/netns 2>/dev/null || :; }', 'szt-netns-etc', ...dirs]),
  );
}

async function ipBatch(globalArgs: readonly string[], commands: readonly string[]): Promise<void> {
  await runCommand([IP, ...globalArgs, '-batch', '-'], { input: commands.join('\n') + '\n', timeoutMs: 10_000 });
}

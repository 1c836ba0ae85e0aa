import { runCommand, runCommandSync } from './run-command';

// The topology: one bridge in the root namespace holding the gateway address of the
// run's /24, and per host a namespace with loopback up and a veth into the bridge.
// `ip -batch` keeps it to two processes per host, which matters when 20 come up at once.

export const IP = '/usr/sbin/ip';

export async function createBridge(bridge: string, gatewayCidr: string): Promise<void> {
  await ipBatch([], [`link add ${bridge} type bridge`, `addr add ${gatewayCidr} dev ${bridge}`, `link set ${bridge} up`]);
}

export interface HostNamespaceSpec {
  namespace: string;
  bridge: string;
  /** Root-namespace end of the veth; the namespace end is `eth0`. */
  veth: string;
  /** The host's address with its prefix, e.g. 198.18.7.2/24. */
  cidr: string;
}

export async function createHostNamespace(spec: HostNamespaceSpec): Promise<void> {
  await createIsolatedNamespace(spec.namespace);
  await ipBatch(
    [],
    [`link add ${spec.veth} type veth peer name eth0 netns ${spec.namespace}`, `link set ${spec.veth} master ${spec.bridge} up`],
  );
  await ipBatch(['-n', spec.namespace], [`addr add ${spec.cidr} dev eth0`, 'link set eth0 up']);
}

/** A namespace with only loopback: reachable from nowhere until linked. */
export async function createIsolatedNamespace(namespace: string): Promise<void> {
  await ipBatch([], [`netns add ${namespace}`]);
  await ipBatch(['-n', namespace], ['link set lo up']);
}

/** A veth between two namespaces (the jump host and its target), both ends addressed. */
export async function linkNamespaces(
  a: { namespace: string; device: string; cidr: string },
  b: { namespace: string; device: string; cidr: string },
): Promise<void> {
  await ipBatch([], [`link add ${a.device} netns ${a.namespace} type veth peer name ${b.device} netns ${b.namespace}`]);
  await ipBatch(['-n', a.namespace], [`addr add ${a.cidr} dev ${a.device}`, `link set ${a.device} up`]);
  await ipBatch(['-n', b.namespace], [`addr add ${b.cidr} dev ${b.device}`, `link set ${b.device} up`]);
}

/** Names of namespaces (`ip netns list`) and root-namespace links (`ip link`). */
export function listNamespaces(): string[] {
  const out = runCommandSync([IP, 'netns', 'list']).stdout;
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

export function listLinks(): string[] {
  const out = runCommandSync([IP, '-o', 'link', 'show']).stdout;
  const linkNames: string[] = [];
  for (const line of out.split('\n')) {
    // "8: sztab12v1@if2: <BROADCAST,..." -> sztab12v1
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    if (name !== undefined) linkNames.push(name);
  }
  return linkNames;
}

/**
 * Deletes namespaces, then what is left of the root-namespace links. A namespace takes its
 * veths with it, in one batch of kernel cleanup for all of them; deleting veths one by one
 * instead costs an RCU grace period each (half a second for 20 hosts). Veths still there
 * after a bounded wait (e.g. one whose namespace was never made) are deleted by name, and
 * bridges last. Synchronous so it can run from an exit handler; missing objects are fine.
 */
export function deleteNetwork(network: { namespaces: readonly string[]; veths: readonly string[]; bridges: readonly string[] }): void {
  ipBatchSync(network.namespaces.map((ns) => `netns del ${ns}`));
  const present = (names: readonly string[]) => {
    const links = new Set(listLinks());
    return names.filter((name) => links.has(name));
  };
  let veths = present(network.veths);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < VETH_GONE_WAIT_MS && veths.length > 0; waited += 20) {
    Atomics.wait(cell, 0, 0, 20);
    veths = present(veths);
  }
  ipBatchSync([...veths, ...network.bridges].map((link) => `link del ${link}`));
}

const VETH_GONE_WAIT_MS = 2_000;

function ipBatchSync(commands: readonly string[]): void {
  if (commands.length === 0) return;
  // -force: go on past a missing object; the exit code is then 1, which is expected.
  runCommandSync([IP, '-force', '-batch', '-'], { input: commands.join('\n') + '\n', okCodes: [0, 1] });
}

/** The IPv4 routes of the root namespace, as CIDRs (default excluded). */
export async function rootRoutes(): Promise<string[]> {
  const out = (await runCommand([IP, '-4', 'route', 'show', 'table', 'all'])).stdout;
  const routes: string[] = [];
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/);
    // Skip the route type keyword of e.g. "local 10.0.0.1 dev ..." / "broadcast ...".
    const first = ['local', 'broadcast', 'unicast', 'unreachable', 'blackhole', 'prohibit', 'throw', 'multicast', 'anycast'].includes(
      words[0] ?? '',
    )
      ? words[1]
      : words[0];
    if (first === undefined || first === '' || first === 'default') continue;
    routes.push(first.includes('/') ? first : `${first}/32`);
  }
  return routes;
}

async function ipBatch(globalArgs: readonly string[], commands: readonly string[]): Promise<void> {
  await runCommand([IP, ...globalArgs, '-batch', '-'], { input: commands.join('\n') + '\n', timeoutMs: 10_000 });
}

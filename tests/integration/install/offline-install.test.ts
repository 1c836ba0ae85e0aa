// Issue 5, item 9: nothing in an install reaches anything but the selected hosts. The whole
// install runs as an operator runs it, the real `sutazai` CLI (bundle import, hosts added
// with their keys pinned, plan, apply), from inside a network namespace whose only routes
// are one /32 to each of the install's two test hosts: no default route, no route to the
// root namespace (the lab's gateway) or the lab's other addresses, no IPv6 but loopback,
// and a resolv.conf naming a nameserver it cannot reach. Any try to go elsewhere (a
// connection, a datagram, a DNS query) fails in the kernel before a packet leaves and is
// counted in the namespace's own Ip OutNoRoutes / Ip6OutNoRoutes: those must not move
// across the install, which must still succeed with every runtime process healthy. The
// sockets of the namespace are watched while the CLI runs: every peer is a host's port 22
// (or the namespace's own loopback).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  buildRealNodeBundle,
  runtimeReports,
  startInstallBackend,
  stopInstalledRuntime,
  VAULT_PASSPHRASE,
} from '../../support/install-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { ControlCenter, TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const repoRoot = path.resolve(__dirname, '../../..');
const cli = path.join(repoRoot, 'bin/sutazai.mjs');
const labRef = useTestLab();
const tmp = makeTempDir('sutazai-offline-install-');
const dataDir = path.join(tmp.path, 'data');
// The CLI seals with it; the backend the test opens afterwards (for the operator's certificate) unseals with it.
const PASSPHRASE = VAULT_PASSPHRASE;
const INSTALL = 'offline-lab';
const CLI_LIMIT_MS = 240_000;
const SOCKET_POLL_MS = 20;
let kit: BundleKit;
let bundle: BuiltBundle;
let rootHost: TestHost;
let sudoHost: TestHost;
let cc: ControlCenter;
let installFile: string;
const roots = new Map<string, string>();

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `tcp 198.18.7.2:22`: every peer seen on the namespace's sockets while it ran. */
  peers: Set<string>;
}

/** The real CLI inside the control center's namespace, its sockets watched until it exits. */
function sutazaiInside(args: string[]): Promise<CliRun> {
  const [file, ...rest] = cc.command([process.execPath, cli, '--data-dir', dataDir, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(file!, rest, {
      cwd: repoRoot,
      env: { ...process.env, SUTAZAI_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const peers = new Set<string>();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const watch = setInterval(() => {
      for (const peer of (child.pid !== undefined ? cc.remoteEndpoints(child.pid) : undefined) ?? [])
        peers.add(`${peer.protocol} ${peer.address}:${peer.port}`);
    }, SOCKET_POLL_MS);
    const limit = setTimeout(() => child.kill('SIGKILL'), CLI_LIMIT_MS);
    child.on('error', (error) => {
      clearInterval(watch);
      clearTimeout(limit);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(watch);
      clearTimeout(limit);
      resolve({ code, stdout, stderr, peers });
    });
  });
}

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const limit = setTimeout(() => child.kill('SIGKILL'), CLI_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const { lab } = labRef;
  // The sudo login writes its uploads below this directory: it must be able to pass through.
  fs.chmodSync(tmp.path, 0o755);
  [kit, rootHost, sudoHost] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'sudo-password' }),
  ]);
  bundle = await buildRealNodeBundle(kit, 'offline-install');
  // Built out here, so the namespace sees only the CLI at work (bin/sutazai.mjs builds a stale CLI first).
  const built = await run([process.execPath, cli, 'help']);
  expect(built.code, built.stderr).toBe(0);
  cc = await lab.addControlCenter({ reach: [rootHost, sudoHost] });

  fs.writeFileSync(path.join(tmp.path, 'sudo-password'), `${sudoHost.password!}\n`, { mode: 0o600 });
  const systemPaths = (name: string) => {
    const base = path.join(tmp.path, name);
    roots.set(name, path.join(base, 'opt'));
    return {
      root_dir: path.join(base, 'opt'),
      config_dir: path.join(base, 'etc'),
      state_dir: path.join(base, 'state'),
      log_dir: path.join(base, 'log'),
    };
  };
  installFile = path.join(tmp.path, 'install.yaml');
  fs.writeFileSync(
    installFile,
    [
      `name: ${INSTALL}`,
      // Named as imported: the install file holds inventory names and a bundle name, no address or URL.
      `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
      'environment: development',
      'config:',
      '  - values:',
      '      install: { health_timeout_seconds: 90 }',
      'hosts:',
      '  - name: root-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(systemPaths('root-host'))} } }`,
      '  - name: sudo-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(systemPaths('sudo-host'))} } }`,
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  const { lab } = labRef;
  const installed = new Map([
    ['root-host', rootHost],
    ['sudo-host', sudoHost],
  ]);
  await Promise.all([...roots].map(([name, root]) => stopInstalledRuntime(lab, installed.get(name)!, root).catch(() => undefined)));
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('an install from a namespace whose only routes lead to the hosts', () => {
  it('has a route to each host of the install and nothing else; a try to go elsewhere fails and is counted', async () => {
    const routes = await cc.routes();
    expect(routes.ipv4.filter((route) => !route.includes(' table local ')).sort()).toEqual(
      [rootHost, sudoHost].map((h) => `${h.address} dev eth0 scope link src ${cc.address}`).sort(),
    );
    expect(routes.ipv4.some((route) => route.startsWith('default'))).toBe(false);
    for (const route of routes.ipv6) expect(route).toMatch(/^(local ::1|multicast ff00::\/8) dev lo /);

    // The counters do see what the install must not do: a connection to the root namespace,
    // one to the internet, and a name lookup (the resolver's nameserver is out of reach).
    expect(await cc.tryConnect(labRef.lab.gateway, 22)).toEqual({ outcome: 'ENETUNREACH', counted: { ipv4: 1, ipv6: 0 } });
    expect(await cc.tryConnect('192.0.2.1', 443)).toEqual({ outcome: 'ENETUNREACH', counted: { ipv4: 1, ipv6: 0 } });
    expect(await cc.tryConnect('2001:db8::1', 443)).toEqual({ outcome: 'ENETUNREACH', counted: { ipv4: 0, ipv6: 1 } });
    const lookup = await cc.tryLookup('root-host');
    expect(lookup.outcome).not.toMatch(/^resolved/);
    expect(lookup.counted.ipv4).toBeGreaterThan(0);
    // And the hosts are there.
    for (const host of [rootHost, sudoHost])
      expect(await cc.tryConnect(host.address, 22)).toEqual({ outcome: 'connected', counted: { ipv4: 0, ipv6: 0 } });
  }, 60_000);

  it('imports, adds and pins the hosts, plans and applies from inside it: every host healthy, nothing else tried', async () => {
    const before = await cc.counters();
    const peers = new Set<string>();
    const step = async (args: string[]) => {
      const result = await sutazaiInside(args);
      result.peers.forEach((p) => peers.add(p));
      expect(result.code, `sutazai ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result;
    };

    await step(['bundle', 'import', bundle.file, '--trust-key', kit.key.fingerprint]);
    await step([
      'hosts',
      'add',
      'root-host',
      '--address',
      rootHost.address,
      '--user',
      'root',
      '--key',
      rootHost.privateKeyPath,
      '--trust',
      rootHost.hostKeyFingerprint,
    ]);
    await step([
      'hosts',
      'add',
      'sudo-host',
      '--address',
      sudoHost.address,
      '--user',
      sudoHost.user,
      '--key',
      sudoHost.privateKeyPath,
      '--sudo-password-file',
      path.join(tmp.path, 'sudo-password'),
      '--trust',
      sudoHost.hostKeyFingerprint,
    ]);
    const plan = await step(['plan', '--install', installFile]);
    expect(plan.stdout).toMatch(/^root-host {2}both {2}system-wide under .*\/opt, detached mode$/m);
    expect(plan.stdout).toMatch(/^sudo-host {2}both {2}system-wide under .*\/opt, detached mode$/m);
    const apply = await step(['apply', '--install', installFile, '--concurrency', '2']);
    for (const host of ['root-host', 'sudo-host']) {
      for (const name of ['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record']) {
        expect(apply.stdout).toMatch(new RegExp(`^${host} {2}${name} +done {2}`, 'm'));
      }
      expect(apply.stdout).toMatch(new RegExp(`^${host} {2}health +done +core running 1/1, agent running 1/1$`, 'm'));
      expect(apply.stdout).toContain(`${host}: ${bundle.manifest.name}@${bundle.manifest.version} installed and healthy`);
    }
    const after = await cc.counters();

    // Nothing was tried beyond the routes: no connection, datagram or DNS query anywhere else.
    expect({ ipv4: after.ipv4OutNoRoutes - before.ipv4OutNoRoutes, ipv6: after.ipv6OutNoRoutes - before.ipv6OutNoRoutes }).toEqual({
      ipv4: 0,
      ipv6: 0,
    });
    // The counters were live: the CLI did open its SSH connections in this namespace.
    expect(after.all['Tcp.ActiveOpens']! - before.all['Tcp.ActiveOpens']!).toBeGreaterThan(0);
    // Every peer seen was a host's SSH port or the namespace's own loopback.
    const hostPeers = new Set([rootHost, sudoHost].map((h) => `tcp ${h.address}:22`));
    expect([...peers].filter((p) => !hostPeers.has(p) && !/^(tcp|udp) (127\.\d+\.\d+\.\d+|::1):\d+$/.test(p))).toEqual([]);
    expect([...hostPeers].filter((p) => !peers.has(p))).toEqual([]);

    // The runtimes' own report, through an SSH tunnel from the test process, with the install's CA.
    const backend = await startInstallBackend(dataDir);
    try {
      expect(await runtimeReports(dataDir, INSTALL, [rootHost, sudoHost])).toEqual(
        [rootHost, sudoHost].map((h) => ({
          host: h.name,
          processes: [
            ['core', ['PROCESS_STATE_RUNNING']],
            ['agent', ['PROCESS_STATE_RUNNING']],
          ],
          health: 'SERVING',
        })),
      );
    } finally {
      await backend.close();
    }
  }, 300_000);
});

import fs from 'node:fs';
import path from 'node:path';
import type { LinkTarget } from '../../electron/backend/fleet/link/link-types';
import { openRuntimeConnection, type RuntimeConnection } from '../../electron/backend/fleet/runtime-connection';
import type { SshSession } from '../../electron/backend/hosts/ssh/ssh-session';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { openStore, type Store } from '../../electron/backend/store/open-store';
import { openLabSession } from './lab-session';
import { makeRuntimeCerts, type Pem, type RuntimeCerts } from './runtime-certs';
import { buildRuntimeBundle, daemonLayout, killDaemonsAndInstances, writeDaemonFiles, type DaemonLayout } from './runtime-daemon-harness';
import { logTail, startDaemon, type Daemon } from './test-hosts/daemon';
import type { TestHost, TestLab } from './test-hosts/test-hosts';
import { makeWaitFor } from './wait-for';

/**
 * The shipped runtime on a test host as the fleet's tests reach it: the esbuild bundle, its
 * config, manifest and TLS material under the test's directory (daemonLayout), the daemon run
 * inside the host's network namespace (its 127.0.0.1 is not this process's, so only an SSH
 * tunnel reaches it), and connections opened as the control center opens them: SSH with the
 * host key pinned, a tunnel, gRPC over TLS with the operator's certificate.
 */
export interface LabRuntime {
  readonly host: TestHost;
  readonly certs: RuntimeCerts;
  readonly layout: DaemonLayout;
  /** The daemon started last; undefined before the first start. */
  readonly daemon: Daemon | undefined;
  /** Starts the daemon, its output appended to `logFile`, and waits until that log says it is ready. */
  start(logFile: string): Promise<Daemon>;
  /** SIGTERMs the daemon's process group (its processes stay, for the next daemon to adopt) and waits until it has exited. */
  stop(): Promise<void>;
  /** A session and a runtime connection on it, with the operator's certificate unless `pem` says otherwise. */
  connect(options?: { pem?: Pem; runtimePort?: number }): Promise<{ session: SshSession; runtime: RuntimeConnection }>;
  /** Closes every connection and session connect() opened so far. */
  closeConnections(): Promise<void>;
  /** The connections, the daemon (waited for a bounded time), every process that carries its marker, the certificates. */
  close(): Promise<void>;
}

export interface LabRuntimeOptions {
  /** The test's own directory: the daemon's files go below it. */
  dir: string;
  manifest: string;
  runtimePort: number;
  /** The connections' deadline for a unary call. */
  callTimeoutMs: number;
}

/** Adds a test host (root, key login) and writes its runtime's files; the daemon starts with start(). */
export async function openLabRuntime(lab: TestLab, options: LabRuntimeOptions): Promise<LabRuntime> {
  const host = await lab.addSshHost({ login: 'root-key' });
  const layout = daemonLayout(options.dir);
  buildRuntimeBundle(layout.bundleDir, 120_000);
  const certs = makeRuntimeCerts();
  try {
    writeDaemonFiles({
      configFile: layout.configFile,
      manifest: options.manifest,
      listenPort: options.runtimePort,
      stateDir: layout.stateDir,
      logDir: layout.logDir,
      certs,
    });
  } catch (error) {
    certs.remove();
    throw error;
  }
  let daemon: Daemon | undefined;
  const sessions: SshSession[] = [];
  const connections: RuntimeConnection[] = [];
  const closeConnections = async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
    for (const session of sessions.splice(0)) session.close();
  };
  return {
    host,
    certs,
    layout,
    get daemon() {
      return daemon;
    },
    async start(logFile) {
      daemon = await startReadyDaemon(host, [process.execPath, layout.bundle, 'run', '--config', layout.configFile], logFile);
      return daemon;
    },
    async stop() {
      const running = daemon;
      if (!running || running.hasExited() || running.pid <= 0) return;
      try {
        process.kill(-running.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await running.exited;
    },
    async connect({ pem = certs.operator, runtimePort = options.runtimePort } = {}) {
      const session = await openLabSession(host);
      sessions.push(session);
      const runtime = await openRuntimeConnection({
        session,
        runtimePort,
        tls: { caCertPem: certs.ca.certPem, ...pem },
        callTimeoutMs: options.callTimeoutMs,
      });
      connections.push(runtime);
      return { session, runtime };
    },
    closeConnections,
    async close() {
      await closeConnections();
      if (daemon && !daemon.hasExited() && daemon.pid > 0) {
        try {
          process.kill(-daemon.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      }
      killDaemonsAndInstances([], layout.runtimeId);
      certs.remove();
    },
  };
}

const READY_LINE = 'sutazai-runtime ready';

/**
 * Starts `argv` (a runtime daemon) in the host's namespace, its output appended to `logFile`,
 * and waits until that log says ready once more than it did before (a restart may append to
 * the log of the run before it). Fails at once with the log's tail if the daemon exits.
 */
export async function startReadyDaemon(host: TestHost, argv: readonly string[], logFile: string, what = 'the runtime'): Promise<Daemon> {
  const readyLines = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split(READY_LINE).length - 1 : 0);
  const before = readyLines();
  const daemon = startDaemon(host.namespace, argv, logFile);
  const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 50, diagnostics: () => `\n${logTail(logFile)}` });
  await waitFor(`${what} in the namespace to be ready`, () => {
    if (daemon.hasExited()) throw new Error(`${what} exited:\n${logTail(logFile)}`);
    return readyLines() > before;
  });
  return daemon;
}

/**
 * The control center's store under `<dir>/control-center`, with the lab host in its inventory
 * (series and events are keyed by its id), and the link target that names it in `installName`.
 */
export function openStoreWithLabHost(dir: string, host: TestHost, installName: string): { store: Store; target: LinkTarget } {
  const store = openStore({ dataDir: path.join(dir, 'control-center') });
  const row = addLabHostRow(store, host, host.name);
  return { store, target: { installName, hostId: row.id, hostName: row.name } };
}

/** A host row for the lab host under `name` (a second name gives the same host a second identity). */
export function addLabHostRow(store: Store, host: TestHost, name: string): { id: number; name: string } {
  return createHostsRepo(store.db).insertSsh(
    {
      name,
      address: host.address,
      port: host.port,
      user: host.user,
      authMethod: 'key',
      keyPath: host.privateKeyPath,
      secretId: null,
      sudoSecretId: null,
      jumpHostId: null,
      role: null,
      labels: [],
    },
    Date.now(),
  );
}

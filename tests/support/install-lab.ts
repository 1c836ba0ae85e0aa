import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type {
  ApiClient,
  ApplyResult,
  BundleImportResult,
  InstallPlan,
  InstallRunEvent,
  RollbackResult,
  UninstallResult,
} from '../../electron/contract';
import { startBackend, type Backend, type BackendConfig } from '../../electron/backend/app/backend';
import { createSecretVault } from '../../electron/backend/secrets/secret-vault';
import type { Dispatcher } from '../../electron/backend/server/dispatcher';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { checkoutSources, findCheckout } from '../../electron/backend/bundles/checkout-sources';
import { openRuntimeConnection, type RuntimeTls } from '../../electron/backend/fleet/runtime-connection';
import type { LinkTiming } from '../../electron/backend/fleet/link/host-link';
import { issueControlCenterCertificate } from '../../electron/backend/pki/issue-certificate';
import { unsealCaKey } from '../../electron/backend/pki/seal-ca-key';
import type { BundleKit } from './bundle-kit';
import { openLabSession } from './lab-session';
import type { TestHost, TestLab } from './test-hosts/test-hosts';

/**
 * What the install tests share: a bundle whose Node binary is the one running the tests
 * (so the real runtime, core and agent run on the test hosts, which share this machine's
 * filesystem and libraries), a backend over a fresh data directory with the vault open,
 * and test hosts added to its inventory with their keys pinned and their facts probed.
 */
export const VAULT_PASSPHRASE = 'install test vault passphrase';

export async function buildRealNodeBundle(kit: BundleKit, name: string, version?: string): Promise<BuiltBundle> {
  return kit.build(name, {
    sources: checkoutSources(findCheckout(), kit.runtimeDir, { 'linux-x64': process.execPath }),
    // Tests run the backend from source, whose version is the dev marker 0.0.0-dev.
    controlCenterRange: '*',
    ...(version !== undefined ? { version } : {}),
  });
}

interface RunOptions {
  onEvent?: (event: InstallRunEvent) => void;
  /** Aborting cancels the run (installs.cancelRun): its hosts' SSH connections are cut, as a dropped link would cut them. */
  signal?: AbortSignal;
}

/** Install files run to their end through the contract (installs.*File), their progress events to `onEvent`. */
export interface FileInstalls {
  plan(file: string): Promise<InstallPlan>;
  apply(file: string, options?: RunOptions & { concurrency?: number; allowDowngrade?: boolean }): Promise<ApplyResult>;
  rollback(file: string, options?: RunOptions & { host?: string; to?: string }): Promise<RollbackResult>;
  uninstall(file: string, options?: RunOptions & { host?: string }): Promise<UninstallResult>;
}

/** The install tests' backend, used as the CLI uses it: through the contract's client on the in-process pipe. */
export interface LabBackend {
  /** Served over a WebSocket too by install-api-server (the app's other pipe). */
  readonly dispatcher: Dispatcher;
  /** The backend's one-time files, which the web server needs to take uploads (a page imports a bundle by upload). */
  readonly downloads: Backend['downloads'];
  readonly api: ApiClient;
  readonly installs: FileInstalls;
  readonly bundles: { import(file: string, options?: { trustKey?: string }): Promise<BundleImportResult> };
  readonly logger: Logger;
  close(): Promise<void>;
}

/** `overrides`: more of the backend's configuration (the fleet's links on, a vault left locked with `vaultKey: undefined`). */
export async function startInstallBackend(
  dataDir: string,
  overrides: Partial<Pick<BackendConfig, 'fleetLinks' | 'linkTiming' | 'vaultKey' | 'accessRecheckMs'>> = {},
): Promise<LabBackend> {
  const backend: Backend = await startBackend({
    dataDir,
    logLevel: 'debug',
    mode: 'test',
    logToConsole: false,
    sampleLocalHost: false,
    probeAtStart: false,
    vaultKey: { kind: 'passphrase', passphrase: VAULT_PASSPHRASE },
    ...overrides,
  });
  const api = backend.openClient('install-lab');
  return {
    dispatcher: backend.dispatcher,
    downloads: backend.downloads,
    api,
    installs: fileInstalls(api),
    bundles: { import: (file, options = {}) => api.call('bundles.import', { path: file, ...options }) },
    logger: backend.logger,
    async close() {
      api.close();
      await backend.close();
    },
  };
}

function fileInstalls(api: ApiClient): FileInstalls {
  /** Subscribed before the run starts, so its first event is heard too. */
  async function following<T>({ onEvent, signal }: RunOptions, run: (progressId: string | undefined) => Promise<T>): Promise<T> {
    if (!onEvent && !signal) return run(undefined);
    const progressId = randomUUID();
    const unsubscribe = await api.subscribe('installs.runProgress', { progressId }, ({ event }) => onEvent?.(event));
    const cancel = () => void api.call('installs.cancelRun', { progressId });
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      return await run(progressId);
    } finally {
      signal?.removeEventListener('abort', cancel);
      await unsubscribe();
    }
  }
  const given = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  return {
    plan: (file) => api.call('installs.planFile', { file: { path: file } }),
    apply: (file, { onEvent, signal, ...options } = {}) =>
      following({ onEvent, signal }, (progressId) =>
        api.call('installs.applyFile', given({ file: { path: file }, ...options, progressId })),
      ),
    rollback: (file, { onEvent, signal, ...options } = {}) =>
      following({ onEvent, signal }, (progressId) =>
        api.call('installs.rollbackFile', given({ file: { path: file }, ...options, progressId })),
      ),
    uninstall: (file, { onEvent, signal, ...options } = {}) =>
      following({ onEvent, signal }, (progressId) =>
        api.call('installs.uninstallFile', given({ file: { path: file }, ...options, progressId })),
      ),
  };
}

/** Adds a lab host to the inventory (key login; the sudo password when it has one), pins its key, probes it; answers its host id. */
export async function addLabHost(backend: LabBackend, host: TestHost, name: string): Promise<number> {
  const added = await backend.api.call('hosts.add', {
    name,
    address: host.address,
    port: host.port,
    user: host.user,
    auth: { method: 'key', keyPath: host.privateKeyPath },
    ...(host.login === 'sudo-password' && host.password ? { sudoPassword: host.password } : {}),
  });
  await backend.api.call('hosts.trust', { hostId: added.id, fingerprint: host.hostKeyFingerprint });
  await backend.api.call('hosts.probe', { hostId: added.id });
  return added.id;
}

/**
 * The same through the API, as an operator's app would: adds a lab host (key login, the key
 * sent as its text: web mode names no file on the backend's machine), pins its key, probes
 * it; answers its host id.
 */
export async function addLabHostOverApi(api: ApiClient, host: TestHost, name: string): Promise<number> {
  const added = await api.call('hosts.add', {
    name,
    address: host.address,
    port: host.port,
    user: host.user,
    auth: { method: 'keyText', privateKey: host.privateKey.toString('utf8') },
  });
  await api.call('hosts.trust', { hostId: added.id, fingerprint: host.hostKeyFingerprint });
  await api.call('hosts.probe', { hostId: added.id });
  return added.id;
}

/**
 * An admin client certificate of the install's CA, as the control center would use it: it
 * names the control center, not an operator, since a runtime that has been pushed its access
 * state refuses an operator the control center does not list.
 */
export async function operatorTlsOf(dataDir: string, installName: string): Promise<RuntimeTls> {
  // A vault of its own on a second connection, opened with the lab's passphrase: the CA key is sealed in the store.
  const db = new Database(path.join(dataDir, 'sutazai.db'));
  try {
    const row = db.prepare('SELECT ca_cert AS caCert, ca_key_secret_id AS secretId FROM installs WHERE name = ?').get(installName) as {
      caCert: string;
      secretId: number;
    };
    const vault = createSecretVault(db);
    vault.unlock({ kind: 'passphrase', passphrase: VAULT_PASSPHRASE });
    const ca = unsealCaKey(vault, row.secretId, installName, row.caCert);
    const client = await issueControlCenterCertificate(ca, { role: 'admin' });
    return { caCertPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem };
  } finally {
    db.close();
  }
}

export interface RuntimeReport {
  host: string;
  /** Each process and the states of its instances, e.g. ['agent', ['PROCESS_STATE_RUNNING']]. */
  processes: Array<[string, string[]]>;
  health: string;
}

/**
 * What each host's runtime reports through fleet's SSH tunnel (the host's pinned key, its
 * login key), with an admin certificate of the install's CA, as the control center sees it.
 */
export async function runtimeReports(dataDir: string, installName: string, hosts: readonly TestHost[]): Promise<RuntimeReport[]> {
  const tls = await operatorTlsOf(dataDir, installName);
  const reports: RuntimeReport[] = [];
  for (const host of hosts) {
    const session = await openLabSession(host);
    try {
      const runtime = await openRuntimeConnection({ session, runtimePort: RUNTIME_PORT, tls });
      try {
        const processes = (await runtime.listProcesses()).map((p): [string, string[]] => [p.name, p.instances.map((i) => i.state)]);
        reports.push({ host: host.name, processes, health: await runtime.checkHealth() });
      } finally {
        await runtime.close();
      }
    } finally {
      session.close();
    }
  }
  return reports;
}

/** The runtime's gRPC port on each host's loopback (config/defaults.yaml). */
const RUNTIME_PORT = 7600;

/** Reads rows of the backend's database through a second, read-only connection. */
export function queryStore<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/**
 * Stops the runtime of an install root on a test host (stop-all through the current
 * release, as root inside the host's namespace); the lab kills whatever is left anyway.
 */
export async function stopInstalledRuntime(lab: TestLab, host: TestHost, root: string): Promise<void> {
  const config = path.join(root, 'current', 'etc', 'runtime.yaml');
  const release = path.join(root, 'current');
  if (!fs.existsSync(config)) {
    // A release that was started but never made current: stop it through its own directory.
    const releases = path.join(root, 'releases');
    for (const version of fs.existsSync(releases) ? fs.readdirSync(releases).filter((v) => !v.startsWith('.')) : []) {
      const candidate = path.join(releases, version);
      if (fs.existsSync(path.join(candidate, 'etc', 'runtime.yaml'))) await stopWith(lab, host, candidate);
    }
    return;
  }
  await stopWith(lab, host, release);
}

async function stopWith(lab: TestLab, host: TestHost, release: string): Promise<void> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await lab.exec(
    host,
    `${q(`${release}/runtime/node`)} ${q(`${release}/runtime/sutazai-runtime.cjs`)} stop-all --config ${q(`${release}/etc/runtime.yaml`)} >/dev/null 2>&1 || :`,
    { timeoutMs: 60_000 },
  );
}

export function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

/**
 * Link timing for tests with links over test hosts: short enough for a test, long enough
 * for a busy machine (a keepalive every 0.5 s notices a cut interface within seconds).
 */
export const TEST_LINK_TIMING: Partial<LinkTiming> = {
  connectTimeoutMs: 10_000,
  callTimeoutMs: 3_000,
  keepaliveIntervalMs: 500,
  backoff: { initialMs: 200, maxMs: 2_000 },
  blockedPollMs: 200,
  consumerStopMs: 3_000,
  rereadInstallsMs: 500,
};

/**
 * Writes `install.yaml` in `dir`: each host in role both, its install paths under its own tree
 * (release-lab hostTree's values), `values` added to the install's config.
 */
export function writeLabInstallFile(
  dir: string,
  install: {
    name: string;
    bundle: BuiltBundle;
    values?: Record<string, unknown>;
    hosts: ReadonlyArray<{ name: string; installValues: Record<string, unknown> }>;
  },
): string {
  const file = path.join(dir, 'install.yaml');
  fs.writeFileSync(
    file,
    [
      `name: ${install.name}`,
      `bundle: ${install.bundle.manifest.name}@${install.bundle.manifest.version}`,
      'environment: development',
      'config:',
      `  - values: ${JSON.stringify({ install: { health_timeout_seconds: 90 }, ...install.values })}`,
      'hosts:',
      ...install.hosts.flatMap((host) => [
        `  - name: ${host.name}`,
        '    role: both',
        `    config: { values: { install: ${JSON.stringify(host.installValues)} } }`,
      ]),
    ].join('\n'),
  );
  return file;
}

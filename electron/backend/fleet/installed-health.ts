import { ApiError, isApiError, type InstallHealth, type RuntimeProcess } from '../../contract';
import { linkOffer } from './link/link-offer';
import type { FleetLinks } from './link/link-types';
import { openRuntimeConnection, type RuntimeConnection, type RuntimeTls } from './runtime-connection';
import { issueInstallClientTls, runtimeListenOf } from './install-runtime-access';
import { buildSshTarget, type TargetDeps } from '../hosts/build-ssh-target';
import { connectSsh } from '../hosts/ssh/connect-ssh';
import type { InstallHostRow, InstallsRepo } from '../store/installs-repo';
import type { ProcessStatus__Output } from '../../../agents-runtime/src/wire';

export interface InstalledHealthDeps extends TargetDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'hosts'>;
  /** A serving backend's fleet links: a host whose link is up is asked through it; null in a process without links. */
  links: Pick<FleetLinks, 'state' | 'connection'> | null;
  now: () => number;
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_CALL_TIMEOUT_MS = 5_000;

type HostHealth = InstallHealth['hosts'][number];
type Via = NonNullable<HostHealth['via']>;

/**
 * Asks every host of an install, now, how its runtime is: through the host's fleet link
 * when it is up (its shared connection: no login of its own), else through an SSH tunnel
 * of its own to the runtime's port (as applied: the host's merged configuration in the
 * store) with a viewer certificate of the install's own CA made for this look and never
 * stored; each host's answer says which, and why. A host is healthy when its runtime
 * answers and every process has all its replicas running (which the runtime reports only
 * once each passed its health check).
 */
export async function checkInstalledHealth(deps: InstalledHealthDeps, installName: string): Promise<InstallHealth> {
  const install = deps.installs.findByName(installName);
  if (!install)
    throw new ApiError(
      'NOT_FOUND',
      `There is no install named ${installName}.`,
      'Install it first; the Install page lists what was installed.',
    );
  // Made only when some host's link is not up: a certificate costs a key pair.
  let tls: Promise<RuntimeTls> | null = null;
  const viewerTls = (): Promise<RuntimeTls> =>
    (tls ??= issueInstallClientTls(deps.vault, install, {
      role: 'viewer',
      validityDays: 1,
      purpose: `Asking the runtimes of ${installName}`,
      afterUnlock: 'Then check again.',
    }));
  const hosts = await Promise.all(deps.installs.hosts(install.id).map((host) => checkHost(deps, install.name, host, viewerTls)));
  return { install: install.name, checkedAt: deps.now(), healthy: hosts.length > 0 && hosts.every((h) => h.healthy), hosts };
}

async function checkHost(
  deps: InstalledHealthDeps,
  installName: string,
  host: InstallHostRow,
  viewerTls: () => Promise<RuntimeTls>,
): Promise<HostHealth> {
  const row = deps.hosts.get(host.hostId);
  const name = row?.name ?? `#${host.hostId}`;
  const unreachable = (error: unknown, via: Via | null): HostHealth => ({
    hostId: host.hostId,
    host: name,
    reachable: false,
    healthy: false,
    error: toApiError(error).toBody(),
    via,
    runtime: null,
    processes: [],
  });
  if (!row)
    return unreachable(
      new ApiError('HOST_NOT_FOUND', `Host #${host.hostId} is no longer in the inventory.`, 'Add it again to reach its runtime.'),
      null,
    );
  const ask = async (connection: RuntimeConnection, via: Via): Promise<HostHealth> => {
    const [info, processes] = await Promise.all([connection.getInfo(), connection.listProcesses()]);
    const shown = processes.map(describeProcess);
    return {
      hostId: row.id,
      host: row.name,
      reachable: true,
      healthy: shown.length > 0 && shown.every(isProcessHealthy),
      error: null,
      via,
      runtime: { version: info.runtimeVersion, bundleVersion: info.bundleVersion, uptimeMs: Number(info.uptimeMs) },
      processes: shown,
    };
  };

  const offer = linkOffer(deps.links, row.id, installName);
  if (offer.usable) {
    const via: Via = { kind: 'fleet-link', note: `asked through the fleet link of ${row.name}` };
    // The link's answer is the answer: a runtime that does not answer over an up link would not over a second line either.
    try {
      return await ask(offer.links.connection(row.id), via);
    } catch (error) {
      return unreachable(error, via);
    }
  }
  const via: Via = { kind: 'own-connection', note: `asked over an SSH connection of its own: ${offer.why}` };
  // A locked vault fails the whole check, as it did before links: its error says to unlock it.
  const tls = await viewerTls();
  let session;
  try {
    session = await connectSsh(buildSshTarget(deps, row), { timeoutMs: deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS });
    const listen = runtimeListenOf(host);
    const connection = await openRuntimeConnection({
      session,
      runtimePort: listen.port,
      runtimeAddress: listen.address,
      tls,
      callTimeoutMs: deps.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    });
    try {
      return await ask(connection, via);
    } finally {
      await connection.close();
    }
  } catch (error) {
    return unreachable(error, via);
  } finally {
    session?.close();
  }
}

export function describeProcess(process: ProcessStatus__Output): RuntimeProcess {
  return {
    name: process.name,
    replicas: process.replicas,
    instances: process.instances.map((instance) => ({
      instance: instance.instance,
      state: instance.state.replace(/^PROCESS_STATE_/, '').toLowerCase(),
      pid: instance.pid,
      restarts: instance.restarts,
      lastError: instance.lastError?.message ? instance.lastError.message : null,
    })),
  };
}

/** All its replicas there and running. */
export function isProcessHealthy(process: RuntimeProcess): boolean {
  return process.instances.length === process.replicas && process.instances.every((i) => i.state === 'running');
}

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError(
    'RUNTIME_CALL_FAILED',
    `Asking the runtime failed: ${(error as Error)?.message ?? String(error)}`,
    'Check again; if it keeps failing, send the app log with your report.',
    { cause: error },
  );
}

import { ApiError, isApiError, type InstallHealth, type RuntimeProcess } from '../../contract';
import { openRuntimeConnection, type RuntimeTls } from './runtime-connection';
import { issueInstallClientTls, runtimeListenOf } from './install-runtime-access';
import { buildSshTarget, type TargetDeps } from '../hosts/build-ssh-target';
import { connectSsh } from '../hosts/ssh/connect-ssh';
import type { InstallHostRow, InstallsRepo } from '../store/installs-repo';
import type { ProcessStatus__Output } from '../../../agents-runtime/src/wire';

export interface InstalledHealthDeps extends TargetDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'hosts'>;
  now: () => number;
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/**
 * Asks every host of an install, now, how its runtime is: through an SSH tunnel to the
 * runtime's port (as applied: the host's merged configuration in the store), with a
 * viewer certificate of the install's own CA made for this look and never stored. A host
 * is healthy when its runtime answers and every process has all its replicas running
 * (which the runtime reports only once each passed its health check).
 */
export async function checkInstalledHealth(deps: InstalledHealthDeps, installName: string): Promise<InstallHealth> {
  const install = deps.installs.findByName(installName);
  if (!install)
    throw new ApiError(
      'NOT_FOUND',
      `There is no install named ${installName}.`,
      'Install it first; the Install page lists what was installed.',
    );
  const tls = await issueInstallClientTls(deps.vault, install, {
    role: 'viewer',
    validityDays: 1,
    purpose: `Asking the runtimes of ${installName}`,
    afterUnlock: 'Then check again.',
  });
  const hosts = await Promise.all(deps.installs.hosts(install.id).map((host) => checkHost(deps, host, tls)));
  return { install: install.name, checkedAt: deps.now(), healthy: hosts.length > 0 && hosts.every((h) => h.healthy), hosts };
}

async function checkHost(deps: InstalledHealthDeps, host: InstallHostRow, tls: RuntimeTls): Promise<InstallHealth['hosts'][number]> {
  const row = deps.hosts.get(host.hostId);
  const name = row?.name ?? `#${host.hostId}`;
  const unreachable = (error: unknown) => ({
    hostId: host.hostId,
    host: name,
    reachable: false,
    healthy: false,
    error: toApiError(error).toBody(),
    runtime: null,
    processes: [],
  });
  if (!row)
    return unreachable(
      new ApiError('HOST_NOT_FOUND', `Host #${host.hostId} is no longer in the inventory.`, 'Add it again to reach its runtime.'),
    );
  const listen = runtimeListenOf(host);
  let session;
  try {
    session = await connectSsh(buildSshTarget(deps, row), { timeoutMs: deps.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS });
  } catch (error) {
    return unreachable(error);
  }
  try {
    const connection = await openRuntimeConnection({
      session,
      runtimePort: listen.port,
      runtimeAddress: listen.address,
      tls,
      callTimeoutMs: deps.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    });
    try {
      const [info, processes] = await Promise.all([connection.getInfo(), connection.listProcesses()]);
      const shown = processes.map(describeProcess);
      return {
        hostId: row.id,
        host: row.name,
        reachable: true,
        healthy: shown.length > 0 && shown.every(isProcessHealthy),
        error: null,
        runtime: { version: info.runtimeVersion, bundleVersion: info.bundleVersion, uptimeMs: Number(info.uptimeMs) },
        processes: shown,
      };
    } finally {
      await connection.close();
    }
  } catch (error) {
    return unreachable(error);
  } finally {
    session.close();
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

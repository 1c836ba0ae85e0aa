import { buildSshTarget, type TargetDeps } from '../../hosts/build-ssh-target';
import { connectSsh } from '../../hosts/ssh/connect-ssh';
import type { InstallsRepo } from '../../store/installs-repo';
import { issueInstallClientTls, runtimeListenOf } from '../install-runtime-access';
import type { FleetLinks, LinkTarget } from '../link/link-types';
import { openRuntimeConnection, type RuntimeConnection } from '../runtime-connection';
import { hostNotInstalledError } from './process-errors';

/** A runtime connection lent for one call or one followed log; `release` gives it back (closes what was opened for it). */
export interface BorrowedConnection {
  target: LinkTarget;
  connection: RuntimeConnection;
  release(): Promise<void>;
}

/**
 * Where process control and logs get a host's runtime: the fleet's links in a serving
 * backend (the desktop app, web mode), which share one connection per host; a connection
 * opened for the call in a one-shot command's backend, which keeps no links (it must not
 * log in to the whole fleet to restart one process).
 */
export interface ConnectionSource {
  borrow(hostId: number): Promise<BorrowedConnection>;
}

const CONNECT_WAIT_MS = 30_000;

/**
 * The link's connection; a link still connecting (the backend just started, or it is
 * reconnecting) is waited for, up to `waitMs`; one offline is refused with its reason.
 */
export function linkConnections(links: Pick<FleetLinks, 'state' | 'onChange' | 'connection'>, waitMs = CONNECT_WAIT_MS): ConnectionSource {
  return {
    async borrow(hostId) {
      const state = links.state(hostId);
      // No link: the links' own refusal (FLEET_HOST_NOT_INSTALLED) says why.
      if (!state)
        return { target: { installName: '', hostId, hostName: '' }, connection: links.connection(hostId), release: async () => {} };
      if (state.state === 'connecting') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, waitMs);
          const unsubscribe = links.onChange((changed) => {
            if (changed.target.hostId === hostId && changed.state !== 'connecting') done();
          });
          function done(): void {
            clearTimeout(timer);
            unsubscribe();
            resolve();
          }
        });
      }
      return { target: state.target, connection: links.connection(hostId), release: async () => {} };
    },
  };
}

export interface DirectConnectionDeps extends TargetDeps {
  installs: Pick<InstallsRepo, 'installOfHost' | 'get' | 'host'>;
  connectTimeoutMs?: number;
  /** The role of the certificate made for each connection; default operator (admin: pushing the access state). */
  role?: 'operator' | 'admin';
}

/**
 * A connection of its own for each borrow: the host's SSH login (its key pinned), a
 * tunnel, and an operator certificate of the install's CA made for it and never stored.
 */
export function directConnections(deps: DirectConnectionDeps): ConnectionSource {
  return {
    async borrow(hostId) {
      const row = deps.hosts.get(hostId);
      const owner = deps.installs.installOfHost(hostId);
      const install = owner ? deps.installs.get(owner.installId) : null;
      const installHost = owner ? deps.installs.host(owner.installId, hostId) : null;
      if (!row || !install || !installHost) throw hostNotInstalledError(row?.name ?? `#${hostId}`);
      const tls = await issueInstallClientTls(deps.vault, install, {
        role: deps.role ?? 'operator',
        validityDays: 1,
        purpose: `Reaching the runtime on ${row.name}`,
        afterUnlock: 'Then try again.',
      });
      const listen = runtimeListenOf(installHost);
      const session = await connectSsh(buildSshTarget(deps, row), { timeoutMs: deps.connectTimeoutMs ?? 20_000 });
      try {
        const connection = await openRuntimeConnection({ session, runtimePort: listen.port, runtimeAddress: listen.address, tls });
        return {
          target: { installName: install.name, hostId, hostName: row.name },
          connection,
          async release() {
            await connection.close();
            session.close();
          },
        };
      } catch (error) {
        session.close();
        throw error;
      }
    },
  };
}

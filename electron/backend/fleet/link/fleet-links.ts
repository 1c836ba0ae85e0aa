import type { ApiError } from '../../../contract';
import { buildSshTarget, type TargetDeps } from '../../hosts/build-ssh-target';
import { connectSsh } from '../../hosts/ssh/connect-ssh';
import type { InstallRecordsRepo } from '../../store/install-records-repo';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import { issueInstallClientTls, runtimeListenOf, vaultLockedError } from '../install-runtime-access';
import { openRuntimeConnection, type RuntimeTls } from '../runtime-connection';
import { createHandshakeSlots } from './handshake-slots';
import { DEFAULT_LINK_TIMING, startHostLink, type HostLink, type LinkTiming, type OpenedLink } from './host-link';
import { hostNotLinkedError, LINK_WAITS_FOR_VAULT, linkRemovedError } from './link-errors';
import type { FleetLinks, LinkConsumer, LinkState, LinkTarget } from './link-types';

export interface FleetLinksOptions extends TargetDeps {
  installs: Pick<InstallsRepo, 'findByName' | 'host'>;
  installRecords: Pick<InstallRecordsRepo, 'list'>;
  /** Run on every link while it is up (metric ingest, event ingest). */
  consumers: readonly LinkConsumer[];
  now: () => number;
  logger: { info(details: object, message: string): void; warn(details: object, message: string): void };
  timing?: Partial<LinkTiming>;
  random?: () => number;
}

// The links' operator certificate: made from the install's CA when a link opens, and made
// again once half its life is gone, so a long-lived backend never presents an expired one.
const LINK_CERT_VALIDITY_DAYS = 7;
const LINK_CERT_RENEW_AFTER_MS = (LINK_CERT_VALIDITY_DAYS / 2) * 24 * 3600 * 1000;

/**
 * The fleet's links: one per host of every recorded install (a host an apply has reached,
 * whatever its outcome; a `planned` one has no runtime yet). `refresh()` reads the installs
 * again, so links follow applies and uninstalls; nothing connects before it is first
 * called, and from then on the installs are also read again on a timer.
 */
export function createFleetLinks(options: FleetLinksOptions): FleetLinks {
  const timing: LinkTiming = { ...DEFAULT_LINK_TIMING, ...options.timing };
  const slots = createHandshakeSlots(timing.maxConcurrentHandshakes);
  const links = new Map<number, HostLink>();
  const listeners = new Set<(state: LinkState, previous: LinkState | null) => void>();
  const certificates = new Map<string, { caCert: string; tls: Promise<RuntimeTls>; madeAtMs: number }>();
  let refreshing: Promise<void> = Promise.resolve();
  let rereading: NodeJS.Timeout | null = null;
  let closed = false;

  const notify = (state: LinkState, previous: LinkState | null): void => {
    for (const listener of listeners) {
      try {
        listener(state, previous);
      } catch (error) {
        options.logger.warn({ err: String(error) }, 'a fleet link listener failed');
      }
    }
  };

  /** One certificate per install, shared by its links (a key pair per link and reconnect would cost a lot at scale). */
  function tlsFor(install: InstallRow): Promise<RuntimeTls> {
    const kept = certificates.get(install.name);
    if (kept && kept.caCert === install.caCert && options.now() - kept.madeAtMs < LINK_CERT_RENEW_AFTER_MS) return kept.tls;
    const tls = issueInstallClientTls(options.vault, install, {
      role: 'operator',
      validityDays: LINK_CERT_VALIDITY_DAYS,
      purpose: `The link to the runtimes of ${install.name}`,
      afterUnlock: LINK_WAITS_FOR_VAULT,
    });
    certificates.set(install.name, { caCert: install.caCert, tls, madeAtMs: options.now() });
    tls.catch(() => certificates.delete(install.name));
    return tls;
  }

  async function open(target: LinkTarget, signal: AbortSignal, heard: () => void): Promise<OpenedLink> {
    const install = options.installs.findByName(target.installName);
    const hostRow = install && options.installs.host(install.id, target.hostId);
    if (!install || !hostRow) throw linkRemovedError(target);
    const row = options.hosts.get(target.hostId);
    if (!row) throw hostNotLinkedError(target.hostId);
    const tls = await tlsFor(install);
    const session = await connectSsh(buildSshTarget(options, row), { timeoutMs: timing.connectTimeoutMs, signal });
    try {
      const listen = runtimeListenOf(hostRow);
      const connection = await openRuntimeConnection({
        session,
        runtimePort: listen.port,
        runtimeAddress: listen.address,
        tls,
        callTimeoutMs: timing.callTimeoutMs,
        onActivity: heard,
      });
      try {
        // Up means the runtime answered, not merely that SSH let us in.
        await connection.checkHealth();
      } catch (error) {
        await connection.close();
        throw error;
      }
      return { session, connection };
    } catch (error) {
      session.close();
      throw error;
    }
  }

  function start(target: LinkTarget): HostLink {
    return startHostLink({
      target,
      open: (signal, heard) => open(target, signal, heard),
      blockedBy: (): ApiError | null =>
        options.vault.unlocked
          ? null
          : vaultLockedError(`The link to ${target.hostName} of install ${target.installName}`, LINK_WAITS_FOR_VAULT),
      consumers: options.consumers,
      slots,
      timing,
      now: options.now,
      random: options.random ?? Math.random,
      onState: notify,
      logger: options.logger,
    });
  }

  /** Every host an apply has reached, by install name then host name. */
  function recordedTargets(): LinkTarget[] {
    const targets: LinkTarget[] = [];
    for (const install of options.installRecords.list()) {
      for (const host of install.hosts) {
        if (host.state !== 'planned') targets.push({ installName: install.name, hostId: host.hostId, hostName: host.hostName });
      }
    }
    return targets;
  }

  async function reconcile(): Promise<void> {
    if (closed) return;
    const wanted = new Map(recordedTargets().map((t) => [t.hostId, t]));
    const stops: Array<Promise<void>> = [];
    for (const [hostId, link] of links) {
      const target = wanted.get(hostId);
      if (target && target.installName === link.target.installName && target.hostName === link.target.hostName) continue;
      links.delete(hostId);
      stops.push(link.stop(linkRemovedError(link.target)));
    }
    await Promise.all(stops);
    for (const [hostId, target] of wanted) if (!links.has(hostId) && !closed) links.set(hostId, start(target));
  }

  const ordered = (): HostLink[] =>
    [...links.values()].sort(
      (a, b) => a.target.installName.localeCompare(b.target.installName) || a.target.hostName.localeCompare(b.target.hostName),
    );

  return {
    states: () => ordered().map((link) => link.state()),
    state: (hostId) => links.get(hostId)?.state(),
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    connection(hostId) {
      const link = links.get(hostId);
      if (!link) throw hostNotLinkedError(hostId);
      return link.connection();
    },
    async openChannel(hostId, channel) {
      const link = links.get(hostId);
      if (!link) throw hostNotLinkedError(hostId);
      return openRuntimeConnection({ session: link.session(), ...channel });
    },
    refresh() {
      // One at a time, in order: two applies finishing together leave the links of the later one's record.
      refreshing = refreshing.then(reconcile, reconcile);
      if (rereading === null && !closed) {
        // This process's applies refresh at once; another's (the command line's) are seen on the next read.
        rereading = setInterval(() => {
          refreshing = refreshing.then(reconcile, reconcile);
          refreshing.catch((error: unknown) => options.logger.warn({ err: String(error) }, 'reading the installs for the links failed'));
        }, timing.rereadInstallsMs);
        rereading.unref();
      }
      return refreshing;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (rereading !== null) clearInterval(rereading);
      await refreshing.catch(() => undefined);
      const stopping = [...links.values()].map((link) => link.stop(null));
      links.clear();
      listeners.clear();
      await Promise.all(stopping);
    },
  };
}

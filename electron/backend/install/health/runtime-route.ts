import { linkOffer } from '../../fleet/link/link-offer';
import type { FleetLinks, LinkChannel } from '../../fleet/link/link-types';
import { openRuntimeConnection, type RuntimeConnection } from '../../fleet/runtime-connection';
import type { SshSession } from '../../hosts/ssh/ssh-session';

/** What the install engine asks of the fleet's links to reach a runtime through them. */
export type RouteLinks = Pick<FleetLinks, 'state' | 'openChannel'>;

/** A host's fleet link as the install engine sees it: the process's links (null where it keeps none) and which is the host's. */
export interface FleetLinkRef {
  links: RouteLinks | null;
  hostId: number;
  installName: string;
  /** The job that asks, named in the job's log when it goes over its own connection. */
  job: 'apply' | 'rollback';
}

/** Where a look or call of the install engine goes: the host's fleet link when it is up, else the job's own SSH session. */
export interface RuntimeRoute extends FleetLinkRef {
  hostName: string;
  session: SshSession;
  /**
   * The runtime's address as this job configures it, and the job's certificate. A channel of
   * its own over the link's SSH connection, not the link's channel: a changed port, or a call
   * the link's operator certificate may not make (UpdateManifest), would not go through that.
   */
  channel: LinkChannel;
}

export interface RoutedConnection {
  /** The caller closes it; closing one over the link leaves the link as it was. */
  connection: RuntimeConnection;
  /** For the job's log: `over the fleet link of a (its SSH connection)`, or `over this apply's own SSH connection to a: <why not the link>`. */
  via: string;
  overLink: boolean;
}

/**
 * A connection to the runtime through the host's fleet link when it is up, else through the
 * job's own SSH session, saying which and why. `notLink` is a reason to skip the link this
 * time (a try over it just failed: a link not yet seen to be down must not hold a job up).
 */
export async function openRuntimeRoute(route: RuntimeRoute, notLink?: string): Promise<RoutedConnection> {
  let why = notLink ?? '';
  if (notLink === undefined) {
    const offer = linkOffer(route.links, route.hostId, route.installName);
    if (offer.usable) {
      try {
        const connection = await offer.links.openChannel(route.hostId, route.channel);
        return { connection, via: `over the fleet link of ${route.hostName} (its SSH connection)`, overLink: true };
      } catch (error) {
        why = `the fleet link could not open a channel (${messageOf(error)})`;
      }
    } else why = offer.why;
  }
  const connection = await openRuntimeConnection({ session: route.session, ...route.channel });
  return { connection, via: `over this ${route.job}'s own SSH connection to ${route.hostName}: ${why}`, overLink: false };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { FleetLinks, LinkTarget } from './link-types';

/**
 * Whether a host's link can carry a call of the install engine or the health check now,
 * and when it cannot, why, in words for the job's log (they then open a connection of
 * their own, as they did before links existed).
 */
export type LinkOffer<L> = { usable: true; links: L; target: LinkTarget } | { usable: false; why: string };

/** `links` is null in a process that keeps none (a one-shot command of the CLI). */
export function linkOffer<L extends Pick<FleetLinks, 'state'>>(links: L | null, hostId: number, installName: string): LinkOffer<L> {
  if (links === null) return { usable: false, why: 'this process keeps no fleet links' };
  const state = links.state(hostId);
  if (state === undefined) return { usable: false, why: 'the host has no fleet link yet' };
  // A host is in one install at a time; a link left from another one reaches a runtime of another CA.
  if (state.target.installName !== installName)
    return { usable: false, why: `the host's fleet link is still the one of install ${state.target.installName}` };
  if (state.state !== 'online' && state.state !== 'degraded')
    return { usable: false, why: `its fleet link is ${state.state}${state.reason === null ? '' : ` (${state.reason.message})`}` };
  return { usable: true, links, target: state.target };
}

// Whether the install engine's reload and the installed-health check go through a host's
// fleet link: only while it is up and belongs to the same install; otherwise the words the
// job's log and the health answer give for a connection of their own.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { linkOffer } from '../../../electron/backend/fleet/link/link-offer';
import type { FleetLinks, LinkState, LinkStateName } from '../../../electron/backend/fleet/link/link-types';

const target = { installName: 'lab', hostId: 7, hostName: 'alpha' };

function linksWith(state: LinkStateName, reason: ApiError | null = null): Pick<FleetLinks, 'state'> {
  const link: LinkState = { target, state, lastSeenMs: 1_000, reason, sinceMs: 2_000 };
  return { state: (hostId) => (hostId === target.hostId ? link : undefined) };
}

describe('linkOffer', () => {
  it('offers an online or degraded link of the same install', () => {
    for (const state of ['online', 'degraded'] as const) {
      const links = linksWith(state);
      expect(linkOffer(links, 7, 'lab')).toEqual({ usable: true, links, target });
    }
  });

  it('says why there is none: no links kept, no link for the host, another install, or not up with its reason', () => {
    expect(linkOffer(null, 7, 'lab')).toEqual({ usable: false, why: 'this process keeps no fleet links' });
    expect(linkOffer(linksWith('online'), 8, 'lab')).toEqual({ usable: false, why: 'the host has no fleet link yet' });
    expect(linkOffer(linksWith('online'), 7, 'other')).toEqual({
      usable: false,
      why: "the host's fleet link is still the one of install lab",
    });
    expect(linkOffer(linksWith('connecting'), 7, 'lab')).toEqual({ usable: false, why: 'its fleet link is connecting' });
    const refused = new ApiError('CONNECTION_REFUSED', 'alpha refused the connection on port 22.', 'Start sshd on alpha.');
    expect(linkOffer(linksWith('offline', refused), 7, 'lab')).toEqual({
      usable: false,
      why: 'its fleet link is offline (alpha refused the connection on port 22.)',
    });
  });
});

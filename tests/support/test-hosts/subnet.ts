import { randomInt } from 'node:crypto';
import { rootRoutes } from './netns';
import { claimSubnet } from './run-registry';

// A run's /24 is picked at random inside 198.18.0.0/16 (RFC 2544 benchmarking space) among
// those no route of the root namespace touches, then claimed in the registry so that a
// harness in another process cannot take the same one before its bridge exists.

export interface Subnet {
  /** e.g. 198.18.7 */
  base: string;
  /** e.g. 198.18.7.0 */
  network: string;
  /** e.g. 198.18.7.0/24 */
  cidr: string;
  gateway: string;
  prefixLength: 24;
}

const MAX_TRIES = 64;

export async function claimFreeSubnet(runId: string): Promise<Subnet> {
  const routes = (await rootRoutes()).map(parseCidr);
  const candidates = Array.from({ length: 254 }, (_, i) => i + 1).filter((octet) => {
    const mine = parseCidr(`198.18.${octet}.0/24`);
    return !routes.some((route) => route.first <= mine.last && mine.first <= route.last);
  });
  for (let i = 0; i < MAX_TRIES && candidates.length > 0; i++) {
    const [octet] = candidates.splice(randomInt(candidates.length), 1);
    if (octet === undefined) break;
    const base = `198.18.${octet}`;
    if (claimSubnet(runId, `${base}.0`)) {
      return { base, network: `${base}.0`, cidr: `${base}.0/24`, gateway: `${base}.1`, prefixLength: 24 };
    }
  }
  throw new Error(
    'test hosts: no free /24 in 198.18.0.0/16: every one is routed already or claimed by a live harness run ' +
      '(see /run/szt-test-hosts/subnets and `ip route`)',
  );
}

function parseCidr(cidr: string): { first: number; last: number } {
  const [address = '', bits = '32'] = cidr.split('/');
  const value = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const first = value - (value % size);
  return { first, last: first + size - 1 };
}

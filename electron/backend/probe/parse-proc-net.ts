import type { ListeningPort } from '../../contract';

/**
 * Decoders for the kernel's /proc/net tables. /proc/net/tcp, tcp6 and route print each
 * 32-bit word of an address with %08X in the host's byte order, so a big-endian host
 * (s390x, ppc64) reads differently from x86 or ARM; if_inet6 is in network order.
 */

export function isLittleEndianMachine(machine: string): boolean {
  return !/^(s390|ppc64$|ppc$|powerpc$|mips$|mips64$|sparc|m68k|armeb|aarch64_be)/.test(machine.trim());
}

/** `0100007F:0016` (tcp) or 32 hex digits and a port (tcp6) → address and port. */
export function decodeProcNetSocket(hex: string, family: 4 | 6, littleEndian = true): ListeningPort | null {
  const match = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(hex.trim());
  if (!match) return null;
  const addressHex = match[1]!;
  if (addressHex.length !== (family === 4 ? 8 : 32)) return null;
  const bytes: number[] = [];
  for (let word = 0; word < addressHex.length; word += 8) bytes.push(...wordBytes(addressHex.slice(word, word + 8), littleEndian));
  return { address: family === 4 ? bytes.join('.') : formatIpv6(bytes), port: parseInt(match[2]!, 16) };
}

function wordBytes(word: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(word.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

/** The listening sockets (state 0A) of a whole /proc/net/tcp or tcp6 file. */
export function parseProcNetTcp(text: string, family: 4 | 6, littleEndian = true): ListeningPort[] {
  const result: ListeningPort[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== '0A') continue;
    const socket = decodeProcNetSocket(fields[1] ?? '', family, littleEndian);
    if (socket) result.push(socket);
  }
  return result;
}

/** One address and port per entry, ordered by port then address. */
export function uniqueListeningPorts(list: ListeningPort[]): ListeningPort[] {
  const seen = new Map<string, ListeningPort>();
  for (const item of list) seen.set(`${item.address} ${item.port}`, item);
  return [...seen.values()].sort((a, b) => a.port - b.port || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** `ss -ltn`'s local address column: 0.0.0.0:22, [::]:22, *:22, 127.0.0.53%lo:53, [::ffff:127.0.0.1]:80. */
export function parseSsLocalAddress(text: string): ListeningPort | null {
  const match = /^(.*):(\d+)$/.exec(text.trim());
  if (!match) return null;
  let address = match[1]!.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (address === '*') address = '0.0.0.0';
  const port = Number(match[2]);
  return address && port <= 65535 ? { address, port } : null;
}

/** RFC 5952 text: lower case, the longest run of zero groups as ::, IPv4-mapped as ::ffff:a.b.c.d. */
export function formatIpv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${bytes.slice(12, 16).join('.')}`;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** 32 hex digits in network order (/proc/net/if_inet6) → IPv6 text. */
export function ipv6FromHex(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  return formatIpv6(bytes);
}

export interface Ipv4Route {
  iface: string;
  destinationHex: string;
  maskHex: string;
}

/**
 * Puts each local IPv4 address (from /proc/net/fib_trie) on the interface whose
 * connected route holds it, the longest mask winning; 127/8 lives on lo. Addresses no
 * route explains are left out.
 */
export function assignIpv4Addresses(locals: string[], routes: Ipv4Route[], littleEndian = true): Array<{ iface: string; address: string }> {
  const toNumber = (hex: string) => {
    const bytes = wordBytes(hex.padStart(8, '0'), littleEndian);
    return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  };
  const parsed = routes
    .filter((r) => /^[0-9A-Fa-f]{8}$/.test(r.destinationHex) && /^[0-9A-Fa-f]{8}$/.test(r.maskHex))
    .map((r) => ({ iface: r.iface, network: toNumber(r.destinationHex), mask: toNumber(r.maskHex) }))
    .filter((r) => r.mask !== 0);
  const result: Array<{ iface: string; address: string }> = [];
  for (const address of locals) {
    const parts = address.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) continue;
    const value = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
    if (parts[0] === 127) {
      result.push({ iface: 'lo', address });
      continue;
    }
    const best = parsed
      .filter((r) => (value & r.mask) >>> 0 === (r.network & r.mask) >>> 0)
      .sort((a, b) => bitCount(b.mask) - bitCount(a.mask))[0];
    if (best) result.push({ iface: best.iface, address });
  }
  return result;
}

function bitCount(value: number): number {
  let n = 0;
  for (let v = value >>> 0; v; v >>>= 1) n += v & 1;
  return n;
}

import { describe, expect, it } from 'vitest';
import {
  assignIpv4Addresses,
  decodeProcNetSocket,
  formatIpv6,
  ipv6FromHex,
  isLittleEndianMachine,
  parseProcNetTcp,
  parseSsLocalAddress,
} from '../../../electron/backend/probe/parse-proc-net';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19371 1 0000000000000000 100 0 0 10 0
   1: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 17745 1 0000000000000000 100 0 0 10 5
   2: 0F0A140A:0016 0B0A140A:D4C2 01 00000000:00000000 02:0009D9F4 00000000     0        0 52040 4 0000000000000000 20 4 1 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19382 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 88213 1 0000000000000000 100 0 0 10 0
`;

describe('/proc/net decoders', () => {
  it('lists only listening sockets (state 0A) with addresses in the right byte order', () => {
    expect(parseProcNetTcp(TCP, 4)).toEqual([
      { address: '0.0.0.0', port: 22 },
      { address: '127.0.0.53', port: 53 },
    ]);
    expect(parseProcNetTcp(TCP6, 6)).toEqual([
      { address: '::', port: 22 },
      { address: '::ffff:127.0.0.1', port: 8080 },
    ]);
  });

  it('reads a big-endian host (s390x) without reversing bytes', () => {
    expect(isLittleEndianMachine('s390x')).toBe(false);
    expect(isLittleEndianMachine('x86_64')).toBe(true);
    expect(isLittleEndianMachine('aarch64')).toBe(true);
    expect(isLittleEndianMachine('ppc64le')).toBe(true);
    expect(decodeProcNetSocket('7F000001:0050', 4, false)).toEqual({ address: '127.0.0.1', port: 80 });
    expect(decodeProcNetSocket('0100007F:0050', 4, true)).toEqual({ address: '127.0.0.1', port: 80 });
    expect(decodeProcNetSocket('0100007F:50', 4, true)).toBeNull();
  });

  it('writes IPv6 the RFC 5952 way', () => {
    expect(formatIpv6(new Array(16).fill(0))).toBe('::');
    expect(ipv6FromHex('20010db8000000000001000000000001')).toBe('2001:db8::1:0:0:1');
    expect(ipv6FromHex('fe80000000000000020c29fffe123456')).toBe('fe80::20c:29ff:fe12:3456');
    expect(ipv6FromHex('20010db8000100020003000400050006')).toBe('2001:db8:1:2:3:4:5:6');
    expect(ipv6FromHex('20010db8000000010000000000000000')).toBe('2001:db8:0:1::');
    expect(ipv6FromHex('xyz')).toBeNull();
  });

  it('reads ss addresses in all their shapes', () => {
    expect(parseSsLocalAddress('0.0.0.0:22')).toEqual({ address: '0.0.0.0', port: 22 });
    expect(parseSsLocalAddress('[::]:22')).toEqual({ address: '::', port: 22 });
    expect(parseSsLocalAddress('*:5432')).toEqual({ address: '0.0.0.0', port: 5432 });
    expect(parseSsLocalAddress('127.0.0.53%lo:53')).toEqual({ address: '127.0.0.53', port: 53 });
    expect(parseSsLocalAddress('[::ffff:127.0.0.1]:8080')).toEqual({ address: '::ffff:127.0.0.1', port: 8080 });
    expect(parseSsLocalAddress('garbage')).toBeNull();
  });

  it('puts each local IPv4 address on the interface whose route holds it, the longest mask winning', () => {
    const routes = [
      { iface: 'eth0', destinationHex: '00000000', maskHex: '00000000' },
      { iface: 'eth0', destinationHex: '0000000A', maskHex: '000000FF' }, // 10.0.0.0/8
      { iface: 'eth1', destinationHex: '0001000A', maskHex: '00FFFFFF' }, // 10.0.1.0/24
    ];
    expect(assignIpv4Addresses(['127.0.0.1', '10.0.1.7', '10.9.9.9', '192.0.2.1'], routes)).toEqual([
      { iface: 'lo', address: '127.0.0.1' },
      { iface: 'eth1', address: '10.0.1.7' },
      { iface: 'eth0', address: '10.9.9.9' },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseDiskstats, parseMeminfoUsedBytes, parseNetDev } from '../../../electron/backend/metrics/proc-parsers';

describe('/proc parsers', () => {
  it('computes used memory as total minus available', () => {
    const text = 'MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\n';
    expect(parseMeminfoUsedBytes(text)).toBe((16000000 - 6000000) * 1024);
    expect(parseMeminfoUsedBytes('MemTotal: 10 kB\nMemFree: 4 kB\n')).toBe(6 * 1024);
    expect(parseMeminfoUsedBytes('garbage')).toBeNull();
  });

  it('sums network bytes over every interface but loopback', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0',
      '  eth0: 1000 5 0 0 0 0 0 0 200 3 0 0 0 0 0 0',
      '  wlan0: 30 1 0 0 0 0 0 0 4 1 0 0 0 0 0 0',
    ].join('\n');
    expect(parseNetDev(text)).toEqual({ read: 1030, written: 204 });
  });

  it('counts whole disks only, in 512-byte sectors', () => {
    const text = [
      ' 253       0 vda 100 0 8 0 50 0 16 0 0 0 0',
      ' 253       1 vda1 100 0 8 0 50 0 16 0 0 0 0',
      '   7       0 loop0 9 0 999 0 9 0 999 0 0 0 0',
      ' 259       0 nvme0n1 1 0 2 0 1 0 4 0 0 0 0',
      ' 259       1 nvme0n1p1 1 0 2 0 1 0 4 0 0 0 0',
      ' 254       0 dm-0 1 0 1000 0 1 0 1000 0 0 0 0',
    ].join('\n');
    expect(parseDiskstats(text)).toEqual({ read: (8 + 2) * 512, written: (16 + 4) * 512 });
  });
});

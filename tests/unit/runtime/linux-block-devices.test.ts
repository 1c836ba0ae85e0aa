import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isVirtualBlockDevice, VIRTUAL_BLOCK_DEVICE_PREFIXES } from '../../../agents-runtime/src/linux/block-devices';
import { parseDiskstats } from '../../../agents-runtime/src/linux/proc-parsers';
import { diskFromLsblk, diskFromSysBlock } from '../../../electron/backend/probe/parse-lsblk';
import { readSysBlockDisks } from '../../../electron/backend/probe/read-sys-block';

/** Kernel names of devices that are not disks, one or more per prefix. */
const VIRTUAL = ['loop0', 'loop12', 'ram0', 'zram0', 'dm-0', 'dm-3', 'md0', 'md127', 'nbd0', 'drbd1', 'sr0', 'fd0'];
const DISKS = ['sda', 'sdb', 'vda', 'xvda', 'hda', 'nvme0n1', 'mmcblk0'];

describe('virtual block devices: one list for the probe and both samplers', () => {
  it('names every prefix once and judges names by prefix', () => {
    expect(new Set(VIRTUAL_BLOCK_DEVICE_PREFIXES).size).toBe(VIRTUAL_BLOCK_DEVICE_PREFIXES.length);
    for (const prefix of VIRTUAL_BLOCK_DEVICE_PREFIXES) expect(VIRTUAL.some((name) => name.startsWith(prefix))).toBe(true);
    for (const name of VIRTUAL) expect(isVirtualBlockDevice(name), name).toBe(true);
    for (const name of DISKS) expect(isVirtualBlockDevice(name), name).toBe(false);
  });

  it('the probe (lsblk and /sys/block records) lists the disks and none of the rest', () => {
    const lsblk = (name: string) =>
      new Map([
        ['NAME', name],
        ['SIZE', '1048576'],
        ['ROTA', '0'],
        ['TYPE', 'disk'],
        ['MODEL', ''],
      ]);
    expect([...VIRTUAL, ...DISKS].filter((name) => diskFromLsblk(lsblk(name)) !== null)).toEqual(DISKS);
    expect([...VIRTUAL, ...DISKS].filter((name) => diskFromSysBlock(name, 2048, '0', '') !== null)).toEqual(DISKS);
  });

  describe('the local probe reading /sys/block', () => {
    let root = '';
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('skips the same names', async () => {
      root = mkdtempSync(path.join(os.tmpdir(), 'sys-block-'));
      for (const name of [...VIRTUAL, ...DISKS]) {
        mkdirSync(path.join(root, name, 'queue'), { recursive: true });
        writeFileSync(path.join(root, name, 'size'), '2048\n');
        writeFileSync(path.join(root, name, 'queue', 'rotational'), '0\n');
      }
      const disks = await readSysBlockDisks(root);
      expect(disks.map((d) => d.device)).toEqual([...DISKS].sort().map((name) => `/dev/${name}`));
    });
  });

  it("the samplers' disk throughput counts the disks and none of the rest", () => {
    const line = (name: string, sectors: number) => ` 8 0 ${name} 1 0 ${sectors} 0 1 0 ${sectors} 0 0 0 0`;
    const text = [...VIRTUAL.map((name) => line(name, 1000)), ...DISKS.map((name) => line(name, 1))].join('\n');
    expect(parseDiskstats(text)).toEqual({ readBytes: DISKS.length * 512, writeBytes: DISKS.length * 512 });
  });
});

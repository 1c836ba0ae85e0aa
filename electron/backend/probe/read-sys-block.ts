import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isVirtualBlockDevice } from '../../../agents-runtime/src/wire';
import type { DiskFacts } from '../../contract';

/** Disks from /sys/block: size in 512-byte sectors, rotational flag, model when the driver gives one. */
export async function readSysBlockDisks(root: string): Promise<DiskFacts[]> {
  const names = (await readdir(root)).filter((name) => !isVirtualBlockDevice(name)).sort();
  const disks: DiskFacts[] = [];
  for (const name of names) {
    const read = (file: string) =>
      readFile(path.join(root, name, file), 'utf8').then(
        (s) => s.trim(),
        () => '',
      );
    const sectors = Number(await read('size'));
    if (!Number.isFinite(sectors) || sectors <= 0) continue;
    const rotational = await read('queue/rotational');
    disks.push({
      device: `/dev/${name}`,
      model: await read('device/model'),
      type: name.startsWith('nvme') ? 'NVMe' : rotational === '1' ? 'HD' : rotational === '0' ? 'SSD' : '',
      sizeBytes: sectors * 512,
      rotational: rotational === '1' ? true : rotational === '0' ? false : null,
    });
  }
  return disks;
}

import { isVirtualBlockDevice } from '../../../agents-runtime/src/wire';
import type { DiskFacts } from '../../contract';

/**
 * One `lsblk -P` line: KEY="value" pairs, where lsblk writes any awkward byte
 * (quote, backslash, control, non-ASCII) as \xNN. A run of them is decoded as the UTF-8
 * bytes it is, so a model name in another script reads right; what it decodes to is
 * host-made text like any other (the probe parser escapes control characters in it).
 */
export function parseLsblkPairs(line: string): Map<string, string> | null {
  const pairs = new Map<string, string>();
  const rest = line.replace(/([A-Z0-9:_.-]+)="([^"]*)"/g, (_all, key: string, value: string) => {
    pairs.set(key, value.replace(/(?:\\x[0-9a-fA-F]{2})+/g, decodeByteEscapes));
    return '';
  });
  return pairs.size > 0 && rest.trim() === '' ? pairs : null;
}

function decodeByteEscapes(run: string): string {
  return Buffer.from(run.replace(/\\x/g, ''), 'hex').toString('utf8');
}

/** A disk from lsblk's NAME, SIZE (bytes), ROTA, TYPE, MODEL; null for partitions, loops, ROMs and empty devices. */
export function diskFromLsblk(pairs: Map<string, string>): DiskFacts | null {
  const name = pairs.get('NAME') ?? '';
  const type = pairs.get('TYPE') ?? 'disk';
  const size = Number(pairs.get('SIZE'));
  if (!name || type !== 'disk' || isVirtualBlockDevice(name) || !Number.isFinite(size) || size <= 0) return null;
  return diskFacts(name, size, pairs.get('ROTA') ?? '', (pairs.get('MODEL') ?? '').trim());
}

/** A disk from /sys/block/NAME: size in 512-byte sectors. */
export function diskFromSysBlock(name: string, sectors: number, rotational: string, model: string): DiskFacts | null {
  if (isVirtualBlockDevice(name) || !Number.isFinite(sectors) || sectors <= 0) return null;
  return diskFacts(name, sectors * 512, rotational, model.trim());
}

function diskFacts(name: string, sizeBytes: number, rota: string, model: string): DiskFacts {
  const rotational = rota === '1' ? true : rota === '0' ? false : null;
  return {
    device: `/dev/${name}`,
    model,
    type: name.startsWith('nvme') ? 'NVMe' : rotational === true ? 'HD' : rotational === false ? 'SSD' : '',
    sizeBytes,
    rotational,
  };
}

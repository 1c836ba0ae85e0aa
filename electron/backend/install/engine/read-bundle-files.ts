import fs from 'node:fs';
import { ApiError } from '../../../contract';
import { readTar } from '../../bundles/tar-reader';

// The manifest and the unit are a few KiB; a larger entry is not one of them.
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Small files from an imported bundle (which was verified when it was imported), read
 * straight from the archive: the process manifest and the systemd unit the install
 * renders for each host. Stops reading once it has them all.
 */
export async function readBundleFiles(bundle: string, names: readonly string[]): Promise<Map<string, string>> {
  const wanted = new Set(names);
  const found = new Map<string, string>();
  const stream = fs.createReadStream(bundle, { highWaterMark: 1024 * 1024 });
  try {
    for await (const entry of readTar(stream as AsyncIterable<Buffer>)) {
      if (!wanted.has(entry.name) || entry.type === 'directory') continue;
      if (entry.size > MAX_FILE_BYTES)
        throw new ApiError(
          'BUNDLE_CORRUPT',
          `${entry.name} in ${bundle} is ${entry.size} bytes, far larger than it can be.`,
          'Import the bundle again from a good copy.',
        );
      const chunks: Buffer[] = [];
      for await (const chunk of entry.body) chunks.push(chunk);
      found.set(entry.name, Buffer.concat(chunks).toString('utf8'));
      if (found.size === wanted.size) break;
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(
      'BUNDLE_CORRUPT',
      `The imported bundle ${bundle} cannot be read (${(error as Error).message}).`,
      'Import the bundle again (sutazai bundle import FILE).',
      { cause: error },
    );
  } finally {
    stream.destroy();
  }
  const missing = names.filter((name) => !found.has(name));
  if (missing.length > 0)
    throw new ApiError(
      'BUNDLE_FILE_MISSING',
      `The imported bundle ${bundle} has no ${missing.join(', ')}.`,
      'Import a bundle built from a SutazAI checkout (npm run bundle).',
    );
  return found;
}

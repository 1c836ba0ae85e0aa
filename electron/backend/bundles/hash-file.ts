import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** Streams a file through SHA-256 in 1 MiB pieces; a 100 MB Node binary is never held whole. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { isApiError } from '../../contract';
import { DESCRIBING_FILES, describeBundle, type BundleDescription } from './bundle-description';
import {
  bundleChecksumMismatchError,
  bundleCorruptError,
  bundleFileMissingError,
  bundleSizeMismatchError,
  bundleUnexpectedFileError,
  bundleUnreadableError,
} from './bundle-errors';
import { CHECKSUMS_FILE, type BundleManifest } from './bundle-manifest';
import { TarFormatError } from './tar-format-error';
import { readTar, type TarEntry } from './tar-reader';

/** A bundle whose every byte was read and checked; whether its signer is trusted is not decided here. */
export interface InspectedBundle {
  file: string;
  /** SHA-256 of the whole bundle file, and its size. */
  sha256: string;
  sizeBytes: number;
  manifest: BundleManifest;
  signer: { fingerprint: string; publicKey: Buffer; keyLabel: string };
  /** The files inside (not the directories), with their SHA-256 and size. */
  files: Map<string, { sha256: string; size: number; mode: number }>;
}

/** bundle.json and the checksums are a few KiB; anything near this is not ours. */
const MAX_DESCRIBING_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a bundle once, front to back, hashing each file as it streams by (the Node binary
 * is ~100 MB and is never held whole). bundle.json, checksums.sha256 and signature.ed25519
 * come first and are judged at once (signature, checksums, bundle.json); every later entry
 * is then judged at its header, before its data is read: a file not listed, or of another
 * size than listed, or a directory no listed file is in, is refused there. The first
 * refusal found is thrown as an ApiError naming the file inside the bundle.
 */
export async function inspectBundle(file: string): Promise<InspectedBundle> {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: stat.isDirectory() ? 'EISDIR' : 'EINVAL' });
  } catch (error) {
    throw bundleUnreadableError(file, error);
  }

  const whole = createHash('sha256');
  let sizeBytes = 0;
  const files = new Map<string, { sha256: string; size: number; mode: number }>();
  const directories = new Set<string>();
  const describing = new Map<string, Buffer>();
  let description: BundleDescription | null = null;
  const stream = fs.createReadStream(file, { highWaterMark: CHUNK_BYTES });
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      whole.update(chunk);
      sizeBytes += chunk.length;
      yield chunk;
    }
  }

  try {
    for await (const entry of readTar(hashed())) {
      if (files.has(entry.name) || directories.has(entry.name)) {
        throw bundleUnexpectedFileError(file, entry.name, 'appears twice in the archive (unpacking would keep the second, unchecked copy)');
      }
      checkMode(file, entry);
      if (description === null) {
        const place = describing.size;
        const wanted = DESCRIBING_FILES[place]!;
        if (entry.name !== wanted.name) {
          throw bundleFileMissingError(
            file,
            wanted.name,
            `${wanted.why}; every bundle holds it as entry ${place + 1}, where this one holds ${entry.name}`,
          );
        }
        if (entry.size > MAX_DESCRIBING_BYTES)
          throw bundleCorruptError(file, `${entry.name} is ${entry.size} bytes, far larger than any bundle writes`);
        const kept: Buffer[] = [];
        for await (const chunk of entry.body) kept.push(Buffer.from(chunk));
        const bytes = Buffer.concat(kept);
        describing.set(entry.name, bytes);
        files.set(entry.name, { sha256: createHash('sha256').update(bytes).digest('hex'), size: entry.size, mode: entry.mode });
        if (describing.size === DESCRIBING_FILES.length) description = describeBundle(file, describing);
        continue;
      }
      if (entry.type === 'directory') {
        if (!description.folders.has(entry.name))
          throw bundleUnexpectedFileError(file, entry.name, 'is a directory with no listed file in it');
        directories.add(entry.name);
        continue;
      }
      const listed = description.expected.get(entry.name);
      if (!listed)
        throw bundleUnexpectedFileError(
          file,
          entry.name,
          `${CHECKSUMS_FILE} does not list, so no signature covers it (refused at its header, before its ${entry.size} bytes were read)`,
        );
      if (entry.size !== listed.size) throw bundleSizeMismatchError(file, entry.name, listed.size, entry.size);
      const hash = createHash('sha256');
      for await (const chunk of entry.body) hash.update(chunk);
      const sha256 = hash.digest('hex');
      if (sha256 !== listed.sha256) throw bundleChecksumMismatchError(file, entry.name, listed.sha256, sha256);
      files.set(entry.name, { sha256, size: entry.size, mode: entry.mode });
    }
  } catch (error) {
    if (isApiError(error)) throw error;
    if (error instanceof TarFormatError) throw bundleCorruptError(file, error.message, error);
    throw bundleUnreadableError(file, error);
  } finally {
    stream.destroy();
  }

  if (description === null) {
    const absent = DESCRIBING_FILES[describing.size]!;
    throw bundleFileMissingError(file, absent.name, absent.why);
  }
  const missing = [...description.expected.keys()].filter((path) => !files.has(path));
  if (missing.length > 0) {
    throw bundleFileMissingError(
      file,
      missing[0]!,
      `${CHECKSUMS_FILE} lists${missing.length > 1 ? ` (${missing.length - 1} more file(s) are missing too)` : ''}`,
    );
  }
  return { file, sha256: whole.digest('hex'), sizeBytes, manifest: description.manifest, signer: description.signer, files };
}

/** Bundles carry 644 and 755 files and 755 directories, as the builder writes them. */
function checkMode(file: string, entry: TarEntry): void {
  if (entry.type === 'directory') {
    if (entry.mode !== 0o755)
      throw bundleCorruptError(file, `the directory ${entry.name} has mode ${entry.mode.toString(8)}; bundles carry only 755`);
  } else if (entry.mode !== 0o644 && entry.mode !== 0o755) {
    throw bundleCorruptError(file, `${entry.name} has mode ${entry.mode.toString(8)}; bundles carry only 644 and 755`);
  }
}

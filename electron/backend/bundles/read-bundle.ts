import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { isApiError } from '../../contract';
import {
  bundleChecksumMismatchError,
  bundleCorruptError,
  bundleFileMissingError,
  bundleIncompatibleError,
  bundleManifestInvalidError,
  bundleSignatureInvalidError,
  bundleUnexpectedFileError,
  bundleUnreadableError,
} from './bundle-errors';
import { BUNDLE_FORMAT, BundleManifestSchema, CHECKSUMS_FILE, MANIFEST_FILE, pathsNamedBy, SIGNATURE_FILE, type BundleManifest } from './bundle-manifest';
import { checkBundleSignature } from './bundle-signature';
import { parseChecksums } from './checksums-file';
import { TarFormatError } from './tar-format-error';
import { readTar } from './tar-reader';

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

const DESCRIBING_FILES = new Set([MANIFEST_FILE, CHECKSUMS_FILE, SIGNATURE_FILE]);
/** bundle.json and the checksums are a few KiB; anything near this is not ours. */
const MAX_DESCRIBING_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a bundle once, front to back, hashing each file as it streams by (the Node binary
 * is ~100 MB and is never held whole), then judges it: the signature over bundle.json and
 * the checksums, every checksum, no file missing or added, and a valid bundle.json. The
 * first refusal found is thrown as an ApiError naming the file inside the bundle.
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
      if (entry.type === 'directory') {
        if (entry.mode !== 0o755) throw bundleCorruptError(file, `the directory ${entry.name} has mode ${entry.mode.toString(8)}; bundles carry only 755`);
        directories.add(entry.name);
        continue;
      }
      if (entry.mode !== 0o644 && entry.mode !== 0o755) {
        throw bundleCorruptError(file, `${entry.name} has mode ${entry.mode.toString(8)}; bundles carry only 644 and 755`);
      }
      const hash = createHash('sha256');
      const keep = DESCRIBING_FILES.has(entry.name);
      if (keep && entry.size > MAX_DESCRIBING_BYTES) throw bundleCorruptError(file, `${entry.name} is ${entry.size} bytes, far larger than any bundle writes`);
      const kept: Buffer[] = [];
      for await (const chunk of entry.body) {
        hash.update(chunk);
        if (keep) kept.push(Buffer.from(chunk));
      }
      if (keep) describing.set(entry.name, Buffer.concat(kept));
      files.set(entry.name, { sha256: hash.digest('hex'), size: entry.size, mode: entry.mode });
    }
  } catch (error) {
    if (isApiError(error)) throw error;
    if (error instanceof TarFormatError) throw bundleCorruptError(file, error.message, error);
    throw bundleUnreadableError(file, error);
  } finally {
    stream.destroy();
  }

  const manifestBytes = describing.get(MANIFEST_FILE);
  const checksumsBytes = describing.get(CHECKSUMS_FILE);
  const signatureBytes = describing.get(SIGNATURE_FILE);
  if (!manifestBytes) throw bundleFileMissingError(file, MANIFEST_FILE, 'describes every release bundle (is this a SutazAI bundle at all?)');
  if (!checksumsBytes) throw bundleFileMissingError(file, CHECKSUMS_FILE, 'lists the SHA-256 of every file of the bundle');
  if (!signatureBytes) throw bundleFileMissingError(file, SIGNATURE_FILE, 'holds the signature that proves who built the bundle');

  const signature = checkBundleSignature(signatureBytes.toString('utf8'), manifestBytes, checksumsBytes);
  if (!signature.ok) throw bundleSignatureInvalidError(file, signature.reason);

  const listed = parseChecksums(checksumsBytes.toString('utf8'));
  if (!listed.ok) throw bundleCorruptError(file, `${CHECKSUMS_FILE} is malformed: ${listed.reason}`);
  checkListedFiles(file, listed.files, files, directories);

  const manifest = parseManifest(file, manifestBytes);
  for (const { field, path } of pathsNamedBy(manifest)) {
    if (!listed.files.has(path)) throw bundleFileMissingError(file, path, `bundle.json names as ${field}`);
  }
  const configPrefix = `${manifest.config}/`;
  if (![...listed.files.keys()].some((path) => path.startsWith(configPrefix))) {
    throw bundleFileMissingError(file, configPrefix, 'bundle.json names as the default configuration');
  }

  return {
    file,
    sha256: whole.digest('hex'),
    sizeBytes,
    manifest,
    signer: { fingerprint: signature.fingerprint, publicKey: signature.publicKey, keyLabel: signature.keyLabel },
    files,
  };
}

/** Every listed file present with its checksum; nothing else but the checksums and the signature. */
function checkListedFiles(
  file: string,
  listed: Map<string, string>,
  present: Map<string, { sha256: string }>,
  directories: Set<string>,
): void {
  for (const unlisted of [CHECKSUMS_FILE, SIGNATURE_FILE]) {
    if (listed.has(unlisted)) throw bundleCorruptError(file, `${CHECKSUMS_FILE} lists ${unlisted}, which it cannot cover`);
  }
  const missing = [...listed.keys()].filter((path) => !present.has(path));
  if (missing.length > 0) {
    throw bundleFileMissingError(file, missing[0]!, `${CHECKSUMS_FILE} lists${missing.length > 1 ? ` (${missing.length - 1} more file(s) are missing too)` : ''}`);
  }
  const mismatched = [...listed].filter(([path, sha256]) => present.get(path)!.sha256 !== sha256);
  if (mismatched.length > 0) {
    const [path, expected] = mismatched[0]!;
    throw bundleChecksumMismatchError(file, path, expected, present.get(path)!.sha256, mismatched.length - 1);
  }
  for (const path of present.keys()) {
    if (!listed.has(path) && path !== CHECKSUMS_FILE && path !== SIGNATURE_FILE) {
      throw bundleUnexpectedFileError(file, path, `${CHECKSUMS_FILE} does not list, so no signature covers it`);
    }
  }
  // A directory entry is fine only as the parent of a listed file: an empty one is an addition.
  for (const directory of directories) {
    if (![...listed.keys()].some((path) => path.startsWith(directory))) {
      throw bundleUnexpectedFileError(file, directory, `is a directory with no listed file in it`);
    }
  }
}

function parseManifest(file: string, bytes: Buffer): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw bundleManifestInvalidError(file, `it is not JSON (${(error as Error).message})`);
  }
  // A newer builder's format is not damage: say which one, so the operator upgrades.
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && format > BUNDLE_FORMAT) {
    throw bundleIncompatibleError(
      file,
      `it is in bundle format ${format}, and this control center reads format ${BUNDLE_FORMAT}`,
      'Upgrade the control center to the version the bundle was built for, or build the bundle with the builder of this version.',
    );
  }
  const parsed = BundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bundleManifestInvalidError(file, `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

import { createHash } from 'node:crypto';
import {
  bundleChecksumMismatchError,
  bundleCorruptError,
  bundleFileMissingError,
  bundleIncompatibleError,
  bundleManifestInvalidError,
  bundleSignatureInvalidError,
} from './bundle-errors';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_WITHOUT_SIZES,
  BundleManifestSchema,
  CHECKSUMS_FILE,
  MANIFEST_FILE,
  pathsNamedBy,
  SIGNATURE_FILE,
  type BundleManifest,
} from './bundle-manifest';
import { checkBundleSignature } from './bundle-signature';
import { parseChecksums } from './checksums-file';

/** The three files that describe a bundle, in the order the builder writes them first, with why each is needed. */
export const DESCRIBING_FILES: ReadonlyArray<{ name: string; why: string }> = [
  { name: MANIFEST_FILE, why: 'describes every release bundle (is this a SutazAI bundle at all?)' },
  { name: CHECKSUMS_FILE, why: 'lists the SHA-256 of every file of the bundle' },
  { name: SIGNATURE_FILE, why: 'holds the signature that proves who built the bundle' },
];

/** What the signed describing files promise about every other entry of the bundle. */
export interface BundleDescription {
  manifest: BundleManifest;
  signer: { fingerprint: string; publicKey: Buffer; keyLabel: string };
  /** Each listed file but bundle.json: its SHA-256 and, from bundle.json, its size. */
  expected: Map<string, { sha256: string; size: number }>;
  /** The folders of the listed files ('a/', 'a/b/'): the only directory entries a bundle may hold. */
  folders: Set<string>;
}

/**
 * Judges bundle.json, checksums.sha256 and signature.ed25519, read before any other entry:
 * the signature over the first two, then what they list. From here on every later entry's
 * header is checked against the signed list before a byte of its data is read.
 */
export function describeBundle(file: string, describing: ReadonlyMap<string, Buffer>): BundleDescription {
  const manifestBytes = describing.get(MANIFEST_FILE)!;
  const checksumsBytes = describing.get(CHECKSUMS_FILE)!;
  const signature = checkBundleSignature(describing.get(SIGNATURE_FILE)!.toString('utf8'), manifestBytes, checksumsBytes);
  if (!signature.ok) throw bundleSignatureInvalidError(file, signature.reason);

  const listed = parseChecksums(checksumsBytes.toString('utf8'));
  if (!listed.ok) throw bundleCorruptError(file, `${CHECKSUMS_FILE} is malformed: ${listed.reason}`);
  for (const unlisted of [CHECKSUMS_FILE, SIGNATURE_FILE]) {
    if (listed.files.has(unlisted)) throw bundleCorruptError(file, `${CHECKSUMS_FILE} lists ${unlisted}, which it cannot cover`);
  }
  const manifestSha256 = listed.files.get(MANIFEST_FILE);
  if (manifestSha256 === undefined) throw bundleCorruptError(file, `${CHECKSUMS_FILE} does not list ${MANIFEST_FILE}`);
  const actual = createHash('sha256').update(manifestBytes).digest('hex');
  if (actual !== manifestSha256) throw bundleChecksumMismatchError(file, MANIFEST_FILE, manifestSha256, actual);

  const manifest = parseManifest(file, manifestBytes);
  const sizes = manifest.sizes!;
  const expected = new Map<string, { sha256: string; size: number }>();
  const folders = new Set<string>();
  for (const [path, sha256] of listed.files) {
    for (let at = path.indexOf('/'); at !== -1; at = path.indexOf('/', at + 1)) folders.add(path.slice(0, at + 1));
    if (path === MANIFEST_FILE) continue;
    const size = sizes[path];
    if (size === undefined) throw bundleManifestInvalidError(file, `sizes lists no size for ${path}, which ${CHECKSUMS_FILE} lists`);
    expected.set(path, { sha256, size });
  }
  const sizeless = Object.keys(sizes).find((path) => !expected.has(path));
  if (sizeless !== undefined) throw bundleManifestInvalidError(file, `sizes lists ${sizeless}, which ${CHECKSUMS_FILE} does not`);

  for (const { field, path } of pathsNamedBy(manifest)) {
    if (!listed.files.has(path)) throw bundleFileMissingError(file, path, `bundle.json names as ${field}`);
  }
  const configPrefix = `${manifest.config}/`;
  if (![...listed.files.keys()].some((path) => path.startsWith(configPrefix))) {
    throw bundleFileMissingError(file, configPrefix, 'bundle.json names as the default configuration');
  }
  return {
    manifest,
    signer: { fingerprint: signature.fingerprint, publicKey: signature.publicKey, keyLabel: signature.keyLabel },
    expected,
    folders,
  };
}

function parseManifest(file: string, bytes: Buffer): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw bundleManifestInvalidError(file, `it is not JSON (${(error as Error).message})`);
  }
  // A newer builder's format is not damage, nor is an older one's: say which, so the operator upgrades or rebuilds.
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && format > BUNDLE_FORMAT) {
    throw bundleIncompatibleError(
      file,
      `it is in bundle format ${format}, and this control center reads format ${BUNDLE_FORMAT}`,
      'Upgrade the control center to the version the bundle was built for, or build the bundle with the builder of this version.',
    );
  }
  if (format === BUNDLE_FORMAT_WITHOUT_SIZES) {
    throw bundleIncompatibleError(
      file,
      `it is in bundle format ${format}, which does not list the size of each file, and this control center imports format ${BUNDLE_FORMAT}`,
      "Build the bundle again with this version's builder (npm run bundle, or sutazai bundle build); bundles imported before stay usable.",
    );
  }
  const parsed = BundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bundleManifestInvalidError(file, `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

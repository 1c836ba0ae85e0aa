import { ApiError } from '../../contract';

/**
 * Every way a bundle is refused, each with its own code and a remedy. The message names
 * the bundle file and, where there is one, the file inside it, because that is what the
 * operator compares with the builder's copy.
 */

const FRESH_COPY =
  'Copy the bundle again from its source and compare its SHA-256 with the one its builder printed; if a fresh copy is refused the same way, ask the builder to rebuild it.';

export function bundleUnreadableError(file: string, cause: unknown): ApiError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'it does not exist'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : String((cause as Error)?.message ?? cause);
  return new ApiError(
    'BUNDLE_UNREADABLE',
    `The bundle ${file} cannot be read (${why}).`,
    'Give the path of a .sutazai-bundle file that the user running the control center can read.',
    { cause },
  );
}

export function bundleCorruptError(file: string, detail: string, cause?: unknown): ApiError {
  return new ApiError(
    'BUNDLE_CORRUPT',
    `The bundle ${file} is damaged or incomplete: ${detail}.`,
    `An interrupted copy or download is the usual cause. ${FRESH_COPY}`,
    { cause },
  );
}

export function bundleFileMissingError(file: string, missing: string, why: string): ApiError {
  return new ApiError(
    'BUNDLE_FILE_MISSING',
    `The bundle ${file} lacks ${missing}, which ${why}.`,
    `The bundle is incomplete or was altered after it was built; never add files to it by hand. ${FRESH_COPY}`,
  );
}

export function bundleUnexpectedFileError(file: string, entry: string, why: string): ApiError {
  return new ApiError(
    'BUNDLE_UNEXPECTED_FILE',
    `The bundle ${file} holds ${entry}, which ${why}.`,
    `Something was added to the bundle after it was signed. Use the original bundle from its builder. ${FRESH_COPY}`,
  );
}

export function bundleChecksumMismatchError(file: string, entry: string, expected: string, actual: string): ApiError {
  return new ApiError(
    'BUNDLE_CHECKSUM_MISMATCH',
    `${entry} in the bundle ${file} does not match its checksum: expected sha256 ${expected}, found ${actual}.`,
    `${entry} changed after the bundle was built: damage in transit, or tampering. ${FRESH_COPY}`,
  );
}

/** An entry whose header disagrees with the size the signed bundle.json lists: refused before its data is read. */
export function bundleSizeMismatchError(file: string, entry: string, listed: number, claimed: number): ApiError {
  return new ApiError(
    'BUNDLE_CHECKSUM_MISMATCH',
    `${entry} in the bundle ${file} claims ${claimed} bytes in its tar header, and the signed bundle.json lists ${listed}; it was refused before its data was read.`,
    `The archive was altered after the bundle was built: damage in transit, or tampering. ${FRESH_COPY}`,
  );
}

export function bundleSignatureInvalidError(file: string, reason: string): ApiError {
  return new ApiError(
    'BUNDLE_SIGNATURE_INVALID',
    `The signature of the bundle ${file} is not valid: ${reason}.`,
    'bundle.json or checksums.sha256 changed after signing, or the signature is not from the key it names. Do not use this bundle; get the original from its builder.',
  );
}

export function bundleManifestInvalidError(file: string, detail: string): ApiError {
  return new ApiError(
    'BUNDLE_MANIFEST_INVALID',
    `The bundle ${file} has an invalid bundle.json: ${detail}.`,
    'The bundle was made by a faulty or foreign builder. Rebuild it from a SutazAI checkout with `npm run bundle` or `sutazai bundle build`.',
  );
}

export function bundleIncompatibleError(file: string, detail: string, remedy: string): ApiError {
  return new ApiError('BUNDLE_INCOMPATIBLE', `The bundle ${file} cannot be used by this control center: ${detail}.`, remedy);
}

export function bundleKeyUnknownError(file: string, signer: { fingerprint: string; keyLabel: string }, confirmed?: string): ApiError {
  const who = `${signer.fingerprint}${signer.keyLabel ? ` ("${signer.keyLabel}", as the signer calls it)` : ''}`;
  return new ApiError(
    'BUNDLE_KEY_UNKNOWN',
    confirmed
      ? `The bundle ${file} is signed by ${who}, not by ${confirmed}, the key you confirmed.`
      : `The bundle ${file} is signed by ${who}, a key you do not trust yet.`,
    `Ask the bundle's builder for the fingerprint of their signing key (their key tool printed it) and compare. If it is ${signer.fingerprint}, import the bundle again on the Bundles page and confirm that fingerprint when asked.`,
    {
      cliRemedy: `Ask the bundle's builder for the fingerprint of their signing key (\`sutazai bundle keygen\` printed it) and compare. If it is ${signer.fingerprint}, trust it on import: sutazai bundle import ${file} --trust-key ${signer.fingerprint}.`,
    },
  );
}

export function bundleVersionConflictError(file: string, release: string, sha256: string, imported: { sha256: string }): ApiError {
  // The other file is named by its SHA-256 only: where the data directory keeps it is no business of a browser's.
  return new ApiError(
    'BUNDLE_VERSION_CONFLICT',
    `The bundle ${file} is ${release} with SHA-256 ${sha256}, but ${release} was already imported from another file, with SHA-256 ${imported.sha256}; one name@version is one file.`,
    `Ask the builder which file is the real ${release} (compare the SHA-256 they printed). If it is this one, build it again as a new version (sutazai bundle build --version ...) and import that.`,
  );
}

export function bundleImportFailedError(file: string, detail: string, remedy: string, cause?: unknown): ApiError {
  return new ApiError('BUNDLE_IMPORT_FAILED', `Importing the bundle ${file} failed: ${detail}; nothing was stored.`, remedy, { cause });
}

export function bundleBuildFailedError(detail: string, remedy: string, cause?: unknown): ApiError {
  return new ApiError('BUNDLE_BUILD_FAILED', `Building the bundle failed: ${detail}.`, remedy, { cause });
}

export function signingKeyInvalidError(file: string, detail: string, remedy: string, cause?: unknown): ApiError {
  return new ApiError('SIGNING_KEY_INVALID', `The signing key ${file} ${detail}.`, remedy, { cause });
}

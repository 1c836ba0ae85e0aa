import { ApiError } from '../../contract';
import type { BundleService } from '../bundles/bundle-service';
import type { MethodHandlers } from '../server/dispatcher';
import { namedAsUploaded, withHeldUpload, type OneTimeFiles } from '../server/one-time-files';

export interface BundleApiDeps {
  bundles: BundleService;
  /** Web mode's files: a release bundle uploaded by the page, held from its verification to its import. */
  downloads: OneTimeFiles;
}

type BundleMethod = Extract<keyof MethodHandlers, `bundles.${string}`>;

/**
 * Release bundles: verify and import, the trusted signing keys. The path methods serve the
 * CLI and the desktop app; web mode verifies and imports an upload of the same session
 * (PAGE_PATH_METHODS), moved into the data directory by its import.
 */
export function createBundleHandlers({ bundles, downloads }: BundleApiDeps): Pick<MethodHandlers, BundleMethod> {
  return {
    'bundles.list': () => bundles.list(),
    'bundles.verify': ({ path }) => bundles.verify(path),
    'bundles.import': ({ path, trustKey }) => bundles.import(path, trustKey === undefined ? {} : { trustKey }),
    'bundles.verifyUpload': ({ uploadId }, caller) =>
      withHeldUpload(downloads, uploadId, caller.actor, 'bundle', bundleUploadGoneError, async (upload) => {
        const verified = await namedAsUploaded(upload, () => bundles.verify(upload.file));
        return { ...verified, path: upload.fileName };
      }),
    'bundles.importUpload': ({ uploadId, trustKey }, caller) =>
      withHeldUpload(downloads, uploadId, caller.actor, 'bundle', bundleUploadGoneError, async (upload) => {
        // A refusal (a signer to confirm first) keeps the upload for the next try; an import uses it up.
        const result = await namedAsUploaded(upload, () =>
          bundles.import(upload.file, { owned: { sha256: upload.sha256 }, ...(trustKey === undefined ? {} : { trustKey }) }),
        );
        downloads.drop(uploadId);
        return result;
      }),
    'bundles.trustedKeys': () => bundles.trustedKeys(),
  };
}

export function bundleUploadGoneError(): ApiError {
  return new ApiError(
    'BUNDLE_UPLOAD_GONE',
    'The uploaded bundle is not held for this session (it was imported already, unused for ten minutes, or sent by another session).',
    'Choose the bundle file again and verify it.',
  );
}

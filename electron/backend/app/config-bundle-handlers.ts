import type { ConfigBundleService } from '../bundles/config-bundles/config-bundle-service';
import type { MethodHandlers } from '../server/dispatcher';
import { namedAsUploaded, withHeldUpload, type OneTimeFiles } from '../server/one-time-files';
import { ApiError } from '../../contract';

export interface ConfigBundleApiDeps {
  configBundles: ConfigBundleService;
  /** Web mode's files: an export offered once as a download, an uploaded file to review and import. */
  downloads: OneTimeFiles;
}

type ConfigBundleMethod = Extract<keyof MethodHandlers, `configBundles.${string}`>;

/**
 * Configuration bundles and YAML exports: export, review, import, keys, revoking an exporter
 * (bundles/config-bundles/). The path methods serve the CLI and the desktop app; web mode
 * exports to a one-time download and reviews and imports an upload (PAGE_PATH_METHODS).
 */
export function createConfigBundleHandlers({ configBundles, downloads }: ConfigBundleApiDeps): Pick<MethodHandlers, ConfigBundleMethod> {
  // An upload is held from the review to the import, for the same session only: reviewed again
  // (with the passphrase, after trusting the exporter), then imported once and removed. An
  // import that fails keeps it, so the operator can mend the choice and import again.
  return {
    'configBundles.export': (params) => configBundles.export(params),
    'configBundles.review': (params) => configBundles.review(params),
    'configBundles.import': (params) => configBundles.import(params),
    'configBundles.exportDownload': async (params, caller) => {
      const extension = params.format === 'yaml' ? '.yaml' : '.sutazai-config';
      const file = downloads.newFile(extension);
      const { path: _written, ...exported } = await configBundles.export({ ...params, path: file });
      const fileName = `sutazai-config-${params.install ?? 'site'}-${exported.sha256.slice(0, 12)}${extension}`.replace(
        /[^A-Za-z0-9._-]/g,
        '_',
      );
      return { ...exported, url: `/download/${downloads.offer(caller.actor, file, fileName)}`, fileName };
    },
    'configBundles.reviewUpload': ({ uploadId, ...choice }, caller) =>
      withHeldUpload(downloads, uploadId, caller.actor, 'config', configUploadGoneError, async (upload) => {
        // A browser's person has no key file or SSH agent on the backend's machine: such host logins are blocked.
        const backendLogins = caller.namesBackendFiles === true;
        const review = await namedAsUploaded(upload, () => configBundles.review({ path: upload.file, ...choice, backendLogins }));
        return { ...review, path: upload.fileName };
      }),
    'configBundles.importUpload': ({ uploadId, ...request }, caller) =>
      withHeldUpload(downloads, uploadId, caller.actor, 'config', configUploadGoneError, async (upload) => {
        const backendLogins = caller.namesBackendFiles === true;
        const result = await namedAsUploaded(upload, () => configBundles.import({ path: upload.file, ...request, backendLogins }));
        downloads.drop(uploadId);
        return result;
      }),
    'configBundles.keys': () => configBundles.keys(),
    'configBundles.revokeExporter': ({ fingerprint }) => configBundles.revokeExporter(fingerprint),
  };
}

export function configUploadGoneError(): ApiError {
  return new ApiError(
    'CONFIG_UPLOAD_GONE',
    'The uploaded configuration file is not held for this session (it was imported already, unused for ten minutes, or sent by another session).',
    'Choose the file again and review it.',
  );
}

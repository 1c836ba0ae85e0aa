import type { MethodHandlers } from '../server/dispatcher';
import { supportUploadGoneError } from '../bundles/support-bundles/support-errors';
import type { SupportService } from '../bundles/support-bundles/support-service';
import { namedAsUploaded, withHeldUpload, type OneTimeFiles } from '../server/one-time-files';

export interface SupportApiDeps {
  support: SupportService;
  /** Where a bundle for a browser waits to be downloaded once (web mode). */
  downloads: OneTimeFiles;
}

type SupportMethod = Extract<keyof MethodHandlers, `support.${string}`>;

/** Support bundles: collect, preview the redactions, save, analyze (support/). */
export function createSupportHandlers({ support, downloads }: SupportApiDeps): Pick<MethodHandlers, SupportMethod> {
  return {
    // Collected as the signed-in operator: each runtime log read carries their token (as the Logs page's do).
    'support.collect': ({ target, logBytesPerProcess }, caller) =>
      support.collect(target, { logBytesPerProcess, operator: caller.operator?.name ?? null }),
    'support.preview': ({ previewId, redaction }) => support.preview(previewId, redaction),
    'support.save': ({ previewId, redaction, path }) => support.save(previewId, redaction, path),
    'support.download': async ({ previewId, redaction }, caller) => {
      const file = downloads.newFile('.tar');
      const { path: _written, ...saved } = await support.save(previewId, redaction, file);
      const fileName = `sutazai-support-${saved.sha256.slice(0, 12)}.tar`;
      return { ...saved, url: `/download/${downloads.offer(caller.actor, file, fileName)}`, fileName };
    },
    'support.analyze': ({ path }) => support.analyze(path),
    'support.analyzeUpload': ({ uploadId }, caller) =>
      withHeldUpload(downloads, uploadId, caller.actor, 'support', supportUploadGoneError, async (upload) => {
        try {
          // A refusal names the file as uploaded, never where the backend keeps it (as a success does).
          return { ...(await namedAsUploaded(upload, () => support.analyze(upload.file))), path: upload.fileName };
        } finally {
          // Analyzed once: the upload is used up either way.
          downloads.drop(uploadId);
        }
      }),
  };
}

import fs from 'node:fs';
import { ApiError } from '../../contract';
import { DOWNLOAD_KEEP_MS, type OneTimeFiles } from '../server/one-time-files';

/**
 * Configuration files a browser uploaded (web mode), held between their review and their
 * import. An upload is taken from the one-time files at its first review and kept here under
 * the same id, for the same pipe identity only: reviewed again (with the passphrase, after
 * trusting the exporter), then imported once and removed. An import that fails keeps it, so
 * the operator can mend the choice and import again; ten minutes unused, or past the few
 * held per session, it is removed. The files live in the one-time files' own folder, which
 * goes with the backend when it stops.
 */
export interface ReviewedUploads {
  /** The upload's file and name for `actor`; throws CONFIG_UPLOAD_GONE when it is not held for them. */
  use(uploadId: string, actor: string): { file: string; fileName: string };
  /** Forgets the upload and removes its file (after its import). */
  done(uploadId: string): void;
}

/** Uploads one session holds between review and import; its oldest goes first. */
const HELD_PER_ACTOR = 2;

export function createReviewedUploads(downloads: OneTimeFiles, now: () => number = Date.now): ReviewedUploads {
  const held = new Map<string, { actor: string; file: string; fileName: string; atMs: number }>();
  const drop = (id: string) => {
    const upload = held.get(id);
    held.delete(id);
    if (upload) fs.rmSync(upload.file, { force: true });
  };
  const expire = () => {
    for (const [id, upload] of held) if (now() - upload.atMs > DOWNLOAD_KEEP_MS) drop(id);
  };
  return {
    use(uploadId, actor) {
      expire();
      let upload = held.get(uploadId);
      if (upload === undefined) {
        const taken = downloads.take(uploadId, actor);
        if (taken !== null) {
          upload = { actor, ...taken, atMs: now() };
          held.set(uploadId, upload);
          const mine = [...held].filter(([, other]) => other.actor === actor).map(([id]) => id);
          for (const id of mine.slice(0, Math.max(0, mine.length - HELD_PER_ACTOR))) drop(id);
        }
      }
      if (upload === undefined || upload.actor !== actor) throw configUploadGoneError();
      upload.atMs = now();
      return { file: upload.file, fileName: upload.fileName };
    },
    done: drop,
  };
}

export function configUploadGoneError(): ApiError {
  return new ApiError(
    'CONFIG_UPLOAD_GONE',
    'The uploaded configuration file is not held for this session (it was imported already, unused for ten minutes, or sent by another session).',
    'Choose the file again and review it.',
  );
}

import { createHash } from 'node:crypto';
import { open, rm, statfs } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ApiError } from '../../contract';
import type { UploadRateWatch } from './upload-rate-watchdog';

/**
 * Writes an upload's body to `file` as it arrives, never holding more than a chunk in memory
 * (a release bundle may be GiBs): the body is paused while each chunk is hashed and written,
 * so a slow disk slows the sender instead of filling the heap. Answers the SHA-256 and size of
 * what was written. On any failure (the sender stopped, sent more or less than it said, the
 * disk filled) the partial file is removed and the error says which; the caller answers and
 * closes the connection (the rest of the body is not read: a refused upload may be GiBs).
 */
export async function writeUploadBody(
  body: Readable,
  file: string,
  declared: number,
  /** Told what arrives; its signal aborted (with an ApiError) stops taking the body: a sender too slow. */
  watch?: UploadRateWatch,
): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let received = 0;
  const out = await open(file, 'wx', 0o600).catch((error: unknown) => {
    throw uploadWriteError(error);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let ended = false;
      const fail = (error: unknown) => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      body.on('data', (chunk: Buffer) => {
        if (failed) return;
        received += chunk.length;
        watch?.received(chunk.length);
        if (received > declared) return fail(uploadLengthError(`it is longer than the ${declared} bytes it said`));
        hash.update(chunk);
        body.pause();
        out.write(chunk).then(() => {
          if (!failed) body.resume();
        }, fail);
      });
      body.on('end', () => {
        ended = true;
        if (received !== declared) fail(uploadLengthError(`${received} of the ${declared} bytes it said arrived`));
        else if (!failed) resolve();
      });
      body.on('error', (error) => fail(error));
      const signal = watch?.signal;
      if (signal?.aborted) fail(signal.reason);
      signal?.addEventListener('abort', () => fail(signal.reason), { once: true });
      body.on('close', () => {
        if (!ended) fail(uploadLengthError('the sender stopped'));
      });
    });
    await out.close();
  } catch (error) {
    await out.close().catch(() => undefined);
    await rm(file, { force: true });
    throw error instanceof ApiError ? error : uploadWriteError(error);
  }
  return { sha256: hash.digest('hex'), sizeBytes: received };
}

/** Space kept free on the data directory's disk beside an upload: the store and its logs go on writing. */
export const UPLOAD_SPACE_RESERVE_BYTES = 64 * 1024 * 1024;

/**
 * Refuses an upload of `declared` bytes before any is read when the disk holding `dir` has not
 * room for it, for what the uploads being received beside it may still write (`othersDeclared`,
 * counted whole: their written part is counted twice, erring toward refusing), and the reserve.
 */
export async function checkUploadSpace(dir: string, declared: number, othersDeclared = 0): Promise<void> {
  const info = await statfs(dir).catch(() => null);
  // A filesystem that does not say: the write itself finds out (ENOSPC).
  if (info === null) return;
  const free = info.bavail * info.bsize;
  if (declared + othersDeclared + UPLOAD_SPACE_RESERVE_BYTES > free) throw uploadNoSpaceError({ declared, free });
}

function uploadNoSpaceError(sizes?: { declared: number; free: number }): ApiError {
  const mib = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))} MiB`;
  return new ApiError(
    'UPLOAD_NO_SPACE',
    sizes
      ? `The control center's disk has ${mib(sizes.free)} free, too little for this upload of ${mib(sizes.declared)} (and ${mib(UPLOAD_SPACE_RESERVE_BYTES)} kept free); nothing was kept.`
      : "The control center's disk filled up while the upload was written; the partial file was removed.",
    // Not the directory's path: a browser's person need not learn where the backend keeps its files.
    "Free space on the disk that holds the control center's data directory, then upload again; or copy the file to that machine and use the desktop app or the sutazai command there.",
  );
}

function uploadLengthError(detail: string): ApiError {
  return new ApiError('UPLOAD_INCOMPLETE', `The upload did not arrive whole: ${detail}; nothing was kept.`, 'Upload the file again.');
}

function uploadWriteError(error: unknown): ApiError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return uploadNoSpaceError();
  // The sender went away mid-body (a closed tab, a cut network): Node says "aborted".
  if (code === 'ECONNRESET' || (error as Error)?.message === 'aborted') return uploadLengthError('the sender stopped');
  return new ApiError(
    'UPLOAD_FAILED',
    `The upload could not be written on the control center (${code ?? (error as Error)?.message ?? String(error)}); nothing was kept.`,
    "Check that the control center's data directory is writable by the user running it, then upload again.",
    { cause: error },
  );
}

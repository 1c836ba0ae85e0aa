import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { SFTPWrapper } from 'ssh2';
import { ApiError, isApiError } from '../../contract';
import { describeEndpoint } from '../hosts/ssh/ssh-endpoint';
import type { SshSession } from '../hosts/ssh/ssh-session';
import type { RemoteShell } from './remote-shell';
import { shellQuote } from './shell-quote';

export interface UploadBundleOptions {
  session: SshSession;
  shell: RemoteShell;
  localFile: string;
  sha256: string;
  size: number;
  /** Where the verified bundle ends up, and the partial file it grows in until then. */
  stagedPath: string;
  partialPath: string;
  /** Bytes the host acknowledged so far (from `resumedFrom` on), and the total. */
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadProgress {
  /** Bytes on the host: what was there before plus what this upload wrote. */
  bytesOnHost: number;
  totalBytes: number;
  /** Bytes of a previous, interrupted upload that were verified and kept. */
  resumedFrom: number;
  /** Bytes this upload sent. */
  bytesSent: number;
}

export interface UploadResult {
  resumedFrom: number;
  bytesSent: number;
}

// 64 KiB writes, 32 in flight: enough to keep a fast link busy without buffering much.
const CHUNK_BYTES = 64 * 1024;
const WINDOW = 32;
const SESSION_WATCH_MS = 200;

/**
 * Uploads the bundle over SFTP, resumable: a partial file left by an interrupted upload
 * is kept when the SHA-256 of its bytes (computed on the host) equals that of the same
 * prefix of the local file, and the upload continues from its end; otherwise it starts
 * over. The whole file is then hashed on the host with sha256sum and only a match is
 * renamed to its final name, with a `.sha256` marker beside it, so a complete upload is
 * recognised (and never sent again) by the next plan.
 */
export async function uploadBundle(options: UploadBundleOptions): Promise<UploadResult> {
  const { session, shell, size } = options;
  const where = describeEndpoint(session.endpoint);
  const partial = await remotePartial(shell, options.partialPath);
  let resumedFrom = 0;
  if (partial !== null && partial.size > 0 && partial.size <= size) {
    if ((await localPrefixSha256(options.localFile, partial.size)) === partial.sha256) resumedFrom = partial.size;
  }

  let bytesSent = 0;
  const sftp = await session.sftp();
  try {
    const handle = await open(sftp, options.partialPath, resumedFrom > 0 ? 'r+' : 'w');
    const fd = fs.openSync(options.localFile, 'r');
    try {
      await writeFrom(sftp, handle, fd, resumedFrom, size, () => session.closed || session.lost !== null, (acked) => {
        bytesSent = acked - resumedFrom;
        options.onProgress?.({ bytesOnHost: acked, totalBytes: size, resumedFrom, bytesSent });
      });
    } finally {
      fs.closeSync(fd);
      // On a connection that ended, a close would never be answered.
      if (!session.closed && session.lost === null) await close(sftp, handle).catch(() => undefined);
    }
  } catch (error) {
    if (session.lost !== null) throw uploadFailed(where, `the SSH connection was lost after ${resumedFrom + bytesSent} of ${size} bytes`, 'Apply again once the host is reachable: the upload resumes from the bytes already there.', error);
    if (session.closed) throw uploadFailed(where, `the upload was cut off after ${resumedFrom + bytesSent} of ${size} bytes`, 'Apply again: the upload resumes from the bytes already there.', error);
    if (isApiError(error)) throw error;
    const message = (error as Error).message;
    throw uploadFailed(
      where,
      `writing ${options.partialPath} failed (${message})`,
      /space|quota|failure/i.test(message) ? 'Free space on the host (or lower install.releases_kept), then apply again; the upload resumes.' : 'Check that the login user can write to the install directory, then apply again.',
      error,
    );
  } finally {
    sftp.end();
  }

  const verify = await shell.run(
    `p=${shellQuote(options.partialPath)}; f=${shellQuote(options.stagedPath)}
got=$(sha256sum "$p" | cut -d' ' -f1)
if [ "$got" != ${shellQuote(options.sha256)} ]; then echo "sha256 $got"; rm -f "$p"; exit 3; fi
mv -f "$p" "$f" && printf '%s\\n' "$got" >"$f.sha256.tmp" && mv -f "$f.sha256.tmp" "$f.sha256"`,
    { asRoot: false, step: 'upload', timeoutMs: 300_000 },
  );
  if (verify.code === 3) {
    throw uploadFailed(where, `the uploaded file's SHA-256 on the host (${verify.stdout.trim().replace(/^sha256 /, '')}) differs from the bundle's (${options.sha256})`, 'The copy was damaged on the way or on the disk; apply again to upload it anew (the damaged copy was removed).');
  }
  if (verify.code !== 0) throw uploadFailed(where, `verifying the upload failed: ${(verify.stderr || verify.stdout).trim().slice(0, 300)}`, 'Check the disk of the host, then apply again.');
  return { resumedFrom, bytesSent };
}

async function remotePartial(shell: RemoteShell, file: string): Promise<{ size: number; sha256: string } | null> {
  const result = await shell.run(`p=${shellQuote(file)}; if [ -f "$p" ]; then printf '%s %s\\n' "$(stat -c %s "$p" 2>/dev/null || wc -c <"$p")" "$(sha256sum "$p" | cut -d' ' -f1)"; fi`, {
    asRoot: false,
    step: 'upload',
    timeoutMs: 300_000,
  });
  const match = /^(\d+) ([0-9a-f]{64})$/.exec(result.stdout.trim());
  return match ? { size: Number(match[1]), sha256: match[2]! } : null;
}

export async function localPrefixSha256(file: string, length: number): Promise<string> {
  const hash = createHash('sha256');
  if (length > 0) for await (const chunk of fs.createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function open(sftp: SFTPWrapper, file: string, flags: 'r+' | 'w'): Promise<Buffer> {
  return new Promise((resolve, reject) => sftp.open(file, flags, { mode: 0o600 }, (error, handle) => (error ? reject(error) : resolve(handle))));
}

function close(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sftp.close(handle, (error) => (error ? reject(error) : resolve())));
}

/**
 * Writes [from, size) of the local file in order, several requests in flight; the server
 * applies them in the order sent, so what reaches the host is always a prefix (and a
 * hole would fail the prefix check of the next resume anyway).
 */
function writeFrom(sftp: SFTPWrapper, handle: Buffer, fd: number, from: number, size: number, ended: () => boolean, onAck: (bytesOnHost: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = from;
    let acked = from;
    let inFlight = 0;
    let failed = false;
    // A connection torn down under it leaves SFTP's requests unanswered: notice that here.
    const watch = setInterval(() => {
      if (!failed && !ended()) return;
      settle();
      if (failed) return;
      failed = true;
      reject(new Error('the SSH connection ended during the upload'));
    }, SESSION_WATCH_MS);
    const settle = (): void => clearInterval(watch);
    const pump = (): void => {
      while (!failed && !ended() && inFlight < WINDOW && next < size) {
        const length = Math.min(CHUNK_BYTES, size - next);
        const buffer = Buffer.allocUnsafe(length);
        const read = fs.readSync(fd, buffer, 0, length, next);
        if (read !== length) {
          failed = true;
          settle();
          reject(new Error(`the local bundle file is shorter than recorded (read ${read} of ${length} bytes at ${next})`));
          return;
        }
        next += length;
        inFlight += 1;
        const onWritten = (error: Error | null | undefined): void => {
          inFlight -= 1;
          if (failed) return;
          if (error) {
            failed = true;
            settle();
            reject(error);
            return;
          }
          acked += length;
          onAck(acked);
          if (acked === size) {
            settle();
            resolve();
          } else pump();
        };
        try {
          sftp.write(handle, buffer, 0, length, next - length, onWritten);
        } catch (error) {
          // A channel closed under it throws rather than calling back.
          onWritten(error as Error);
        }
      }
    };
    if (from >= size) {
      settle();
      resolve();
    } else pump();
  });
}

function uploadFailed(where: string, why: string, remedy: string, cause?: unknown): ApiError {
  return new ApiError('INSTALL_UPLOAD_FAILED', `Uploading the bundle to ${where} failed: ${why}.`, remedy, cause === undefined ? undefined : { cause });
}

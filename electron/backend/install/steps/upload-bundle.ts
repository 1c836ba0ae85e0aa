import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { ApiError, isApiError } from '../../../contract';
import { describeEndpoint } from '../../hosts/ssh/ssh-endpoint';
import type { SshSession } from '../../hosts/ssh/ssh-session';
import { sftpIfOffered, type FileTransport } from '../remote/offered-sftp';
import { joinShell, rawShell, sh } from '../remote/shell-script';

export interface UploadBundleOptions {
  session: SshSession;
  localFile: string;
  sha256: string;
  size: number;
  /** Where the verified bundle ends up, and the partial file it grows in until then. */
  stagedPath: string;
  partialPath: string;
  /**
   * Settles once the directory of the partial file exists: the look at what is on the host
   * runs meanwhile, and only the file's opening waits for it.
   */
  directoryReady?: Promise<unknown>;
  /**
   * An SFTP channel the caller asked for already (and may have used to make the directory);
   * ended here. Where the host offers no SFTP the bundle goes through commands instead.
   */
  sftp?: Promise<SFTPWrapper>;
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
  /** SFTP, or commands where the host offers no SFTP. */
  transport: FileTransport;
}

// 64 KiB writes, 32 in flight: enough to keep a fast link busy without buffering much.
// Every write starts at a multiple of CHUNK_BYTES, so the host can read back whole blocks.
const CHUNK_BYTES = 64 * 1024;
const WINDOW = 32;
const SESSION_WATCH_MS = 200;
/** The host hashes what it acknowledged in pieces of about this size while the rest is still on its way. */
const HASH_STEP_BYTES = 4 * 1024 * 1024;
/** Hashing a partial file, the upload's last piece, or a rename: each answer comes within this. */
const VERIFIER_TIMEOUT_MS = 300_000;
/**
 * Without SFTP, each command writes this much (a whole number of blocks) and its exit is the
 * host's acknowledgement of it. One at a time: a command that exits while the next one's
 * channel is being opened is what Dropbear mishandles (channel-admission.ts).
 */
const PIECE_BYTES = 8 * 1024 * 1024;

/**
 * Uploads the bundle over SFTP (or, where the host offers no SFTP, through commands that
 * write it piece by piece: pieceWriterCommand), resumable: the whole blocks of a partial file left
 * by an interrupted upload are kept when their SHA-256 (computed on the host) equals that of
 * the same prefix of the local file, and the upload continues after them; otherwise
 * it starts over. The host checks the whole file's SHA-256 (openssl or sha256sum, on the host) and
 * only a match is renamed to its final name, with a `.sha256` marker beside it, so a
 * complete upload is recognised (and never sent again) by the next plan.
 *
 * The host hashes while the upload runs, not after it: one command on the host (the
 * verifier) reads back each acknowledged stretch of the file into one SHA-256 as the
 * acknowledgements arrive, so when the last write is answered only its last few MiB are
 * left to hash. Hashing after the transfer was a second pass over the whole file, about a
 * quarter of the upload step's time on a fast link (bench:install).
 */
export async function uploadBundle(options: UploadBundleOptions): Promise<UploadResult> {
  const { session, size } = options;
  const where = describeEndpoint(session.endpoint);
  // The verifier starts on the host while SFTP looks: the writes never wait for it (its
  // first piece to hash comes 4 MiB later), only a resume waits for its hash of the partial file.
  const verifier = openVerifier(session, options.partialPath, options.stagedPath, where);
  const opening = options.sftp ?? session.sftp();
  opening.catch(() => undefined);
  let resumedFrom = 0;
  let bytesSent = 0;
  let transport: FileTransport = 'sftp';
  const ended = () => session.closed || session.lost !== null || verifier.failed !== null;
  const onAck = (acked: number) => {
    bytesSent = acked - resumedFrom;
    verifier.hashThrough(acked, size);
    options.onProgress?.({ bytesOnHost: acked, totalBytes: size, resumedFrom, bytesSent });
  };
  try {
    const sftp = await sftpIfOffered(session, opening);
    if (sftp === null) {
      transport = 'exec';
      resumedFrom = await keptPrefix(await verifier.partial, options.localFile, size);
      await options.directoryReady;
      verifier.hashThrough(resumedFrom, size);
      await writeThroughCommands(session, options.localFile, options.partialPath, resumedFrom, size, ended, onAck);
    } else {
      try {
        // SFTP's stat answers at once: only a partial file that is there waits for the host's hash of it.
        const there = (await sizeOf(sftp, options.partialPath)) !== null;
        resumedFrom = there ? await keptPrefix(await verifier.partial, options.localFile, size) : 0;
        await options.directoryReady;
        const handle = await open(sftp, options.partialPath, resumedFrom > 0 ? 'r+' : 'w');
        const fd = fs.openSync(options.localFile, 'r');
        try {
          // The kept prefix is on the host already: it goes into the host's hash first.
          verifier.hashThrough(resumedFrom, size);
          await writeFrom(sftp, handle, fd, resumedFrom, size, ended, onAck);
        } finally {
          fs.closeSync(fd);
          // On a connection that ended, a close would never be answered.
          if (!session.closed && session.lost === null) await close(sftp, handle).catch(() => undefined);
        }
      } finally {
        sftp.end();
      }
    }
  } catch (error) {
    verifier.abandon();
    if (session.lost !== null)
      throw uploadFailed(
        where,
        `the SSH connection was lost after ${resumedFrom + bytesSent} of ${size} bytes`,
        'Apply again once the host is reachable: the upload resumes from the bytes already there.',
        error,
      );
    if (session.closed)
      throw uploadFailed(
        where,
        `the upload was cut off after ${resumedFrom + bytesSent} of ${size} bytes`,
        'Apply again: the upload resumes from the bytes already there.',
        error,
      );
    if (verifier.failed !== null) throw verifier.failed;
    if (isApiError(error)) throw error;
    const message = (error as Error).message;
    throw uploadFailed(
      where,
      `writing ${options.partialPath} failed (${message})`,
      /space|quota|failure/i.test(message)
        ? 'Free space on the host (or lower install.releases_kept), then apply again; the upload resumes.'
        : 'Check that the login user can write to the install directory, then apply again.',
      error,
    );
  }

  const got = await verifier.finish();
  if (got !== options.sha256) {
    await verifier.settle('discard');
    throw uploadFailed(
      where,
      `the uploaded file's SHA-256 on the host (${got}) differs from the bundle's (${options.sha256})`,
      'The copy was damaged on the way or on the disk; apply again to upload it anew (the damaged copy was removed).',
    );
  }
  await verifier.settle(`commit ${got}`);
  return { resumedFrom, bytesSent, transport };
}

/** What the verifier reported of the partial file: its whole blocks at one look, and their SHA-256. */
export interface PartialOnHost {
  size: number;
  sha256: string;
}

/**
 * How much of the partial file on the host (its whole blocks as the verifier reported them,
 * or null when there is none) to keep: all of them when their SHA-256 equals that of the
 * same prefix of the local file, nothing otherwise. The file may have grown since (an
 * earlier connection's writes still arriving): those bytes are written again.
 */
export async function keptPrefix(partial: PartialOnHost | null, localFile: string, size: number): Promise<number> {
  if (partial === null || partial.size <= 0 || partial.size > size || partial.size % CHUNK_BYTES !== 0) return 0;
  return (await localPrefixSha256(localFile, partial.size)) === partial.sha256 ? partial.size : 0;
}

/**
 * The command that writes its stdin into the partial file from `offset` (a whole number of
 * blocks) on: dd cuts the file there first (no conv=notrunc), so a stale tail beyond the
 * kept prefix goes, and the file stays a prefix of the bundle. umask 077: a new file is 0600
 * like SFTP's. GNU and BusyBox dd both write short reads from a pipe as they come.
 */
export function pieceWriterCommand(partialPath: string, offset: number): string {
  if (offset % CHUNK_BYTES !== 0) throw new Error(`a piece must start on a block boundary, not at ${offset}`);
  return sh`umask 077 && exec dd of=${partialPath} bs=${CHUNK_BYTES} seek=${offset / CHUNK_BYTES}`.text;
}

/** Writes [from, size) of the local file through one command per piece, in order; each exit 0 acknowledges its piece. */
async function writeThroughCommands(
  session: SshSession,
  localFile: string,
  partialPath: string,
  from: number,
  size: number,
  ended: () => boolean,
  onAck: (bytesOnHost: number) => void,
): Promise<void> {
  const fd = fs.openSync(localFile, 'r');
  try {
    for (let at = from; at < size; at += PIECE_BYTES) {
      if (ended()) throw new Error('the SSH connection ended during the upload');
      const length = Math.min(PIECE_BYTES, size - at);
      const piece = Buffer.allocUnsafe(length);
      const read = fs.readSync(fd, piece, 0, length, at);
      if (read !== length) throw new Error(`the local bundle file is shorter than recorded (read ${read} of ${length} bytes at ${at})`);
      const result = await session.exec(pieceWriterCommand(partialPath, at), { stdin: piece, timeoutMs: VERIFIER_TIMEOUT_MS });
      if (result.code !== 0) throw new Error(result.stderr.trim().split('\n').at(-1) || `dd exited with ${result.code ?? result.signal}`);
      onAck(at + length);
    }
  } finally {
    fs.closeSync(fd);
  }
}

interface Verifier {
  /** The partial file already on the host: its whole blocks and their SHA-256, or null when it has none. */
  readonly partial: Promise<PartialOnHost | null>;
  /** Hands the host [hashed so far, upTo) to hash, once that is at least a step long or reaches `size`. */
  hashThrough(upTo: number, size: number): void;
  /** Ends the reading; resolves to the SHA-256 of everything handed over. */
  finish(): Promise<string>;
  /** `commit <sha256>` renames the partial file to its final name and writes the marker; `discard` removes it. */
  settle(verdict: string): Promise<void>;
  /** Lets the command go without a verdict: the partial file stays for the next apply to resume. */
  abandon(): void;
  /** Set when the verifier failed on its own (ended early, timed out). */
  readonly failed: ApiError | null;
}

/**
 * The verifier: one POSIX sh command line (no newline, `!` or single quote, so any login
 * shell hands it to sh unchanged) that reports the partial file's whole blocks, then reads lines
 * `SKIP COUNT` and copies those CHUNK_BYTES blocks of the partial file into one SHA-256
 * until `end`, prints the digest, and waits for the verdict. Its input ending without a
 * verdict (a dropped connection, a failed upload) leaves the partial file for a resume.
 */
export function verifierScript(partialPath: string, stagedPath: string): string {
  return joinShell(
    [
      sh`p=${partialPath}; f=${stagedPath}`,
      // OpenSSL's SHA-256 uses the CPU's SHA instructions where coreutils' does not (about 3x
      // faster here). `command -v` is a builtin: asking costs no process, unlike a trial run.
      'if command -v openssl >/dev/null 2>&1; then h() { openssl dgst -sha256 -r | cut -c1-64; }; else h() { sha256sum | cut -c1-64; }; fi',
      // One look at the size, then exactly its whole blocks into the hash: writes of an earlier,
      // cancelled connection may still be arriving, and a hash over whatever the file holds by
      // then would not match the size reported beside it (a resume would start over).
      's=; [ -f "$p" ] && s=$(stat -c %s "$p" 2>/dev/null || wc -c <"$p")',
      `n=$(( \${s:-0} / ${CHUNK_BYTES} )); if [ "$n" -gt 0 ]; then printf "partial %s %s\\n" "$((n * ${CHUNK_BYTES}))" "$(dd if="$p" bs=${CHUNK_BYTES} count="$n" 2>/dev/null | h)"; else echo partial none; fi`,
      `(while read -r a b; do [ "$a" = end ] && break; dd if="$p" bs=${CHUNK_BYTES} skip="$a" count="$b" 2>/dev/null; done) | h | sed "s/^/sha256 /"`,
      'read -r c h || :',
      'if [ "$c" = commit ]; then mv -f "$p" "$f" && printf "%s\\n" "$h" >"$f.sha256.tmp" && mv -f "$f.sha256.tmp" "$f.sha256" && echo settled; elif [ "$c" = discard ]; then rm -f "$p" && echo settled; fi',
    ].map((part) => (typeof part === 'string' ? rawShell(part) : part)),
    '; ',
  ).text;
}

/** Starts the verifier; lines sent before its channel is open wait in order for it. */
function openVerifier(session: SshSession, partialPath: string, stagedPath: string, where: string): Verifier {
  let channel: ClientChannel | null = null;
  const queued: string[] = [];
  let failed: ApiError | null = null;
  let exited = false;
  let handedUpTo = 0;
  let ended = false;
  let ending = false;
  let abandoned = false;
  let pending = '';
  let stderr = '';
  let markClosed: () => void = () => undefined;
  // The command's end on the host: the next channel on the connection waits for it (channel-admission.ts).
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const lines: string[] = [];
  const waiting: Array<{ prefix: string; resolve: (rest: string) => void; reject: (error: ApiError) => void; timer: NodeJS.Timeout }> = [];

  const endedEarly = (): ApiError =>
    uploadFailed(
      where,
      `the checksum command on the host ended early${stderr.trim() ? ` (${stderr.trim().slice(0, 300)})` : ''}`,
      'Check that sh, sha256sum, dd and stat work for the login user on the host and that its disk is readable, then apply again; the upload resumes.',
    );
  const fail = (error: ApiError): void => {
    if (failed !== null) return;
    failed = error;
    for (const wait of waiting.splice(0)) {
      clearTimeout(wait.timer);
      wait.reject(error);
    }
  };
  // Answers come in the order asked; each waiter takes the first line with its word.
  const deliver = (): void => {
    while (waiting.length > 0) {
      const wait = waiting[0]!;
      const index = lines.findIndex((line) => line === wait.prefix || line.startsWith(`${wait.prefix} `));
      if (index < 0) break;
      const line = lines.splice(index, 1)[0]!;
      waiting.shift();
      clearTimeout(wait.timer);
      wait.resolve(line.slice(wait.prefix.length).trim());
    }
    if (exited && waiting.length > 0) fail(endedEarly());
  };
  const attach = (opened: ClientChannel): void => {
    opened.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        lines.push(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      deliver();
    });
    opened.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    opened.on('close', () => {
      exited = true;
      markClosed();
      deliver();
    });
  };
  session.execChannel(sh`sh -c ${verifierScript(partialPath, stagedPath)}`.text).then(
    (opened) => {
      if (abandoned) {
        opened.destroy();
        return;
      }
      channel = opened;
      attach(opened);
      for (const line of queued.splice(0)) if (!exited) opened.write(line);
      if (ending) opened.end();
    },
    (error: unknown) => {
      markClosed();
      fail(
        isApiError(error)
          ? error
          : uploadFailed(
              where,
              `the host did not start the checksum command (${(error as Error).message})`,
              'Apply again; the upload resumes.',
            ),
      );
    },
  );

  const answer = (prefix: string, what: string): Promise<string> => {
    if (failed !== null) return Promise.reject(failed);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          fail(
            uploadFailed(
              where,
              `the host did not answer within ${VERIFIER_TIMEOUT_MS / 1000} s while ${what}`,
              'Check the load and the disk of the host, then apply again; the upload resumes.',
            ),
          ),
        VERIFIER_TIMEOUT_MS,
      );
      waiting.push({ prefix, resolve, reject, timer });
      deliver();
    });
  };
  const send = (line: string): void => {
    if (failed !== null || exited) return;
    if (channel === null) queued.push(`${line}\n`);
    else channel.write(`${line}\n`);
  };

  const partial = answer('partial', 'hashing the partial upload').then((rest) => {
    const match = /^(\d+) ([0-9a-f]{64})$/.exec(rest);
    return match ? { size: Number(match[1]), sha256: match[2]! } : null;
  });
  // Whoever awaits it sees a rejection; this only keeps an unawaited one from being unhandled.
  partial.catch(() => undefined);

  return {
    partial,
    hashThrough(upTo, size) {
      if (ended || upTo <= handedUpTo || (upTo - handedUpTo < HASH_STEP_BYTES && upTo < size)) return;
      // Whole blocks from handedUpTo (always a block boundary); the file's last block may be short.
      const skip = handedUpTo / CHUNK_BYTES;
      const count = Math.ceil((upTo - handedUpTo) / CHUNK_BYTES);
      send(`${skip} ${count}`);
      handedUpTo = Math.min(size, (skip + count) * CHUNK_BYTES);
    },
    finish() {
      ended = true;
      const digest = answer('sha256', 'hashing the uploaded file');
      send('end');
      return digest;
    },
    async settle(verdict) {
      const settled = answer('settled', verdict === 'discard' ? 'removing the damaged upload' : 'renaming the verified upload');
      send(verdict);
      try {
        await settled;
      } finally {
        ending = true;
        channel?.end();
      }
      // It prints its verdict and exits: the step after the upload starts once it has.
      await closed;
    },
    abandon() {
      ended = true;
      abandoned = true;
      for (const wait of waiting.splice(0)) clearTimeout(wait.timer);
      channel?.destroy();
    },
    get failed() {
      return failed;
    },
  };
}

export async function localPrefixSha256(file: string, length: number): Promise<string> {
  const hash = createHash('sha256');
  if (length > 0)
    for await (const chunk of fs.createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 }))
      hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The size of `file` on the host, or null when there is none (SFTP's stat: no process started). */
function sizeOf(sftp: SFTPWrapper, file: string): Promise<number | null> {
  return new Promise((resolve, reject) =>
    sftp.stat(file, (error, stats) => {
      if (!error) resolve(stats.isFile() ? stats.size : null);
      else if ((error as Error & { code?: number }).code === 2) resolve(null);
      else reject(error);
    }),
  );
}

function open(sftp: SFTPWrapper, file: string, flags: 'r+' | 'w'): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sftp.open(file, flags, { mode: 0o600 }, (error, handle) => (error ? reject(error) : resolve(handle))),
  );
}

function close(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sftp.close(handle, (error) => (error ? reject(error) : resolve())));
}

/**
 * Writes [from, size) of the local file in order, several requests in flight; the server
 * applies them in the order sent, so what reaches the host is always a prefix (and a
 * hole would fail the prefix check of the next resume anyway).
 */
function writeFrom(
  sftp: SFTPWrapper,
  handle: Buffer,
  fd: number,
  from: number,
  size: number,
  ended: () => boolean,
  onAck: (bytesOnHost: number) => void,
): Promise<void> {
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
  return new ApiError(
    'INSTALL_UPLOAD_FAILED',
    `Uploading the bundle to ${where} failed: ${why}.`,
    remedy,
    cause === undefined ? undefined : { cause },
  );
}

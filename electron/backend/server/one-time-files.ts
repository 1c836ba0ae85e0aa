import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { makeOwnedWorkDir, sweepStaleWorkDirs, type OwnedWorkDir } from '../store/owned-work-dir';
import { createUploadPermits, type UploadPermits } from './upload-permits';

/**
 * Files handed between the backend and a browser in web mode, each held for one pipe identity
 * (`Caller.actor`: one team session, or the loopback launch token): a file the backend made
 * for it to download (served once), and files it uploaded for the backend to read (a support
 * bundle to analyze, a configuration file between its review and its import, a release bundle
 * between its verification and its import). No path ever comes from the browser: it names a
 * file by its random id, and the file lives in this backend's folder under the data
 * directory's `downloads/`, removed once used up, ten minutes after its last use (a timer
 * sweeps them even when no one calls again), or when the backend stops (a folder a killed
 * backend left is swept by the next one).
 *
 * Caps are per session and per kind, so one session's files never push out another's: past
 * its cap a session loses its own oldest file of that kind. Above them one byte budget holds
 * for all sessions together (UPLOAD_BUDGET_BYTES): what is held plus what is being received
 * (each upload's declared size, reserved from its first byte), so that many sessions cannot
 * fill the disk between them. An upload in use (its import running) is never swept nor pushed
 * out, and a second use of it at once is refused; each upload is kept UPLOAD_LIFE_MS at most
 * from when it arrived, however often it is verified or reviewed again.
 */
export interface OneTimeFiles {
  /** A fresh file path in the downloads folder for a file about to be offered or received (not created). */
  newFile(extension: string): string;
  /** Offers `file` (already written) to `actor` for download; answers its id. */
  offer(actor: string, file: string, fileName: string): string;
  /** The download offered under `id` to `actor`, forgotten as it is taken (null: unknown, taken, expired, or someone else's). */
  take(id: string, actor: string): { file: string; fileName: string } | null;
  /**
   * A place for an upload of `declared` bytes from `actor` about to be received: its release
   * (call it once the upload is held or dropped) and the bytes other uploads being received
   * may still write; refused ('busy') while that actor already sends one or
   * MAX_UPLOADS_RECEIVING are being received (each may be GiBs on disk before it is held), and
   * ('budget') when it would take what is held and being received past the byte budget.
   */
  receive(actor: string, declared: number): Receiving | { refused: 'busy' | 'budget' };
  /** Holds a received upload of `kind` (already written) for `actor`; answers its id. */
  hold(actor: string, kind: UploadKind, upload: Upload): string;
  /**
   * The upload of `kind` held under `id` for `actor`, marked in use until `done` is called (its
   * ten minutes start again then, within UPLOAD_LIFE_MS): null when not held for them, 'busy'
   * while another call uses it.
   */
  use(id: string, actor: string, kind: UploadKind): { upload: Upload; done: () => void } | null | 'busy';
  /** What the audit log names an upload by: its name as sent and its SHA-256 (null: none held under `id`). */
  describe(id: string): { fileName: string; sha256: string } | null;
  /** Forgets what is held under `id` and removes its file (an upload used up). */
  drop(id: string): void;
  /** Removes what has gone unused for DOWNLOAD_KEEP_MS (the timer's work; callable directly). */
  sweep(): void;
  /** The most an upload of `kind` may be. */
  maxBytes(kind: UploadKind): number;
  /** Bytes held and reserved by uploads now (what counts against the budget). */
  readonly usedBytes: number;
  /** Loopback web mode's leave for one upload, naming the operator of the tab that asked (upload-permits.ts). */
  readonly permits: UploadPermits;
  close(): void;
}

/** What a browser uploads, each with its own size limit and cap. */
export type UploadKind = 'support' | 'config' | 'bundle';
export const UPLOAD_KINDS: readonly UploadKind[] = ['support', 'config', 'bundle'];

/** An upload being received: its place given back by `release`. */
export interface Receiving {
  release(): void;
  /** What the other uploads being received have declared: the disk must have room for them too. */
  othersDeclared: number;
}

/** A received upload: where it lies, its name on the sender's computer, and what was received. */
export interface Upload {
  file: string;
  fileName: string;
  /** SHA-256 of the bytes received, computed while they were written. */
  sha256: string;
  sizeBytes: number;
}

const MiB = 1024 * 1024;
/**
 * The most an upload may be, by kind: a configuration file is a few MiB at most (32 MiB is
 * far past any site's); a support bundle's files are 1 GiB at most, with their headers; a
 * release bundle is ~100 MB today and 8 GiB leaves room for large images (README, "Web mode").
 */
export const UPLOAD_MAX_BYTES: Readonly<Record<UploadKind, number>> = {
  config: 32 * MiB,
  support: 1024 * MiB + 64 * MiB,
  bundle: 8 * 1024 * MiB,
};

/** How long a file waits for its next use. */
export const DOWNLOAD_KEEP_MS = 10 * 60_000;
/**
 * The longest an upload is held from when it arrived, however often it is used: a page that
 * verifies the same upload again and again does not keep it (and its GiBs) for ever.
 */
export const UPLOAD_LIFE_MS = 30 * 60_000;
/**
 * Bytes of uploads held and being received at once, all sessions together: two of the largest
 * release bundles. Past it an upload is refused (UPLOAD_BUDGET_FULL) until others are imported,
 * used up or expire (README, "Web mode").
 */
export const UPLOAD_BUDGET_BYTES = 16 * 1024 * MiB;
/** How often unused files are swept. */
const SWEEP_EVERY_MS = 60_000;
/** The most files one pipe identity holds of each kind: beyond it its own oldest goes, never another session's. */
const HELD_PER_ACTOR: Readonly<Record<'download' | UploadKind, number>> = { download: 4, support: 2, config: 2, bundle: 2 };
/** Uploads being received at once, all sessions together (one each). */
const MAX_UPLOADS_RECEIVING = 4;
const ID = /^[A-Za-z0-9_-]{43}$/;

/** This backend's folder under `downloads/` (a CLI command beside a serving backend has its own). */
const OWN_DIR = /^backend-[A-Za-z0-9]{6}$/;

interface Held {
  actor: string;
  kind: 'download' | UploadKind;
  file: string;
  fileName: string;
  upload: Upload | null;
  /** Its last use: a file unused for DOWNLOAD_KEEP_MS is removed. */
  atMs: number;
  /** When it arrived: an upload is removed UPLOAD_LIFE_MS after, used or not. */
  sinceMs: number;
  /** A call uses it now: never swept nor pushed out meanwhile. */
  inUse: boolean;
}

export function createOneTimeFiles(options: {
  root: string;
  now: () => number;
  /** Limits other than UPLOAD_MAX_BYTES (tests). */
  maxBytes?: Partial<Record<UploadKind, number>>;
  /** A budget other than UPLOAD_BUDGET_BYTES (tests). */
  budgetBytes?: number;
  sweepEveryMs?: number;
}): OneTimeFiles {
  const { root, now } = options;
  const limits = { ...UPLOAD_MAX_BYTES, ...options.maxBytes };
  // What a backend that died offered and never served is nobody's now.
  sweepStaleWorkDirs(root, OWN_DIR);
  let own: OwnedWorkDir | null = null;
  const held = new Map<string, Held>();
  const budget = options.budgetBytes ?? UPLOAD_BUDGET_BYTES;
  const permits = createUploadPermits({ now });
  /** Declared bytes of each upload being received, by its sender. */
  const receiving = new Map<string, number>();
  const usedBytes = () => {
    let used = 0;
    for (const entry of held.values()) used += entry.upload?.sizeBytes ?? 0;
    for (const declared of receiving.values()) used += declared;
    return used;
  };
  const drop = (id: string) => {
    const entry = held.get(id);
    held.delete(id);
    if (entry) fs.rmSync(entry.file, { force: true });
  };
  const sweep = () => {
    for (const [id, entry] of held) {
      if (entry.inUse) continue;
      if (now() - entry.atMs > DOWNLOAD_KEEP_MS || (entry.upload !== null && now() - entry.sinceMs > UPLOAD_LIFE_MS)) drop(id);
    }
  };
  // Unref'd: a held file never keeps the process alive; close() stops it.
  const timer = setInterval(sweep, options.sweepEveryMs ?? SWEEP_EVERY_MS);
  timer.unref();
  const add = (entry: Held): string => {
    sweep();
    const id = randomBytes(32).toString('base64url');
    held.set(id, entry);
    // One in use stays: its import reads it now; it goes once used up, or at the next sweep.
    const mine = [...held]
      .filter(([, other]) => other.actor === entry.actor && other.kind === entry.kind && !other.inUse)
      .map(([key]) => key);
    for (const key of mine.slice(0, Math.max(0, mine.length - HELD_PER_ACTOR[entry.kind]))) drop(key);
    return id;
  };
  const find = (id: string, actor: string, kind: Held['kind']): Held | null => {
    sweep();
    if (!ID.test(id)) return null;
    const entry = held.get(id);
    return entry && entry.actor === actor && entry.kind === kind ? entry : null;
  };
  return {
    permits,
    newFile(extension) {
      if (own === null) {
        fs.mkdirSync(root, { recursive: true, mode: 0o700 });
        own = makeOwnedWorkDir(root, 'backend-');
      }
      return path.join(own.path, `${randomBytes(16).toString('hex')}${extension}`);
    },
    offer(actor, file, fileName) {
      return add({ actor, kind: 'download', file, fileName, upload: null, atMs: now(), sinceMs: now(), inUse: false });
    },
    take(id, actor) {
      const entry = find(id, actor, 'download');
      if (entry === null) return null;
      // Taken now, served once: the file is removed once its answer has been sent (the server's part).
      held.delete(id);
      return { file: entry.file, fileName: entry.fileName };
    },
    receive(actor, declared) {
      sweep();
      if (receiving.has(actor) || receiving.size >= MAX_UPLOADS_RECEIVING) return { refused: 'busy' };
      if (usedBytes() + declared > budget) return { refused: 'budget' };
      const othersDeclared = [...receiving.values()].reduce((sum, bytes) => sum + bytes, 0);
      receiving.set(actor, declared);
      let released = false;
      return {
        othersDeclared,
        release: () => {
          if (!released) receiving.delete(actor);
          released = true;
        },
      };
    },
    hold(actor, kind, upload) {
      const at = now();
      return add({ actor, kind, file: upload.file, fileName: upload.fileName, upload: { ...upload }, atMs: at, sinceMs: at, inUse: false });
    },
    use(id, actor, kind) {
      const entry = find(id, actor, kind);
      if (entry === null || entry.upload === null) return null;
      if (entry.inUse) return 'busy';
      entry.inUse = true;
      let done = false;
      return {
        upload: { ...entry.upload },
        done: () => {
          if (done) return;
          done = true;
          entry.inUse = false;
          entry.atMs = now();
        },
      };
    },
    describe(id) {
      const upload = ID.test(id) ? held.get(id)?.upload : null;
      return upload ? { fileName: upload.fileName, sha256: upload.sha256 } : null;
    },
    drop,
    sweep,
    maxBytes: (kind) => limits[kind],
    get usedBytes() {
      return usedBytes();
    },
    close() {
      clearInterval(timer);
      for (const id of [...held.keys()]) drop(id);
      own?.remove();
      own = null;
    },
  };
}

/**
 * Runs `work` with the upload of `kind` held under `id` for `actor`, marked in use meanwhile
 * (never swept nor pushed out); `gone()` thrown when it is not held for them, UPLOAD_BUSY
 * while another call uses it (a second tab importing the same upload). The handlers' one way
 * to use an upload.
 */
export async function withHeldUpload<T>(
  files: OneTimeFiles,
  id: string,
  actor: string,
  kind: UploadKind,
  gone: () => ApiError,
  work: (upload: Upload) => Promise<T>,
): Promise<T> {
  const used = files.use(id, actor, kind);
  if (used === null) throw gone();
  if (used === 'busy')
    throw new ApiError(
      'UPLOAD_BUSY',
      'This upload is being used by another request (another tab verifying or importing it).',
      'Wait until that request is answered, then try again.',
    );
  try {
    return await work(used.upload);
  } finally {
    used.done();
  }
}

/** An error about an upload names it as its sender knows it, never by where the backend keeps it. */
export async function namedAsUploaded<T>(upload: { file: string; fileName: string }, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const named = (text: string) => text.split(upload.file).join(upload.fileName);
    throw new ApiError(error.code, named(error.message), named(error.remedy), {
      cause: error,
      ...(error.cliRemedy === undefined ? {} : { cliRemedy: named(error.cliRemedy) }),
    });
  }
}

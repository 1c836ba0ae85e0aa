import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';
import { makeOwnedWorkDir, sweepStaleWorkDirs, type OwnedWorkDir } from '../store/owned-work-dir';

/**
 * Files handed once between the backend and a browser in web mode: a support bundle the
 * backend made for it to download, a bundle it uploaded to be analyzed. Each is taken once,
 * only by the pipe identity it was offered to (`Caller.actor`: one team session, or the
 * loopback launch token), within a few minutes. No path ever comes from the browser: it names
 * a download by its random id, and the file lives in this backend's folder under the data
 * directory's `downloads/`, removed once served, expired, or when the backend stops (a
 * folder a killed backend left is swept by the next one).
 */
export interface OneTimeFiles {
  /** A fresh file path in the downloads folder for a file about to be offered (not created). */
  newFile(extension: string): string;
  /** Offers `file` (already written) to `actor`; answers its id (a download's, an upload's). */
  offer(actor: string, file: string, fileName: string): string;
  /** The file offered under `id` to `actor`, forgotten as it is taken (null: unknown, taken, expired, or someone else's). */
  take(id: string, actor: string): { file: string; fileName: string } | null;
  /**
   * A place for an upload from `actor` about to be received: its release (call it once the
   * upload is offered or dropped), or null while that actor already sends one or
   * MAX_UPLOADS_RECEIVING are being received (each may be a GiB on disk before it is offered).
   */
  receive(actor: string): (() => void) | null;
  close(): void;
}

/** How long an offer waits for its browser. */
export const DOWNLOAD_KEEP_MS = 10 * 60_000;
/** The most offers held at once; the oldest go first. */
const MAX_OFFERS = 16;
/** The most offers one pipe identity holds: beyond it its own oldest goes, never another session's. */
const MAX_OFFERS_PER_ACTOR = 4;
/** Uploads being received at once, all sessions together (one each). */
const MAX_UPLOADS_RECEIVING = 4;
const ID = /^[A-Za-z0-9_-]{43}$/;

/** This backend's folder under `downloads/` (a CLI command beside a serving backend has its own). */
const OWN_DIR = /^backend-[A-Za-z0-9]{6}$/;

export function createOneTimeFiles(options: { root: string; now: () => number }): OneTimeFiles {
  const { root, now } = options;
  // What a backend that died offered and never served is nobody's now.
  sweepStaleWorkDirs(root, OWN_DIR);
  let own: OwnedWorkDir | null = null;
  const offers = new Map<string, { actor: string; file: string; fileName: string; atMs: number }>();
  const receiving = new Set<string>();
  const drop = (id: string) => {
    const offer = offers.get(id);
    offers.delete(id);
    if (offer) fs.rmSync(offer.file, { force: true });
  };
  const expire = () => {
    for (const [id, offer] of offers) if (now() - offer.atMs > DOWNLOAD_KEEP_MS) drop(id);
    while (offers.size > MAX_OFFERS) drop(offers.keys().next().value!);
  };
  return {
    newFile(extension) {
      if (own === null) {
        fs.mkdirSync(root, { recursive: true, mode: 0o700 });
        own = makeOwnedWorkDir(root, 'backend-');
      }
      return path.join(own.path, `${randomBytes(16).toString('hex')}${extension}`);
    },
    offer(actor, file, fileName) {
      const id = randomBytes(32).toString('base64url');
      offers.set(id, { actor, file, fileName, atMs: now() });
      const mine = [...offers].filter(([, offer]) => offer.actor === actor).map(([held]) => held);
      for (const held of mine.slice(0, Math.max(0, mine.length - MAX_OFFERS_PER_ACTOR))) drop(held);
      expire();
      return id;
    },
    take(id, actor) {
      expire();
      if (!ID.test(id)) return null;
      const offer = offers.get(id);
      if (!offer || offer.actor !== actor) return null;
      // Taken now, served once: the file is removed once its answer has been sent (the server's part).
      offers.delete(id);
      return { file: offer.file, fileName: offer.fileName };
    },
    receive(actor) {
      if (receiving.has(actor) || receiving.size >= MAX_UPLOADS_RECEIVING) return null;
      receiving.add(actor);
      let released = false;
      return () => {
        if (!released) receiving.delete(actor);
        released = true;
      };
    },
    close() {
      for (const id of [...offers.keys()]) drop(id);
      own?.remove();
      own = null;
    },
  };
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

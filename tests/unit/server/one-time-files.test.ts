import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createOneTimeFiles,
  DOWNLOAD_KEEP_MS,
  UPLOAD_LIFE_MS,
  withHeldUpload,
  type OneTimeFiles,
  type UploadKind,
} from '../../../electron/backend/server/one-time-files';
import { ApiError } from '../../../electron/contract';
import { makeWaitFor } from '../../support/wait-for';

/**
 * The files a web-mode backend offers once (downloads, uploads): one session's offers never
 * push out another's, and a session sends one upload at a time (each may be a GiB on disk).
 */

let root = '';
let files: OneTimeFiles;
let clock = 1_000;
const waitFor = makeWaitFor({ timeoutMs: 5_000, pollMs: 10 });

beforeEach(() => {
  clock = 1_000;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'one-time-files-'));
  files = createOneTimeFiles({ root: path.join(root, 'downloads'), now: () => clock, sweepEveryMs: 20, budgetBytes: 1_000 });
});

afterEach(() => {
  files.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function offerFile(actor: string): { id: string; file: string } {
  const file = files.newFile('.tar');
  fs.writeFileSync(file, actor, { mode: 0o600 });
  return { id: files.offer(actor, file, 'x.tar'), file };
}

function holdUpload(actor: string, kind: UploadKind, sizeBytes = actor.length): { id: string; file: string } {
  const file = files.newFile('.bin');
  fs.writeFileSync(file, actor, { mode: 0o600 });
  return { id: files.hold(actor, kind, { file, fileName: 'x.bin', sha256: '0'.repeat(64), sizeBytes }), file };
}

/** Uses the upload once (as a verify or review does) and answers what it found. */
function peek(id: string, actor: string, kind: UploadKind) {
  const used = files.use(id, actor, kind);
  if (used === null || used === 'busy') return used;
  used.done();
  return used.upload;
}

/** A place to receive, or why none is given. */
function receive(actor: string, declared = 0): (() => void) | 'busy' | 'budget' {
  const answer = files.receive(actor, declared);
  return 'refused' in answer ? answer.refused : answer.release;
}

describe('one-time files', () => {
  it("keeps a session's offer while another session offers many: the other's own oldest go", () => {
    const victim = offerFile('web:session-1');
    const flood = Array.from({ length: 20 }, () => offerFile('web:session-2'));
    // The flooding session keeps only its newest few; the files of the ones dropped are gone.
    const kept = flood.filter(({ file }) => fs.existsSync(file));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(4);
    expect(kept).toEqual(flood.slice(flood.length - kept.length));
    expect(files.take(victim.id, 'web:session-1')).toEqual({ file: victim.file, fileName: 'x.tar' });
  });

  it('receives one upload per session at a time, and a few in all', () => {
    const first = receive('web:session-1');
    expect(typeof first).toBe('function');
    expect(receive('web:session-1')).toBe('busy');
    const others = ['web:session-2', 'web:session-3', 'web:session-4'].map((actor) => receive(actor));
    expect(others.every((release) => typeof release === 'function')).toBe(true);
    expect(receive('web:session-5')).toBe('busy');
    (first as () => void)();
    (first as () => void)(); // released twice counts once
    expect(typeof receive('web:session-5')).toBe('function');
    expect(receive('web:session-1')).toBe('busy');
  });

  it('keeps one byte budget for every session together: held uploads and those being received (their declared size)', () => {
    // Budget 1000 bytes: 400 held by one session, 500 being received by another.
    holdUpload('web:session-1', 'bundle', 400);
    const receiving = files.receive('web:session-2', 500);
    expect('refused' in receiving).toBe(false);
    if ('refused' in receiving) return;
    // A third session's 200 bytes would pass it, though it holds nothing of its own.
    expect(receive('web:session-3', 200)).toBe('budget');
    expect(files.usedBytes).toBe(900);
    // The disk must hold what the others being received may still write.
    const third = files.receive('web:session-3', 100);
    expect(third).toMatchObject({ othersDeclared: 500 });
    receiving.release();
    expect(files.usedBytes).toBe(500);
    expect(typeof receive('web:session-4', 400)).toBe('function');
  });

  it('never sweeps nor pushes out an upload in use, refuses a second use at once, and keeps none past its life however often used', async () => {
    const first = holdUpload('web:session-1', 'bundle');
    const used = files.use(first.id, 'web:session-1', 'bundle');
    expect(used).not.toBeNull();
    expect(used).not.toBe('busy');
    // A second tab importing the same upload at once: refused, through the handlers' helper too.
    expect(files.use(first.id, 'web:session-1', 'bundle')).toBe('busy');
    await expect(
      withHeldUpload(
        files,
        first.id,
        'web:session-1',
        'bundle',
        () => new ApiError('BUNDLE_UPLOAD_GONE', 'gone', 'again'),
        async () => 1,
      ),
    ).rejects.toMatchObject({ code: 'UPLOAD_BUSY' });
    // Its own cap (two bundles) reached twice over while it is in use: the others go, it stays.
    holdUpload('web:session-1', 'bundle');
    holdUpload('web:session-1', 'bundle');
    holdUpload('web:session-1', 'bundle');
    expect(fs.existsSync(first.file)).toBe(true);
    // A long import: past ten minutes unused, the sweep leaves it.
    clock += DOWNLOAD_KEEP_MS + 1_000;
    files.sweep();
    expect(fs.existsSync(first.file)).toBe(true);
    (used as { done: () => void }).done();
    expect(peek(first.id, 'web:session-1', 'bundle')).not.toBeNull();
    // Verified again every few minutes: still gone once its life is over.
    const since = clock;
    while (clock - since <= UPLOAD_LIFE_MS) {
      clock += DOWNLOAD_KEEP_MS / 2;
      peek(first.id, 'web:session-1', 'bundle');
    }
    expect(peek(first.id, 'web:session-1', 'bundle')).toBeNull();
    expect(fs.existsSync(first.file)).toBe(false);
  });

  it("keeps every session's files while many sessions hold their most: no shared cap evicts another's", () => {
    // Twenty sessions each at their own cap of downloads: more than the old shared cap of 16.
    const sessions = Array.from({ length: 20 }, (_, i) => `web:session-${i}`);
    const offered = sessions.map((actor) => Array.from({ length: 4 }, () => offerFile(actor)));
    for (const [i, actor] of sessions.entries()) {
      for (const { id, file } of offered[i]!) expect(files.take(id, actor)).toEqual({ file, fileName: 'x.tar' });
    }
  });

  it("holds uploads by kind, for their session only, each kind capped on its own (a session's own oldest goes)", () => {
    const config = holdUpload('web:session-1', 'config');
    const bundles = Array.from({ length: 3 }, () => holdUpload('web:session-1', 'bundle'));
    // Another session, and another kind, do not find it.
    expect(peek(config.id, 'web:session-2', 'config')).toBeNull();
    expect(peek(config.id, 'web:session-1', 'bundle')).toBeNull();
    expect(files.take(config.id, 'web:session-1')).toBeNull();
    // Used again and again until dropped.
    expect(peek(config.id, 'web:session-1', 'config')).toMatchObject({ file: config.file, fileName: 'x.bin' });
    expect(peek(config.id, 'web:session-1', 'config')).not.toBeNull();
    // Three bundles: the oldest went, the config upload did not.
    expect(bundles.map(({ id }) => peek(id, 'web:session-1', 'bundle') !== null)).toEqual([false, true, true]);
    expect(fs.existsSync(bundles[0]!.file)).toBe(false);
    files.drop(config.id);
    expect(peek(config.id, 'web:session-1', 'config')).toBeNull();
    expect(fs.existsSync(config.file)).toBe(false);
  });

  it('removes a file unused for ten minutes by its timer, with no call to find it: a use starts its time again', async () => {
    const used = holdUpload('web:session-1', 'config');
    const idle = holdUpload('web:session-1', 'bundle');
    const download = offerFile('web:session-2');
    clock += DOWNLOAD_KEEP_MS - 1_000;
    expect(peek(used.id, 'web:session-1', 'config')).not.toBeNull();
    clock += 2_000;
    // No call is made: the sweep on its timer removes the idle ones' files.
    await waitFor('the idle files removed', () => !fs.existsSync(idle.file) && !fs.existsSync(download.file));
    expect(fs.existsSync(used.file)).toBe(true);
    expect(peek(used.id, 'web:session-1', 'config')).not.toBeNull();
    expect(peek(idle.id, 'web:session-1', 'bundle')).toBeNull();
  });

  it('limits each kind of upload on its own: a configuration file to 32 MiB', () => {
    expect(files.maxBytes('config')).toBe(32 * 1024 * 1024);
    expect(files.maxBytes('support')).toBeGreaterThanOrEqual(1024 ** 3);
    expect(files.maxBytes('bundle')).toBeGreaterThanOrEqual(4 * 1024 ** 3);
  });
});

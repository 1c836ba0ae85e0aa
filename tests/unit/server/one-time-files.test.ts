import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOneTimeFiles, DOWNLOAD_KEEP_MS, type OneTimeFiles, type UploadKind } from '../../../electron/backend/server/one-time-files';
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
  files = createOneTimeFiles({ root: path.join(root, 'downloads'), now: () => clock, sweepEveryMs: 20 });
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

function holdUpload(actor: string, kind: UploadKind): { id: string; file: string } {
  const file = files.newFile('.bin');
  fs.writeFileSync(file, actor, { mode: 0o600 });
  return { id: files.hold(actor, kind, { file, fileName: 'x.bin', sha256: '0'.repeat(64), sizeBytes: actor.length }), file };
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
    const first = files.receive('web:session-1');
    expect(first).not.toBeNull();
    expect(files.receive('web:session-1')).toBeNull();
    const others = ['web:session-2', 'web:session-3', 'web:session-4'].map((actor) => files.receive(actor));
    expect(others.every((release) => release !== null)).toBe(true);
    expect(files.receive('web:session-5')).toBeNull();
    first!();
    first!(); // released twice counts once
    expect(files.receive('web:session-5')).not.toBeNull();
    expect(files.receive('web:session-1')).toBeNull();
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
    expect(files.upload(config.id, 'web:session-2', 'config')).toBeNull();
    expect(files.upload(config.id, 'web:session-1', 'bundle')).toBeNull();
    expect(files.take(config.id, 'web:session-1')).toBeNull();
    // Used again and again until dropped.
    expect(files.upload(config.id, 'web:session-1', 'config')).toMatchObject({ file: config.file, fileName: 'x.bin' });
    expect(files.upload(config.id, 'web:session-1', 'config')).not.toBeNull();
    // Three bundles: the oldest went, the config upload did not.
    expect(bundles.map(({ id }) => files.upload(id, 'web:session-1', 'bundle') !== null)).toEqual([false, true, true]);
    expect(fs.existsSync(bundles[0]!.file)).toBe(false);
    files.drop(config.id);
    expect(files.upload(config.id, 'web:session-1', 'config')).toBeNull();
    expect(fs.existsSync(config.file)).toBe(false);
  });

  it('removes a file unused for ten minutes by its timer, with no call to find it: a use starts its time again', async () => {
    const used = holdUpload('web:session-1', 'config');
    const idle = holdUpload('web:session-1', 'bundle');
    const download = offerFile('web:session-2');
    clock += DOWNLOAD_KEEP_MS - 1_000;
    expect(files.upload(used.id, 'web:session-1', 'config')).not.toBeNull();
    clock += 2_000;
    // No call is made: the sweep on its timer removes the idle ones' files.
    await waitFor('the idle files removed', () => !fs.existsSync(idle.file) && !fs.existsSync(download.file));
    expect(fs.existsSync(used.file)).toBe(true);
    expect(files.upload(used.id, 'web:session-1', 'config')).not.toBeNull();
    expect(files.upload(idle.id, 'web:session-1', 'bundle')).toBeNull();
  });

  it('limits each kind of upload on its own: a configuration file to 32 MiB', () => {
    expect(files.maxBytes('config')).toBe(32 * 1024 * 1024);
    expect(files.maxBytes('support')).toBeGreaterThanOrEqual(1024 ** 3);
    expect(files.maxBytes('bundle')).toBeGreaterThanOrEqual(4 * 1024 ** 3);
  });
});

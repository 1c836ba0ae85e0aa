import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { writeUploadBody } from '../../../electron/backend/server/upload-body';
import { watchUploadRate } from '../../../electron/backend/server/upload-rate-watchdog';

/**
 * A stalled or trickling upload is cut by its rate, not by a time for the whole upload (Node's
 * request timeout cut any upload past five minutes): the writer stops, the partial file goes,
 * and the error says why.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('an upload too slow', () => {
  it('is stopped with UPLOAD_TOO_SLOW once a window brings less than the minimum, its partial file removed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-rate-'));
    dirs.push(dir);
    const file = path.join(dir, 'upload.bin');
    const body = new PassThrough();
    // A tiny window for the test; the rate asked is far above what a stalled sender sends.
    const watch = watchUploadRate({ minBytesPerSecond: 1024 * 1024, windowMs: 50 });
    const written = writeUploadBody(body, file, 10_000, watch);
    body.write(Buffer.alloc(100));
    try {
      await expect(written).rejects.toMatchObject({ code: 'UPLOAD_TOO_SLOW' });
    } finally {
      watch.stop();
      body.destroy();
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('lets an upload that keeps up arrive whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-rate-'));
    dirs.push(dir);
    const body = new PassThrough();
    const watch = watchUploadRate({ minBytesPerSecond: 1, windowMs: 60_000 });
    const written = writeUploadBody(body, path.join(dir, 'upload.bin'), 4, watch);
    body.end(Buffer.from('abcd'));
    await expect(written).resolves.toMatchObject({ sizeBytes: 4 });
    watch.stop();
  });
});

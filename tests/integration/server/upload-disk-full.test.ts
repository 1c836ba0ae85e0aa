import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUploadSpace, writeUploadBody } from '../../../electron/backend/server/upload-body';
import { makeTempDir } from '../../support/temp-dir';

/**
 * An upload written to a disk that fills (a real 4 MiB tmpfs): a clear UPLOAD_NO_SPACE and no
 * partial file left; an upload that does not fit is refused before a byte is read; one that
 * fits is written whole, hashed as it was written.
 */

let tmp: ReturnType<typeof makeTempDir>;
let disk = '';
let mounted = false;

beforeAll(() => {
  tmp = makeTempDir('upload-disk-full-');
  disk = path.join(tmp.path, 'disk');
  fs.mkdirSync(disk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
  mounted = true;
});

afterAll(() => {
  if (mounted) execFileSync('umount', [disk]);
  tmp?.remove();
});

/** `total` bytes in chunks of 64 KiB, made as they are read (never held whole). */
function body(total: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const size = Math.min(64 * 1024, total - sent);
      sent += size;
      this.push(Buffer.alloc(size, sent % 251));
    },
  });
}

describe('an upload and the disk it is written to', () => {
  it('a disk that fills while writing: UPLOAD_NO_SPACE, the partial file removed', async () => {
    const file = path.join(disk, 'big.sutazai-bundle');
    const declared = 8 * 1024 * 1024;
    const refused = await writeUploadBody(body(declared), file, declared).then(
      () => null,
      (error: { code: string; message: string }) => error,
    );
    expect(refused?.code).toBe('UPLOAD_NO_SPACE');
    expect(refused?.message).toContain('filled up');
    expect(fs.readdirSync(disk)).toEqual([]);
  });

  it('an upload larger than the free space is refused before it is read', async () => {
    const refused = await checkUploadSpace(disk, 8 * 1024 * 1024).then(
      () => null,
      (error: { code: string; message: string }) => error,
    );
    expect(refused?.code).toBe('UPLOAD_NO_SPACE');
    expect(refused?.message).toMatch(/has \d+ MiB free, too little for this upload of 8 MiB/);
  });

  it('one shorter than it said is refused and removed; one that fits is written whole with its SHA-256', async () => {
    const short = path.join(disk, 'short.bin');
    const cut = await writeUploadBody(body(1024 * 1024), short, 2 * 1024 * 1024).then(
      () => null,
      (error: { code: string }) => error.code,
    );
    expect(cut).toBe('UPLOAD_INCOMPLETE');
    expect(fs.existsSync(short)).toBe(false);
    const file = path.join(disk, 'fits.bin');
    const written = await writeUploadBody(body(1024 * 1024 + 7), file, 1024 * 1024 + 7);
    expect(written).toEqual({ sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), sizeBytes: 1024 * 1024 + 7 });
    fs.rmSync(file);
  });
});

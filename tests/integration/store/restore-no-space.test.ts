import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type BackupManifest } from '../../../electron/backend/store/backup-format';
import { restoreBackup } from '../../../electron/backend/store/restore-backup';
import { fileSink, TarWriter } from '../../../electron/backend/bundles/tar-writer';
import { makeTempDir } from '../../support/temp-dir';

/**
 * A restore onto a data directory that is a mount point (a real tmpfs) whose disk fills:
 * wherever it fills — the lock, the staging folder's owner file, the journal, or the
 * unpack — the operator gets RESTORE_NO_SPACE ("nothing was restored"), never an internal
 * error; and the room check counts each file by the disk's blocks, so a backup of many small
 * files is refused before a byte is written rather than passing and then filling the disk.
 */

const tmp = makeTempDir('sutazai-restore-no-space-');
const mounted: string[] = [];

afterAll(() => {
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // Not mounted (its test failed before mounting it): nothing to undo.
    }
  }
  tmp.remove();
});

function tmpfs(name: string, size: string): string {
  const dir = path.join(tmp.path, name, 'vol');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** A backup archive holding only its manifest, which lists `files`: the room check comes before any member is read. */
async function manifestOnlyBackup(name: string, files: BackupManifest['files']): Promise<string> {
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    appVersion: 'test',
    createdAtMs: 0,
    schemaVersion: 1,
    sealedWith: 'none',
    tables: {},
    files,
  };
  const file = path.join(tmp.path, name);
  const handle = await open(file, 'w');
  try {
    const tar = new TarWriter(fileSink(handle));
    const body = Buffer.from(JSON.stringify(manifest));
    await tar.addFile('manifest.json', { mode: 0o600, mtime: 0, size: body.length }, body);
    await tar.finish();
  } finally {
    await handle.close();
  }
  return file;
}

async function restoreError(file: string, dataDir: string): Promise<ApiError> {
  try {
    await restoreBackup({ file, dataDir, force: true, knownSchema: 1_000 });
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('the restore did not refuse');
}

const SHA = 'a'.repeat(64);
const restoresOwn = (dataDir: string) => fs.readdirSync(dataDir).filter((name) => name.startsWith('.sutazai-restore'));

describe('a restore onto a mount whose disk is full', () => {
  it('full before anything is staged (the lock, the owner file): RESTORE_NO_SPACE, nothing left', async () => {
    const dataDir = tmpfs('full', '64k');
    // Filled to the last block: the next byte any file takes is refused.
    const filler = fs.openSync(path.join(dataDir, 'filler'), 'w');
    try {
      const block = Buffer.alloc(4096, 1);
      for (let i = 0; i < 64; i++) {
        try {
          fs.writeSync(filler, block);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    } finally {
      fs.closeSync(filler);
    }
    const backup = await manifestOnlyBackup('small.sutazai-backup', [{ name: 'sutazai.db', size: 1, sha256: SHA }]);

    const error = await restoreError(backup, dataDir);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('RESTORE_NO_SPACE');
    expect(error.message).toContain(dataDir);
    expect(error.message).toContain('nothing was restored');
    expect(restoresOwn(dataDir)).toEqual([]);
  });

  it('many small files that pass a byte count but not the blocks they take: RESTORE_NO_SPACE before a byte is written', async () => {
    const dataDir = tmpfs('blocks', '1m');
    // 600 one-byte files: 600 bytes by their sizes, but 600 blocks of 4 KiB on a 1 MiB (256-block) disk.
    const files = [
      { name: 'sutazai.db', size: 1, sha256: SHA },
      ...Array.from({ length: 600 }, (_, i) => ({ name: `bundles/f${i}.tar`, size: 1, sha256: SHA })),
    ];
    const backup = await manifestOnlyBackup('many.sutazai-backup', files);

    const error = await restoreError(backup, dataDir);
    expect(error.code).toBe('RESTORE_NO_SPACE');
    expect(error.message).toContain('MiB');
    expect(restoresOwn(dataDir)).toEqual([]);
  });
});

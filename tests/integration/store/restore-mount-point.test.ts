import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../electron/backend/store/open-store';
import { runSutazai, runSutazaiAsync } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

/**
 * `sutazai restore` onto a data directory that is a mount point (a Docker volume, a disk of
 * its own; here a real tmpfs): the restore swaps the directory itself, which the kernel
 * refuses for a mount point (EBUSY). It is refused with its own code before anything is
 * unpacked or moved, and the mount's contents stay as they were. Also: the test-only
 * failure points (SUTAZAI_TEST_FAILURE_POINT) do nothing outside tests.
 */

const PASSPHRASE = 'restore mount point test passphrase';
const env = { SUTAZAI_PASSPHRASE: PASSPHRASE, SUTAZAI_LOG_LEVEL: 'silent' };
const tmp = makeTempDir('sutazai-restore-mount-');
const source = path.join(tmp.path, 'source');
const backupFile = path.join(tmp.path, 'site.sutazai-backup');
const mounted: string[] = [];

beforeAll(async () => {
  const first = runSutazai(['hosts', 'list', '--json'], source, env);
  expect(first.code, first.stderr).toBe(0);
  const made = await runSutazaiAsync(['backup', '--out', backupFile, '--json'], source, { env });
  expect(made.code, made.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  // Each mount on its own, lazily (a busy one still goes): one failing must not leave the rest.
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // Not mounted (its test failed before mounting it): nothing to undo.
    }
  }
  tmp.remove();
});

function mountTmpfs(name: string): string {
  const dir = path.join(tmp.path, name, 'vol');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

describe('sutazai restore onto a mount point', () => {
  it('an occupied mount point: refused with RESTORE_TARGET_IS_MOUNT_POINT, its store and files untouched, nothing staged beside it', () => {
    const dataDir = mountTmpfs('occupied');
    openStore({ dataDir }).close();
    fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'mine');
    const before = listing(dataDir);

    const run = runSutazai(['restore', backupFile, '--force'], dataDir, env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/RESTORE_TARGET_IS_MOUNT_POINT/);
    expect(run.stderr).toMatch(/mount point/);
    expect(run.stderr).toContain('a folder inside the mount');
    expect(run.stderr).not.toMatch(/INTERNAL|EBUSY/);
    expect(listing(dataDir)).toEqual(before);
    expect(fs.readFileSync(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(listing(path.dirname(dataDir))).toEqual(['vol']);
    // The store still opens: nothing of it was moved or claimed away.
    openStore({ dataDir }).close();
  });

  it("a bind mount on the same device (its device is its parent's): refused the same way, its files untouched", () => {
    const dataDir = path.join(tmp.path, 'bound', 'vol');
    fs.mkdirSync(dataDir, { recursive: true });
    execFileSync('mount', ['--bind', dataDir, dataDir]);
    mounted.push(dataDir);
    fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'mine');
    const run = runSutazai(['restore', backupFile, '--force'], dataDir, env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/RESTORE_TARGET_IS_MOUNT_POINT/);
    expect(listing(dataDir)).toEqual(['notes.txt']);
    expect(listing(path.dirname(dataDir))).toEqual(['vol']);
  });

  it('an empty mount point: refused the same way, left empty; a folder inside the mount restores', () => {
    const dataDir = mountTmpfs('empty');
    const run = runSutazai(['restore', backupFile, '--json'], dataDir, env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/RESTORE_TARGET_IS_MOUNT_POINT/);
    expect(listing(dataDir)).toEqual([]);
    expect(listing(path.dirname(dataDir))).toEqual(['vol']);

    // The remedy works: a folder inside the mount is on the same device as its parent.
    const inside = path.join(dataDir, 'data');
    const restored = runSutazai(['restore', backupFile, '--json'], inside, env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(listing(inside)).toContain('sutazai.db');
  });
});

describe('SUTAZAI_TEST_FAILURE_POINT', () => {
  it('kills a restore at its step under tests, and is ignored in a production-like environment', () => {
    const killAtStaged = { ...env, SUTAZAI_TEST_FAILURE_POINT: 'restore-staged:SIGKILL' };

    const underTests = runSutazai(['restore', backupFile, '--json'], path.join(tmp.path, 'under-tests'), {
      ...killAtStaged,
      NODE_ENV: 'test',
    });
    expect(underTests.code).toBeNull();

    const production = path.join(tmp.path, 'production');
    const run = runSutazai(['restore', backupFile, '--json'], production, { ...killAtStaged, NODE_ENV: 'production', VITEST: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(listing(production)).toContain('sutazai.db');
  });
});

import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../electron/backend/store/open-store';
import { runSutazai, runSutazaiAsync } from '../../support/run-sutazai';
import { stoppedProcess } from '../../support/stopped-process';
import { makeTempDir } from '../../support/temp-dir';
import { countsWithoutClaim, hostNames, makeOldDirectory, OLD_BUNDLE, OLD_HOST, startSutazai, withoutClaim } from './restore-kill-support';

/**
 * `sutazai restore` onto a data directory that is a mount point (a Docker volume, a disk of
 * its own: here a real tmpfs; a bind mount of the same device: a real bind mount). A mount
 * point cannot be renamed, so the restored tree is staged inside it and swapped in entry by
 * entry under a journal: killed at each step (SUTAZAI_TEST_FAILURE_POINT), the next open
 * leaves the old state whole or the restored one whole, never a mix; the mount stays a mount
 * and nothing of the restore is left in it. Refused only where a replaced entry is itself a
 * mount point. Also: the test-only failure points do nothing outside tests.
 */

const PASSPHRASE = 'restore mount point test passphrase';
// NODE_ENV=test: the CLI heeds SUTAZAI_TEST_FAILURE_POINT only under tests.
const env = { SUTAZAI_PASSPHRASE: PASSPHRASE, SUTAZAI_LOG_LEVEL: 'silent', NODE_ENV: 'test' };
const tmp = makeTempDir('sutazai-restore-mount-');
const source = path.join(tmp.path, 'source');
const backupFile = path.join(tmp.path, 'site.sutazai-backup');
const RESTORED_BUNDLE = 'bundles/sutazai-9.9.9.tar';
const mounted: string[] = [];
const children = new Set<ChildProcess>();
let restoredCounts: Record<string, number>;

beforeAll(async () => {
  const first = runSutazai(['hosts', 'list', '--json'], source, env);
  expect(first.code, first.stderr).toBe(0);
  // A bundle in the backup: the restored tree has two entries (bundles/, sutazai.db), so a kill between them is a real midpoint.
  fs.mkdirSync(path.join(source, 'bundles'));
  fs.writeFileSync(path.join(source, RESTORED_BUNDLE), 'the restored release');
  const made = await runSutazaiAsync(['backup', '--out', backupFile, '--json'], source, { env });
  expect(made.code, made.stderr).toBe(0);
  restoredCounts = withoutClaim((JSON.parse(made.stdout) as { tables: Record<string, number> }).tables);
}, 180_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // Each mount on its own, innermost first, lazily (a busy one still goes): one failing must not leave the rest.
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // Not mounted (its test failed before mounting it): nothing to undo.
    }
  }
  tmp.remove();
});

type MountKind = 'tmpfs' | 'bind';

/** A fresh, empty mount point `<name>/vol`: a tmpfs of its own, or a folder bind-mounted onto itself (same device as its parent). */
function mountPoint(kind: MountKind, name: string): string {
  const dir = path.join(tmp.path, name, 'vol');
  fs.mkdirSync(dir, { recursive: true });
  if (kind === 'tmpfs') execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
  else execFileSync('mount', ['--bind', dir, dir]);
  mounted.push(dir);
  return dir;
}

function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

function stillMounted(dir: string): boolean {
  try {
    execFileSync('mountpoint', ['-q', dir]);
    return true;
  } catch {
    return false;
  }
}

/** The old directory whole: its host, its bundle, no restored bundle. */
function expectOld(dataDir: string): void {
  expect(hostNames(dataDir)).toContain(OLD_HOST);
  expect(fs.readFileSync(path.join(dataDir, OLD_BUNDLE), 'utf8')).toBe('an old release');
  expect(fs.existsSync(path.join(dataDir, RESTORED_BUNDLE))).toBe(false);
}

/** The restored state whole: every table as the backup counted it, its bundle and not the old one. */
function expectRestored(dataDir: string): void {
  expect(hostNames(dataDir)).not.toContain(OLD_HOST);
  expect(countsWithoutClaim(dataDir)).toEqual(restoredCounts);
  expect(fs.readFileSync(path.join(dataDir, RESTORED_BUNDLE), 'utf8')).toBe('the restored release');
  expect(fs.existsSync(path.join(dataDir, OLD_BUNDLE))).toBe(false);
}

/** The operator's files untouched, nothing of a restore left inside or beside the mount, and the mount still a mount. */
function expectClean(dataDir: string): void {
  expect(fs.readFileSync(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('mine');
  expect(fs.readFileSync(path.join(dataDir, 'logs', 'control-center.log'), 'utf8')).toBe('an old log line\n');
  expect(listing(dataDir).filter((name) => name.startsWith('.'))).toEqual([]);
  expect(listing(path.dirname(dataDir))).toEqual(['vol']);
  expect(stillMounted(dataDir)).toBe(true);
}

describe('sutazai restore onto a mount point', () => {
  for (const kind of ['tmpfs', 'bind'] as const) {
    it(`an occupied ${kind} mount with --force: the restored store and bundles in place, the operator's files kept, nothing left`, () => {
      const dataDir = makeOldDirectory(mountPoint(kind, `occupied-${kind}`), { bundle: true });
      const run = runSutazai(['restore', backupFile, '--force', '--json'], dataDir, env);
      expect(run.code, run.stderr).toBe(0);
      expect((JSON.parse(run.stdout) as { dataDir: string }).dataDir).toBe(dataDir);
      expectRestored(dataDir);
      expectClean(dataDir);
      // The restored store opens as the app would open it, and holds no claim of the restore's.
      const list = runSutazai(['hosts', 'list', '--json'], dataDir, env);
      expect(list.code, list.stderr).toBe(0);
      expect(countsWithoutClaim(dataDir)).toEqual(restoredCounts);
    });
  }

  it('an occupied mount without --force: RESTORE_TARGET_NOT_EMPTY, nothing moved or staged', () => {
    const dataDir = makeOldDirectory(mountPoint('tmpfs', 'no-force'), { bundle: true });
    const before = listing(dataDir);
    const run = runSutazai(['restore', backupFile], dataDir, env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/RESTORE_TARGET_NOT_EMPTY/);
    expect(listing(dataDir)).toEqual(before);
    expectOld(dataDir);
  });

  it("an empty mount (a fresh volume's lost+found aside) restores without --force", () => {
    const dataDir = mountPoint('tmpfs', 'fresh');
    fs.mkdirSync(path.join(dataDir, 'lost+found'));
    const run = runSutazai(['restore', backupFile, '--json'], dataDir, env);
    expect(run.code, run.stderr).toBe(0);
    expect(listing(dataDir)).toEqual(['bundles', 'lost+found', 'sutazai.db']);
    expect(countsWithoutClaim(dataDir)).toEqual(restoredCounts);
    expect(stillMounted(dataDir)).toBe(true);
  });

  it('a volume without room for the restored copy: RESTORE_NO_SPACE before a byte is written, nothing left', () => {
    const dir = path.join(tmp.path, 'small', 'vol');
    fs.mkdirSync(dir, { recursive: true });
    // Half the backup's size: its files cannot fit.
    const bytes = Math.max(4096, Math.floor(fs.statSync(backupFile).size / 2 / 4096) * 4096);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
    mounted.push(dir);
    const run = runSutazai(['restore', backupFile], dir, env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/RESTORE_NO_SPACE/);
    expect(run.stderr).toContain(`no room on the disk of ${dir}`);
    expect(run.stderr).toMatch(/remedy: Free at least [\d.]+ MiB there/);
    expect(listing(dir)).toEqual([]);
  });

  it('bundles/ bind-mounted inside the data directory: refused with RESTORE_TARGET_IS_MOUNT_POINT naming it, nothing moved', () => {
    const dataDir = makeOldDirectory(mountPoint('tmpfs', 'entry-mounted'), { bundle: true });
    const bundles = path.join(dataDir, 'bundles');
    execFileSync('mount', ['--bind', bundles, bundles]);
    mounted.push(bundles);
    const before = listing(dataDir);
    const run = runSutazai(['restore', backupFile, '--force'], dataDir, env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/RESTORE_TARGET_IS_MOUNT_POINT/);
    expect(run.stderr).toContain(`${bundles} is a mount point of its own`);
    expect(run.stderr).toContain(`umount ${bundles}`);
    expect(run.stderr).not.toMatch(/INTERNAL|EBUSY/);
    expect(listing(dataDir)).toEqual(before);
    expectOld(dataDir);
    // The restore's claim is gone with it: the store opens.
    openStore({ dataDir }).close();
  });
});

describe('a restore onto a mount point killed at each step', () => {
  // Where a kill leaves the data directory once the next open has settled it: before the journal says committed, the old state.
  const cases: Array<[string, 'old' | 'restored']> = [
    ['restore-staged', 'old'],
    ['restore-journal-written', 'old'],
    ['restore-entry-set-aside', 'old'],
    ['restore-set-aside', 'old'],
    ['restore-entry-moved-in', 'old'],
    ['restore-moved-in', 'old'],
    ['restore-swapped', 'restored'],
    ['restore-old-removed', 'restored'],
  ];
  for (const kind of ['tmpfs', 'bind'] as const) {
    for (const [point, expected] of cases) {
      it(`${kind}, killed at ${point}: the ${expected} state whole, nothing left`, async () => {
        const dataDir = makeOldDirectory(mountPoint(kind, `kill-${kind}-${point}`), { bundle: true });
        const { exited } = startSutazai(
          ['restore', backupFile, '--force'],
          dataDir,
          { ...env, SUTAZAI_TEST_FAILURE_POINT: `${point}:SIGKILL` },
          children,
        );
        const end = await exited;
        expect(end.signal, end.stderr).toBe('SIGKILL');

        // The next open of the store (any command) finishes or undoes what the kill left.
        const list = runSutazai(['hosts', 'list', '--json'], dataDir, env);
        expect(list.code, list.stderr).toBe(0);
        if (expected === 'old') expectOld(dataDir);
        else expectRestored(dataDir);
        expectClean(dataDir);

        // And a restore run again completes (once per step: the mount's kind changes nothing after the first check).
        if (kind === 'bind') return;
        const again = runSutazai(['restore', backupFile, '--force', '--json'], dataDir, env);
        expect(again.code, again.stderr).toBe(0);
        expectRestored(dataDir);
        expectClean(dataDir);
      }, 180_000);
    }
  }

  it('a kill while the next open undoes a swap is undone by the open after it', async () => {
    const dataDir = makeOldDirectory(mountPoint('tmpfs', 'kill-rollback'), { bundle: true });
    const restore = startSutazai(
      ['restore', backupFile, '--force'],
      dataDir,
      { ...env, SUTAZAI_TEST_FAILURE_POINT: 'restore-entry-moved-in:SIGKILL' },
      children,
    );
    expect((await restore.exited).signal).toBe('SIGKILL');
    // The restored bundles/ is in place, its store still staged, the old entries aside.
    expect(fs.readFileSync(path.join(dataDir, RESTORED_BUNDLE), 'utf8')).toBe('the restored release');
    expect(fs.existsSync(path.join(dataDir, 'sutazai.db'))).toBe(false);

    const settling = startSutazai(
      ['hosts', 'list'],
      dataDir,
      { ...env, SUTAZAI_TEST_FAILURE_POINT: 'restore-rollback-entry:SIGKILL' },
      children,
    );
    expect((await settling.exited).signal).toBe('SIGKILL');

    const list = runSutazai(['hosts', 'list', '--json'], dataDir, env);
    expect(list.code, list.stderr).toBe(0);
    expectOld(dataDir);
    expectClean(dataDir);
  }, 180_000);

  it('while the restore is between its renames (the store set aside), every open and a second restore are refused', async () => {
    const dataDir = makeOldDirectory(mountPoint('tmpfs', 'between'), { bundle: true });
    const { child, exited } = startSutazai(
      ['restore', backupFile, '--force'],
      dataDir,
      { ...env, SUTAZAI_TEST_FAILURE_POINT: 'restore-set-aside:SIGSTOP' },
      children,
    );
    await stoppedProcess(child.pid!);
    try {
      expect(fs.existsSync(path.join(dataDir, 'sutazai.db'))).toBe(false);
      const list = runSutazai(['hosts', 'list'], dataDir, env);
      expect(list.code).toBe(4);
      expect(list.stderr).toMatch(/DATA_DIR_IN_USE/);
      expect(list.stderr).toContain(`sutazai restore (pid ${child.pid})`);
      const second = runSutazai(['restore', backupFile, '--force'], dataDir, env);
      expect(second.code).toBe(4);
      expect(second.stderr).toMatch(/DATA_DIR_IN_USE/);
      // Neither made a fresh store in the gap.
      expect(fs.existsSync(path.join(dataDir, 'sutazai.db'))).toBe(false);
    } finally {
      child.kill('SIGCONT');
    }
    const end = await exited;
    expect(end.code, end.stderr).toBe(0);
    expectRestored(dataDir);
    expectClean(dataDir);
  }, 180_000);

  it('a journal someone edited to name other paths is refused, nothing moved', () => {
    const dataDir = makeOldDirectory(mountPoint('tmpfs', 'hostile-journal'), { bundle: true });
    const before = listing(dataDir);
    const journal = path.join(dataDir, '.sutazai-restore-journal.json');
    fs.writeFileSync(
      journal,
      JSON.stringify({
        format: 'sutazai-restore-journal',
        version: 1,
        owner: { pid: 999_999_999, startedAt: null },
        staged: '../../etc',
        old: ['../notes.txt'],
        new: ['sutazai.db'],
        committed: false,
      }),
    );
    const list = runSutazai(['hosts', 'list'], dataDir, env);
    expect(list.code, list.stderr).toBe(4);
    expect(list.stderr).toMatch(/RESTORE_INTERRUPTED/);
    expect(list.stderr).toContain('cannot be used');
    expect(listing(dataDir)).toEqual([...before, '.sutazai-restore-journal.json'].sort());
    fs.rmSync(journal);
    expectOld(dataDir);
  });
});

describe('SUTAZAI_TEST_FAILURE_POINT', () => {
  it('kills a restore at its step under tests, and is ignored in a production-like environment', () => {
    const killAtStaged = { ...env, SUTAZAI_TEST_FAILURE_POINT: 'restore-staged:SIGKILL' };

    const underTests = runSutazai(['restore', backupFile, '--json'], path.join(tmp.path, 'under-tests'), killAtStaged);
    expect(underTests.code).toBeNull();

    const production = path.join(tmp.path, 'production');
    const run = runSutazai(['restore', backupFile, '--json'], production, { ...killAtStaged, NODE_ENV: 'production', VITEST: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(listing(production)).toContain('sutazai.db');
  });
});
